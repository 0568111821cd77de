#!/usr/bin/env python3
"""The standards Helhed emits, read by independent implementations of them, against a running
service with demo data:

- the citizen's PDF copy of the plan, read with pypdf: a PDF whose fonts are embedded, whose
  text (as pypdf extracts it) is the plan in Danish: "Din plan", the coordinator, Danish dates,
  the letters æøå, and no CPR number;
- the citizen's HTML copy, parsed with Python's own HTML parser: one page in Danish that loads
  nothing from anywhere;
- the plan as FHIR, validated with the FHIR R4B models of fhir.resources (the R4 resources it
  holds are unchanged in R4B): a Bundle of type collection whose references all resolve;
- every event of the feed, read as a CloudEvent with the CloudEvents SDK (its JSON format, which
  checks the required attributes and that every other one is a valid extension name);
- webhooks, verified with the Standard Webhooks reference library (standardwebhooks): a receiver
  here subscribes, every delivery of the department's feed (and of an event caused here, with a
  W3C traceparent) must verify with `Webhook(secret).verify(body, headers)` and parse with the
  CloudEvents SDK's HTTP binding, each event once under its own webhook-id; the same delivery
  with its body changed must fail verification; the caused event carries the caller's trace id.

Environment: HELHED_URL; HELHED_TOKEN_CASEWORKER (karen.social, the demo data's coordinator);
HELHED_TOKEN_SYSTEM (a system account of social). The service must let webhooks reach 127.0.0.1
(HELHED_WEBHOOK_ALLOW=127.0.0.1/32).
"""

import datetime
import html.parser
import http.server
import io
import json
import os
import re
import sys
import threading
import time
import urllib.request

from cloudevents.core.bindings import http as cloudevents_http
from cloudevents.core.formats.json import JSONFormat
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader
from standardwebhooks import Webhook, WebhookVerificationError

URL = os.environ["HELHED_URL"].rstrip("/")
TOKEN = os.environ["HELHED_TOKEN_CASEWORKER"]
MONTHS = "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december"
DANISH_DATE = re.compile(rf"\b\d{{1,2}}\. ({MONTHS}) \d{{4}}\b")
CPR = re.compile(r"\b\d{6}-?\d{4}\b")


class Failed(Exception):
    pass


