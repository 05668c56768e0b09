"""Schemathesis against the OpenAPI document the node serves: for every operation, a few generated
requests (deterministic seed) as a principal holding every role. No 5xx; every response conforms to
the document (status code and body schema); every error is in the one JSON error form."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from api_live import ALL_ROLES, ApiNode, auth
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

# property-based fuzzing of the API (schemathesis): the full suite runs it, the fast loop does not.
pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def _assert_error_form(response: Any) -> None:
    if response.status_code < 400:
        return
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["code"].isupper() and body["error"]["message"], body


def test_every_operation_conforms(api: ApiNode) -> None:
    schema = schemathesis.openapi.from_url(api.url + "/api/v1/openapi.json")
    base = api.url + "/api/v1"
    headers = auth(ALL_ROLES)
    failures: list[str] = []
    tested = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=5,
            derandomize=True,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(base_url=base, headers=headers, timeout=60)
            case.validate_response(response, checks=CHECKS)
            _assert_error_form(response)

        try:
            run()
        except Exception as exc:  # noqa: BLE001 — collect every operation's failure, then report
            failures.append(f"{operation.label}: {type(exc).__name__}: {str(exc)[:1500]}")
    assert tested >= 35, tested
    assert not failures, "\n\n".join(failures)
