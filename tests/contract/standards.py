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
  checks the required attributes and that every other one is a valid extension name).

Environment: HELHED_URL; HELHED_TOKEN_CASEWORKER (karen.social, the demo data's coordinator);
HELHED_TOKEN_SYSTEM (a system account of social).
"""

import html.parser
import io
import json
import os
import re
import sys
import urllib.request

from cloudevents.core.formats.json import JSONFormat
from fhir.resources.R4B.bundle import Bundle
from pypdf import PdfReader

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


def main() -> None:
    case_id = a_case_with_a_plan()
    _, view = get(f"/api/v1/cases/{case_id}", "application/json")
    coordinator = json.loads(view)["coordinator"]["name"]
    pdf(case_id, coordinator)
    page(case_id, coordinator)
    fhir(case_id)
    events()


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # every failure, the validators' own included
        print(f"standards: FAILED: {type(error).__name__}: {error}", file=sys.stderr)
        sys.exit(1)
    print("standards: every rendering passed its independent reader")
