#!/usr/bin/env python3
"""The README's path, from referral to an adopted plan, walked with nothing but the client that
openapi-python-client generated from openapi/openapi.json (package `helhed_client`).

Operations are found by their operationId (the generated module names follow it) and request
bodies are built with the generated model's `from_dict`, so the walk survives renamed schemas and
tags. Every exchange is recorded as one JSON line (through an httpx event hook on the generated
client's own httpx client) for tests/contract/validate.py to check against the document with
openapi-core. Any unexpected status, undocumented status or unexpected content stops the walk
with a message saying where.

Environment: HELHED_URL; HELHED_TOKEN_CASEWORKER (karen.social, social), HELHED_TOKEN_LEADER
(per.leder, labour_market), HELHED_TOKEN_SYSTEM (a system account of social);
CONTRACT_EXCHANGES: the JSON-lines file to write.
"""

import base64
import datetime
import importlib
import json
import os
import pkgutil
import sys
import time
import typing
import uuid

import helhed_client.api
from helhed_client import AuthenticatedClient
from helhed_client.types import UNSET

URL = os.environ["HELHED_URL"].rstrip("/")
TOKENS = {
    "caseworker": os.environ["HELHED_TOKEN_CASEWORKER"],
    "leader": os.environ["HELHED_TOKEN_LEADER"],
    "system": os.environ["HELHED_TOKEN_SYSTEM"],
}
EXCHANGES = open(os.environ["CONTRACT_EXCHANGES"], "w", encoding="utf-8")
STEP = "start"


class WalkFailed(Exception):
    pass


def fail(message: str) -> typing.NoReturn:
    raise WalkFailed(f"step {STEP!r}: {message}")


def encode(data: bytes) -> dict:
    try:
        return {"text": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(data).decode()}


def record(response) -> None:
    """httpx response hook: one JSON line per exchange, in the order they happened."""
    response.read()
    request = response.request
    EXCHANGES.write(json.dumps({
        "step": STEP,
        "method": request.method,
        "url": str(request.url),
        "request_headers": list(request.headers.multi_items()),
        "request_body": encode(request.content),
        "status": response.status_code,
        "response_headers": list(response.headers.multi_items()),
        "response_body": encode(response.content),
    }) + "\n")
    EXCHANGES.flush()


def client(who: str, accept: str | None = None) -> AuthenticatedClient:
    """A fresh generated client for one principal, raising on any status the document omits."""
    headers = {"Accept": accept} if accept else {}
    return AuthenticatedClient(
        base_url=URL, token=TOKENS[who], headers=headers, raise_on_unexpected_status=True,
        timeout=None, httpx_args={"event_hooks": {"response": [record]}},
    )


_MODULES = {
    info.name.rsplit(".", 1)[-1]: info.name
    for info in pkgutil.walk_packages(helhed_client.api.__path__, helhed_client.api.__name__ + ".")
    if not info.ispkg
}


def operation(operation_id: str):
    if operation_id not in _MODULES:
        fail(f"the generated client has no operation {operation_id!r} (has: {sorted(_MODULES)})")
    return importlib.import_module(_MODULES[operation_id])


def body_model(module):
    """The generated model class of an operation's JSON request body."""
    hint = typing.get_type_hints(module.sync_detailed).get("body")
    candidates = typing.get_args(hint) or (hint,)
    for candidate in candidates:
        if hasattr(candidate, "from_dict"):
            return candidate
    fail(f"{module.__name__}: no generated model for the request body ({hint})")


def call(operation_id: str, who: str, expect: int, *, body: dict | None = None, accept: str | None = None,
         **params):
    """Calls one operation as `who` and insists on the status `expect`; returns the Response."""
    module = operation(operation_id)
    kwargs = dict(params)
    if body is not None:
        kwargs["body"] = body_model(module).from_dict(body)
    signature = typing.get_type_hints(module.sync_detailed)
    if "idempotency_key" in signature:
        kwargs["idempotency_key"] = str(uuid.uuid4())
    try:
        response = module.sync_detailed(client=client(who, accept), **kwargs)
    except Exception as error:  # UnexpectedStatus (undocumented status), or a parse error
        fail(f"{operation_id} as {who}: {type(error).__name__}: {error}")
    if response.status_code != expect:
        fail(f"{operation_id} as {who}: expected {expect}, got {int(response.status_code)}: "
             f"{response.content.decode('utf-8', 'replace')[:2000]}")
    if response.parsed is None:
        fail(f"{operation_id} as {who}: the generated client parsed nothing from {response.content[:200]!r}")
    return response


