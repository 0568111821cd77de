#!/usr/bin/env python3
"""Checks every exchange tests/contract/walk.py recorded against the OpenAPI document with
openapi-core: the request as sent and the response as answered (status, content type, headers,
body; an object may carry no property the document does not name). Lists every error, then
exits 1 if there was one.

Usage: validate.py <openapi.json> <exchanges.jsonl>
"""

import base64
import json
import sys
from urllib.parse import parse_qsl, urlsplit

from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict


def decode(body: dict) -> bytes:
    return body["text"].encode("utf-8") if "text" in body else base64.b64decode(body["base64"])


def mimetype(headers: Headers) -> str:
    return headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


class Request:
    """openapi-core's Request protocol over a recorded exchange."""

    def __init__(self, exchange: dict):
        url = urlsplit(exchange["url"])
        self.host_url = f"{url.scheme}://{url.netloc}"
        self.path = url.path
        self.method = exchange["method"].lower()
        self.body = decode(exchange["request_body"]) or None
        headers = Headers(exchange["request_headers"])
        self.content_type = mimetype(headers) or "application/octet-stream"
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qsl(url.query, keep_blank_values=True)),
            header=headers,
            cookie=ImmutableMultiDict(),
        )


class Response:
    """openapi-core's Response protocol over a recorded exchange."""

    def __init__(self, exchange: dict):
        self.status_code = exchange["status"]
        self.headers = Headers(exchange["response_headers"])
        self.content_type = mimetype(self.headers)
        self.data = decode(exchange["response_body"])


def describe(error: BaseException) -> str:
    """The error with the schema errors openapi-core keeps in its causes."""
    lines = [f"{type(error).__name__}: {error}"]
    cause = error.__cause__
    while cause is not None:
        lines.append(f"  caused by {type(cause).__name__}: {cause}")
        for schema_error in getattr(cause, "schema_errors", ()) or ():
            where = "/".join(str(p) for p in schema_error.absolute_path) or "(root)"
            lines.append(f"    at {where}: {schema_error.message[:300]}")
        cause = cause.__cause__
    return "\n".join(lines)


def main() -> int:
    document, exchanges_path = sys.argv[1], sys.argv[2]
    config = Config(
        # An object may carry only the properties the document names, unless it says otherwise.
        additional_properties_default_policy="forbid",
        extra_media_type_deserializers={
            "application/problem+json": json.loads,
            "text/markdown": lambda data: data.decode("utf-8") if isinstance(data, bytes) else data,
        },
    )
    openapi = OpenAPI.from_file_path(document, config=config)
    with open(exchanges_path, encoding="utf-8") as lines:
        exchanges = [json.loads(line) for line in lines if line.strip()]
    if not exchanges:
        print("validate: no exchanges were recorded", file=sys.stderr)
        return 1
    failures = 0
    for exchange in exchanges:
        request, response = Request(exchange), Response(exchange)
        label = f"[{exchange['step']}] {exchange['method']} {request.path} -> {exchange['status']} {response.content_type}"
        errors = []
        for side, check in (("request", lambda: openapi.iter_request_errors(request)),
                            ("response", lambda: openapi.iter_response_errors(request, response))):
            try:
                errors += [(side, e) for e in check()]
            except Exception as crash:  # openapi-core cannot read that part of the document
                errors.append((side, RuntimeError(f"openapi-core could not check it: {type(crash).__name__}: {crash}")))
        if errors:
            failures += len(errors)
            for side, error in errors:
                print(f"validate: FAIL {label}: {side}: {describe(error)}")
        else:
            print(f"validate: ok   {label}")
    print(f"validate: {len(exchanges)} exchanges, {failures} validation errors")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
