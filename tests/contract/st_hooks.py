"""schemathesis hooks for scripts/schemathesis (loaded through SCHEMATHESIS_HOOKS).

`schema_valid_data_is_not_invalid`: a request schemathesis generated as schema-valid (positive
mode) must never be answered 422 with problem code `validation_failed`. schemathesis.toml lets
`positive_data_acceptance` pass a 422 because schema-valid data may still break a rule of the
domain, which the service answers with its own code (outside_target_group, referral_incomplete,
quorum_not_met, not_on_agenda, destination_not_allowed, …). `validation_failed` instead says the
request breaks a rule of its shape, and every such rule must be in the OpenAPI document: the
failure names the fields the service rejected, i.e. what the document does not say.
"""

import json
import pathlib

import jsonschema_rs
import schemathesis
from schemathesis.core.failures import Failure


class UndocumentedValidation(Failure):
    """Schema-valid data answered 422 validation_failed."""

    code = "ST902"
    kind_title = "Schema-valid data rejected as invalid"


def _problem(response) -> dict:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _is_shape_probe(case) -> bool:
    # Coverage-phase probes of the request's shape (wrong method, missing Content-Type, …) are
    # judged by other checks; the built-in positive_data_acceptance skips them too.
    try:
        from schemathesis.specs.openapi.checks import is_unexpected_http_status_case
    except ImportError:  # a later schemathesis: judge every case
        return False
    return is_unexpected_http_status_case(case)


_DOC = json.loads((pathlib.Path(__file__).resolve().parents[2] / "openapi" / "openapi.json").read_text())


def _body_breaks_the_document(case) -> bool:
    # The stateful phase may fill a body from an earlier response (a link), which can add a
    # field the operation's schema does not have while the case still counts as positive: such
    # a body is not schema-valid, so its refusal is right. Judge by the document itself.
    body = getattr(case, "body", None)
    if body is None or type(body).__name__ == "NotSet":
        return False
    operation = _DOC["paths"].get(case.operation.path, {}).get(case.operation.method.lower(), {})
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None:
        return False
    root = {"components": _DOC["components"], "allOf": [schema]}
    return not jsonschema_rs.Draft202012Validator(root, validate_formats=True).is_valid(body)


@schemathesis.check
def schema_valid_data_is_not_invalid(ctx, response, case):
    if response.status_code != 422:
        return None
    meta = case.meta  # revalidated by schemathesis if a hook or a link changed the case
    if meta is None or not meta.generation.mode.is_positive or _is_shape_probe(case):
        return None
    if _body_breaks_the_document(case):
        return None
    problem = _problem(response)
    if problem.get("code") != "validation_failed":
        return None  # a refusal of the domain, which the document cannot and need not describe
    fields = sorted({str(e.get("field")) for e in problem.get("errors") or [] if isinstance(e, dict)})
    details = "; ".join(
        f"{e.get('field')}: {e.get('message')}" for e in problem.get("errors") or [] if isinstance(e, dict)
    ) or str(problem.get("detail"))
    raise UndocumentedValidation(
        operation=case.operation.label,
        message=(
            "The service answered 422 validation_failed to data the OpenAPI document allows.\n"
            f"Rejected fields: {', '.join(fields) or '(none named)'}\n"
            f"Service said: {details}\n"
            "Describe the rule in the document (pattern, length, format, enum, bounds, …) or accept the data."
        ),
    )