def markdown_minutes(meeting_id: uuid.UUID) -> str:
    """GET the minutes with `Accept: text/markdown`. The generated operation parses a 200 with the
    first content type the document lists for it (JSON), so this sends the request the generated
    module builds through the generated client's own httpx client, and reads the text itself when
    the generated parser cannot."""
    module = operation("meetings_minutes")
    generated = client("leader", "text/markdown")
    response = generated.get_httpx_client().request(**module._get_kwargs(id=meeting_id))
    if response.status_code != 200:
        fail(f"meetings_minutes (Markdown): expected 200, got {response.status_code}: {response.text[:2000]}")
    if not response.headers.get("content-type", "").startswith("text/markdown"):
        fail(f"asked for Markdown minutes, got {response.headers.get('content-type')!r}")
    try:
        parsed = module._build_response(client=generated, response=response).parsed
    except ValueError:  # json.JSONDecodeError: the generated parser expects JSON
        parsed = None
    if isinstance(parsed, str):
        return parsed
    print("walk:   NOTE the generated client cannot parse text/markdown minutes (it expects JSON): "
          "read from its httpx client")
    return response.text


def as_dict(parsed) -> dict:
    """The generated model as plain JSON values (what the document's schema describes)."""
    if hasattr(parsed, "to_dict"):
        return parsed.to_dict()
    fail(f"expected a generated model, got {type(parsed).__name__}: {str(parsed)[:200]}")


def step(name: str) -> None:
    global STEP
    STEP = name
    print(f"walk: {name}", flush=True)


