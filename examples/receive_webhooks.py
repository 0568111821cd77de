#!/usr/bin/env python3
"""A departmental system's webhook receiver, as one would write it: subscribe to Helhed, then
take each delivery only when its Standard Webhooks signature verifies, read it as a CloudEvent,
drop a repeat by its webhook-id (delivery is at least once), and print it with its trace id.

    pip install -r examples/requirements.txt
    python3 examples/receive_webhooks.py

It listens on 127.0.0.1 (plain http: Helhed must list 127.0.0.1/32 in HELHED_WEBHOOK_ALLOW; a
real receiver is https). Settings (environment), besides those of follow_feed.py (HELHED_URL,
HELHED_ISSUER, HELHED_SECRET, HELHED_DEPT, HELHED_AUDIENCE), which mint the system token that
subscribes:
  HELHED_RECEIVER_PORT   the port to listen on (default: any free one)
  HELHED_WEBHOOK_SECRET  a subscription's whsec_ secret: receive for it and do not subscribe
  HELHED_RECEIVER_EVENTS stop after this many events (default: run until Ctrl-C)
The subscription stays when the receiver stops: DELETE /api/v1/subscriptions/{id} ends it.
"""

import http.server
import os
import sys
import uuid

from cloudevents.core.bindings import http as cloudevents_http
from standardwebhooks import Webhook, WebhookVerificationError

from follow_feed import call, mint  # the token and the API call of the feed example

PORT = int(os.environ.get("HELHED_RECEIVER_PORT", "0"))
EVENTS = int(os.environ.get("HELHED_RECEIVER_EVENTS", "0"))


class Receiver(http.server.BaseHTTPRequestHandler):
    webhook = None  # Webhook(secret), set once the secret is known
    seen = set()  # webhook-ids handled; a real system keeps them with what it did, in one transaction
    events = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        try:
            Receiver.webhook.verify(body, headers)  # webhook-id, -timestamp (±5 min), -signature
        except WebhookVerificationError as refused:
            print(f"refused a delivery: {refused}", flush=True)
            return self.answer(401)
        message_id = headers["webhook-id"]
        if message_id in Receiver.seen:
            print(f"duplicate {message_id} ignored", flush=True)
            return self.answer(204)  # acknowledged, so that Helhed stops sending it
        event = cloudevents_http.from_http_event(cloudevents_http.HTTPMessage(headers, body))
        # traceparent: 00-<trace id>-<Helhed's span>-<flags>; the trace is the caller's that caused the event
        trace = headers.get("traceparent", "").split("-")
        trace_id = trace[1] if len(trace) == 4 else "-"
        print(f"received {event.get_type()} for case {event.get_subject()} "
              f"(event {event.get_id()}, {message_id}, trace {trace_id})", flush=True)
        Receiver.seen.add(message_id)
        Receiver.events += 1
        self.answer(204)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass  # one line per delivery is printed above


def main():
    server = http.server.HTTPServer(("127.0.0.1", PORT), Receiver)
    url = f"http://127.0.0.1:{server.server_port}/webhooks"
    print(f"listening on {url}", flush=True)
    secret = os.environ.get("HELHED_WEBHOOK_SECRET")
    if not secret:
        system = mint("integration-system", ["system"])
        subscription = call("POST", "/subscriptions", system, {"url": url}, idempotency_key=str(uuid.uuid4()))
        secret = subscription["secret"]  # shown only in this answer: keep it like a password
        print(f"subscribed {subscription['id']}", flush=True)
    Receiver.webhook = Webhook(secret)
    try:
        while not EVENTS or Receiver.events < EVENTS:
            server.handle_request()
    except KeyboardInterrupt:
        pass
    server.server_close()


if __name__ == "__main__":
    sys.exit(main())
