#!/usr/bin/env python3
"""A departmental system's integration, as one would write it: mint a token, register a citizen,
refer their case, then follow Helhed's event feed and print what happens to the case. (To have
the events pushed instead, signed as Standard Webhooks: receive_webhooks.py.)

Run it against `docker compose up` (the defaults) or any Helhed:

    pip install -r examples/requirements.txt
    python3 examples/follow_feed.py

Settings (environment): HELHED_URL (http://localhost:8080), HELHED_ISSUER (helhed-demo),
HELHED_SECRET (the HS256 secret of that issuer in docker/issuers.toml), HELHED_DEPT (social),
HELHED_AUDIENCE (helhed), HELHED_CPR (a fictional CPR number to register).
"""

import base64
import hashlib
import hmac
import json
import os
import sys
import time
import uuid

import requests

URL = os.environ.get("HELHED_URL", "http://localhost:8080").rstrip("/")
ISSUER = os.environ.get("HELHED_ISSUER", "helhed-demo")
SECRET = os.environ.get("HELHED_SECRET", "docker-demo-secret-change-me-0123456789abcdef")
DEPT = os.environ.get("HELHED_DEPT", "social")
AUDIENCE = os.environ.get("HELHED_AUDIENCE", "helhed")
CPR = os.environ.get("HELHED_CPR", "0101851234")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint(sub: str, roles: list) -> str:
    """An HS256 token as the departmental system's own identity provider would issue it."""
    header = {"alg": "HS256", "typ": "JWT"}
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": sub, "aud": AUDIENCE, "iat": now, "exp": now + 600,
              "dept": DEPT, "roles": roles, "name": sub}
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    signature = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(signature)


def call(method: str, path: str, token: str, body=None, idempotency_key=None):
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    for attempt in range(5):
        res = requests.request(method, URL + "/api/v1" + path, json=body, headers=headers, timeout=10)
        if res.status_code != 503:
            break
        # the service asks us to come back: retry (safe for POSTs thanks to the key)
        time.sleep(int(res.headers.get("Retry-After", "1")))
    if res.status_code >= 400:
        problem = res.json()
        sys.exit(f"{method} {path}: {res.status_code} {problem.get('code')}: {problem.get('detail')} {problem.get('errors', '')}")
    return res.json()


def main():
    caseworker = mint("integration-caseworker", ["caseworker"])
    system = mint("integration-system", ["system"])

    # Where the feed stands now, so that we print only what happens from here.
    cursor = call("GET", "/events?limit=200", system).get("next_cursor")
    while True:
        page = call("GET", f"/events?limit=200&after={cursor}", system) if cursor else None
        if not page or not page["items"]:
            break
        cursor = page["next_cursor"]

    citizen = call("POST", "/citizens", caseworker, {"cpr": CPR, "name": "Eksempel Borger"},
                   idempotency_key=str(uuid.uuid4()))
    referral = {
        "citizen_id": citizen["id"],
        "problem_areas": ["mental_health", "homelessness"],
        "description": "Referred by the example integration.",
        "involved_departments": [DEPT],
        "citizen_view": "Wants one contact person.",
    }
    case = call("POST", "/cases", caseworker, referral, idempotency_key=str(uuid.uuid4()))
    print(f"referred case {case['id']} to the {case['track']} committee ({case['committee']['name']})")

    deadline = time.time() + 30
    while time.time() < deadline:
        query = f"/events?limit=50&after={cursor}" if cursor else "/events?limit=50"
        page = call("GET", query, system)
        cursor = page["next_cursor"] or cursor
        for event in page["items"]:
            # each event is a CloudEvent: its subject is the case, its data names the case again
            mine = " (our case)" if event["subject"] == case["id"] else ""
            print(f"event {event['id']} from {event['source']}: {event['type']} case {event['subject']} at {event['time']}{mine}")
            if event["subject"] == case["id"] and event["type"] == "case.referred":
                details = call("GET", f"/cases/{case['id']}", system)
                print(f"case {details['id']} is {details['status']}, referred {details['referral']['referred_at']}")
                return
        time.sleep(0.5)
    sys.exit("the referral's event did not arrive within 30 seconds")


if __name__ == "__main__":
    main()