def main() -> None:
    step("register the citizen")
    citizen = as_dict(call("citizens_register", "caseworker", 201,
                           body={"cpr": "0506781234", "name": "Anne Berg"}).parsed)
    citizen_id = uuid.UUID(citizen["id"])

    step("refer")
    case = as_dict(call("cases_refer", "caseworker", 201, body={
        "citizen_id": str(citizen_id),
        "problem_areas": ["mental_health", "homelessness"],
        "description": "Three departments involved, no common plan.",
        "involved_departments": ["social", "labour_market"],
        "citizen_view": "Wants one person to talk to.",
    }).parsed)
    case_id = uuid.UUID(case["id"])
    if case.get("track") not in (None, "adult"):
        fail(f"a 48-year-old is on the adult track, not {case.get('track')!r}")

    step("screen (leader)")
    screened = as_dict(call("cases_screen", "leader", 200, id=case_id, body={"outcome": "accepted"}).parsed)
    if screened.get("status") != "awaiting_committee":
        fail(f"an accepted case awaits the committee, not {screened.get('status')!r}")

    step("record the citizen's plan consent (caseworker, the referrer)")
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    consent = as_dict(call("consents_give", "caseworker", 201, id=case_id, body={
        "kind": "plan", "given_by": "citizen", "form": "written", "given_on": today,
    }).parsed)
    if consent.get("withdrawn_on") is not None:
        fail(f"a new consent is not withdrawn: {consent}")
    viewed = as_dict(call("cases_get", "caseworker", 200, id=case_id).parsed)
    if viewed.get("consent", {}).get("plan") != "current":
        fail(f"the case view shows the plan consent as current: {viewed.get('consent')}")

    step("find the adult committee")
    committees = as_dict(call("committees_list", "leader", 200).parsed)
    adult = [c for c in committees["items"] if c.get("track") == "adult"]
    if len(adult) != 1:
        fail(f"expected one adult committee in the demo data, saw {committees['items']}")
    committee_id = uuid.UUID(adult[0]["id"])

    step("create a meeting")
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    meeting = as_dict(call("meetings_create", "leader", 201, id=committee_id,
                           body={"scheduled_at": now.isoformat().replace("+00:00", "Z")}).parsed)
    meeting_id = uuid.UUID(meeting["id"])

    step("put the case on the agenda")
    item = as_dict(call("meetings_add_to_agenda", "leader", 201, id=meeting_id,
                        body={"case_id": str(case_id)}).parsed)
    print(f"walk:   agenda position {item.get('position')}")

    step("record the initial decision")
    follow_up = (now + datetime.timedelta(weeks=6)).date().isoformat()
    decision = as_dict(call("meetings_decide", "leader", 201, id=meeting_id, body={
        "case_id": str(case_id), "kind": "initial",
        "members_present": ["per.leder", "karen.social", "hanne.sundhed"],
        "citizen_participation": {"took_part": True, "form": "meeting"},
        "plan": {"goals": [{"area": "housing", "description": "Own flat"}],
                 "interventions": [{"title": "Bostøtte", "responsible_department": "social"}]},
        "coordinator": {"sub": "karen.social", "name": "Karen Vinther", "department": "social"},
        "budget_frame_ore": 4000000, "follow_up_on": follow_up,
    }).parsed)
    print(f"walk:   plan version {decision.get('plan_version')}")

    step("read the plan (caseworker)")
    plan = as_dict(call("plans_current", "caseworker", 200, id=case_id).parsed)
    if plan.get("version") != 1 or [g.get("description") for g in plan.get("goals", [])] != ["Own flat"]:
        fail(f"expected version 1 with the goal 'Own flat': {plan}")

    step("read the minutes as JSON")
    minutes = call("meetings_minutes", "leader", 200, id=meeting_id, accept="application/json")
    content_type = minutes.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        fail(f"asked for JSON minutes, got {content_type!r}")
    parsed = minutes.parsed
    if isinstance(parsed, str):
        # The client generated from a document that gives the minutes as text/markdown only hands
        # back text; the JSON is still what the service sent (validate.py checks it is documented).
        parsed = json.loads(parsed)
        print("walk:   NOTE the generated client returns the JSON minutes as text (not a model)")
    else:
        parsed = as_dict(parsed)
    if str(case_id) not in json.dumps(parsed):
        fail(f"the minutes do not mention the case: {json.dumps(parsed)[:500]}")

    step("read the minutes as Markdown")
    text = markdown_minutes(meeting_id)
    if not text.lstrip().startswith("#") or ("Own flat" not in text and "Bostøtte" not in text):
        fail(f"the Markdown minutes lack a heading or the decision: {text[:500]!r}")

    step("spend as the coordinator")
    receipt = as_dict(call("budget_spend", "caseworker", 201, id=case_id, body={
        "amount_ore": 150000, "category": "transport", "description": "Buskort, 3 måneder",
    }).parsed)
    print(f"walk:   receipt {json.dumps(receipt, ensure_ascii=False)[:200]}")

    step("read the event feed (system)")
    # The feed shows an event once every transaction older than its own has ended, so a client
    # keeps its cursor and asks again: here for at most 20 s.
    wanted = ["case.referred", "case.screened", "consent.given", "decision.recorded", "plan.adopted", "budget.spent"]
    seen, cursor, deadline = [], UNSET, time.monotonic() + 20
    while True:
        page = as_dict(call("events_list", "system", 200, limit=200, after=cursor).parsed)
        seen += [e["type"] for e in page["items"] if e.get("subject") == str(case_id)]
        if page.get("next_cursor"):
            cursor = page["next_cursor"]
        missing = [t for t in wanted if t not in seen]
        if not missing:
            break
        if time.monotonic() > deadline:
            fail(f"after 20 s the feed still lacks {missing} for the case (saw {seen})")
        if not page["items"]:
            time.sleep(0.25)
    print(f"walk:   the case's events: {', '.join(seen)}")


if __name__ == "__main__":
    try:
        main()
    except WalkFailed as error:
        print(f"walk: FAILED: {error}", file=sys.stderr)
        sys.exit(1)
    finally:
        EXCHANGES.close()
    print("walk: the README path passed with the generated client")