def get(path: str, accept: str, token: str = TOKEN) -> tuple[str, bytes]:
    request = urllib.request.Request(URL + path, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("Content-Type", ""), response.read()


def check(condition: bool, message: str) -> None:
    if not condition:
        raise Failed(message)


def a_case_with_a_plan() -> str:
    _, body = get("/api/v1/cases?status=active&coordinator=karen.social", "application/json")
    for case in json.loads(body)["items"]:
        _, view = get(f"/api/v1/cases/{case['id']}", "application/json")
        if json.loads(view).get("plan"):
            return case["id"]
    raise Failed("the demo data has no active case of karen.social with a plan")


def pdf(case_id: str, coordinator: str) -> None:
    kind, body = get(f"/api/v1/cases/{case_id}/plan", "application/pdf")
    check(kind == "application/pdf", f"the PDF copy is answered as {kind!r}")
    reader = PdfReader(io.BytesIO(body), strict=True)
    text = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    for expected in ["Din plan", "Det vil du gerne", "Hvem gør hvad", coordinator, "Næste opfølgning"]:
        check(expected in flat, f"the PDF's text lacks {expected!r}: {flat[:400]}")
    check(DANISH_DATE.search(flat) is not None, f"no Danish date in the PDF's text: {flat[:400]}")
    check(all(c in flat for c in "æøå"), "the PDF's text lacks æ, ø or å")
    check(CPR.search(flat) is None, "a CPR-shaped number in the PDF")
    fonts = 0
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            descriptor = (descendants[0].get_object() if descendants else font)["/FontDescriptor"].get_object()
            check(any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")),
                  f"font {font.get('/BaseFont')} is not embedded")
            fonts += 1
    check(fonts > 0, "the PDF uses no font")
    print(f"standards: PDF  {len(reader.pages)} page(s), {len(body)} bytes, {fonts} embedded font use(s), text as expected")


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.external = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag in ("script", "link", "img", "iframe", "object", "embed", "base"):
            self.external.append(tag)
        for name in ("src", "href", "srcset", "action"):
            if name in attrs:
                self.external.append(f"{tag} {name}")

    def handle_data(self, data):
        self.text.append(data)


def page(case_id: str, coordinator: str) -> None:
    kind, body = get(f"/api/v1/cases/{case_id}/plan", "text/html")
    check(kind.startswith("text/html"), f"the HTML copy is answered as {kind!r}")
    parser = Page()
    parser.feed(body.decode("utf-8"))
    check(parser.lang == "da", f"the page's language is {parser.lang!r}")
    check(not parser.external, f"the page loads or links: {parser.external}")
    check("url(" not in body.decode("utf-8"), "the page's style loads something")
    flat = " ".join(" ".join(parser.text).split())
    for expected in ["Din plan", coordinator, "Næste opfølgning"]:
        check(expected in flat, f"the page lacks {expected!r}")
    check(DANISH_DATE.search(flat) is not None, "no Danish date on the page")
    check(CPR.search(flat) is None, "a CPR-shaped number on the page")
    print(f"standards: HTML {len(body)} bytes, lang=da, nothing external, text as expected")


def fhir(case_id: str) -> None:
    kind, body = get(f"/api/v1/cases/{case_id}/plan", "application/fhir+json")
    check(kind.startswith("application/fhir+json"), f"the FHIR answer is {kind!r}")
    data = json.loads(body)
    bundle = Bundle.model_validate(data)  # raises on any FHIR violation
    check(bundle.type == "collection", f"bundle type {bundle.type}")
    urls = {entry.fullUrl for entry in bundle.entry}
    types = sorted(entry.resource.get_resource_type() for entry in bundle.entry)
    for needed in ("CarePlan", "Goal", "CareTeam", "Patient"):
        check(needed in types, f"no {needed} in the bundle: {types}")
    references = re.findall(r'"reference":\s*"([^"]+)"', body.decode("utf-8"))
    unresolved = [r for r in references if r not in urls]
    check(not unresolved, f"references that resolve to no entry: {unresolved}")
    check(CPR.search(body.decode("utf-8")) is None, "a CPR-shaped number in the bundle")
    patient = next(e.resource for e in bundle.entry if e.resource.get_resource_type() == "Patient")
    check([i.system for i in patient.identifier] == ["urn:helhed:citizen"], "the Patient's only identifier is Helhed's")
    print(f"standards: FHIR a valid R4(B) Bundle: {', '.join(types)}; {len(references)} references resolve")


def events() -> None:
    token = os.environ["HELHED_TOKEN_SYSTEM"]
    fmt, count, types, cursor = JSONFormat(), 0, set(), None
    while True:
        _, body = get("/api/v1/events?limit=200" + (f"&after={cursor}" if cursor else ""), "application/json", token)
        page = json.loads(body)
        for item in page["items"]:
            event = fmt.read(None, json.dumps(item).encode())  # raises on anything not a CloudEvent
            check(event.get_specversion() == "1.0", f"specversion {event.get_specversion()}")
            check(event.get_source().startswith("urn:helhed:"), f"source {event.get_source()}")
            check(event.get_subject() == event.get_data()["case_id"], "the subject is the case")
            check(event.get_time() is not None and event.get_datacontenttype() == "application/json", "time, type")
            check(CPR.search(json.dumps(item)) is None, "a CPR-shaped number in an event")
            types.add(event.get_type())
            count += 1
        if not page["items"]:
            break
        cursor = page["next_cursor"]
    check(count > 0, "the feed holds no event")
    print(f"standards: CloudEvents {count} feed events read by the CloudEvents SDK ({len(types)} types)")


def send(method: str, path: str, token: str, body=None, headers=None) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(URL + path, data=data, method=method, headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


class Deliveries(http.server.BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Deliveries.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def feed_count(token: str) -> int:
    count, cursor = 0, None
    while True:
        _, body = get("/api/v1/events?limit=200" + (f"&after={cursor}" if cursor else ""), "application/json", token)
        page = json.loads(body)
        count += len(page["items"])
        if not page["items"]:
            return count
        cursor = page["next_cursor"]


def webhooks(case_id: str) -> None:
    system = os.environ["HELHED_TOKEN_SYSTEM"]
    server = http.server.HTTPServer(("127.0.0.1", 0), Deliveries)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    status, body = send("POST", "/api/v1/subscriptions", system,
                        {"url": f"http://127.0.0.1:{server.server_port}/hook"})
    subscription = json.loads(body)
    secret = subscription["secret"]
    check(status == 201 and re.fullmatch(r"whsec_[A-Za-z0-9+/]{43}=", secret) is not None, f"secret {secret[:6]}…")
    try:
        # An event caused here, by a request that carries a W3C traceparent.
        trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        send("POST", f"/api/v1/cases/{case_id}/participation", TOKEN,
             {"on": datetime.date.today().isoformat(), "form": "phone"},
             {"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
        expected = feed_count(system)
        deadline = time.time() + 60
        while len(Deliveries.received) < expected and time.time() < deadline:
            time.sleep(0.2)
        time.sleep(0.5)  # anything delivered twice would arrive now
        received = list(Deliveries.received)
        check(len(received) == expected, f"{len(received)} deliveries of {expected} feed events")
        webhook, ids, traced = Webhook(secret), set(), 0
        for headers, body in received:
            webhook.verify(body, headers)  # raises WebhookVerificationError
            check(headers["content-type"] == "application/cloudevents+json", headers["content-type"])
            event = cloudevents_http.from_http_event(cloudevents_http.HTTPMessage(headers, body))
            check(event.get_specversion() == "1.0" and event.get_subject() == event.get_data()["case_id"], "a CloudEvent")
            check(CPR.search(body.decode()) is None, "a CPR-shaped number in a delivery")
            ids.add(headers["webhook-id"])
            if headers.get("traceparent", "").startswith(f"00-{trace}-"):
                check(event.get_type() == "case.updated" and event.get_subject() == case_id,
                      f"the traced delivery is {event.get_type()} of {event.get_subject()}")
                check(re.fullmatch(rf"00-{trace}-[0-9a-f]{{16}}-01", headers["traceparent"]) is not None
                      and "00f067aa0ba902b7" not in headers["traceparent"], headers["traceparent"])
                traced += 1
        check(len(ids) == len(received), "each delivery under its own webhook-id")
        check(traced == 1, f"{traced} deliveries carry the caller's trace")
        headers, body = received[-1]
        for tampered in (body.replace(b'"1.0"', b'"1.1"'), body + b" ", body[:-1]):
            try:
                webhook.verify(tampered, headers)
                raise Failed("a tampered body verified")
            except WebhookVerificationError:
                pass
        try:
            Webhook("whsec_" + "A" * 43 + "=").verify(body, headers)
            raise Failed("a delivery verified with another secret")
        except WebhookVerificationError:
            pass
    finally:
        send("DELETE", f"/api/v1/subscriptions/{subscription['id']}", system)
        server.shutdown()
    print(f"standards: Standard Webhooks {len(received)} deliveries verified by standardwebhooks and read by the "
          f"CloudEvents SDK, {len(ids)} webhook-ids; tampered bodies refused; the caller's trace carried on")


def main() -> None:
    case_id = a_case_with_a_plan()
    _, view = get(f"/api/v1/cases/{case_id}", "application/json")
    coordinator = json.loads(view)["coordinator"]["name"]
    pdf(case_id, coordinator)
    page(case_id, coordinator)
    fhir(case_id)
    events()
    webhooks(case_id)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # every failure, the validators' own included
        print(f"standards: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    print("standards: every rendering passed its independent reader")
