"""schemathesis against the running API (gunicorn on the test database): every operation, generated inputs.

No answer may be a server error, and every answer must match the published OpenAPI document: its
status code, content type, headers and body schema. Bounded to a few dozen examples per operation so
the whole run stays well under a minute or two on a shared machine.
"""

import uuid

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import new_agent

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    ignored_auth,
]
EXAMPLES_PER_OPERATION = 30


PURCHASE_ID = str(uuid.uuid4())


def _add_examples(document: dict, *, drn: str) -> None:
    """One valid request per operation (schemathesis's explicit phase), so the run reaches real answers:
    a confirmed meter, a quote, a float purchase, then reads, a confirmation and a refused reversal of it."""
    bodies = {
        ("/api/v1/quotes", "post"): {"meter": drn, "amount": "100.00"},
        ("/api/v1/purchases", "post"): {
            "id": PURCHASE_ID,
            "meter": drn,
            "amount": "100.00",
            "currency": "KES",
            "payment": {"method": "float"},
        },
        ("/api/v1/faults", "post"): {"meter": drn, "kind": "token_rejected", "meter_message": "Reject"},
        ("/api/v1/purchases/{purchase_id}/reversal", "post"): {"reason": "test"},
    }
    parameters = {"number": drn, "purchase_id": PURCHASE_ID, "from": "2026-01-01", "to": "2026-12-31"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in parameters:
                    parameter["example"] = parameters[parameter["name"]]
            body = bodies.get((path, method))
            if body is not None:
                operation["requestBody"]["content"]["application/json"]["example"] = body


@pytest.mark.e2e
def test_the_live_api_matches_its_schema(api_server, served_kenya_meter):
    _, key = new_agent("Schemathesis", opening="1000000", credit_limit="0")
    document = requests.get(f"{api_server.url}/api/v1/schema/?format=json", timeout=30).json()
    _add_examples(document, drn=served_kenya_meter.drn)
    schema = schemathesis.openapi.from_dict(document)
    headers = {"Authorization": f"Api-Key {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 8
    seen: dict[str, set[int]] = {}

    def call(operation, case) -> None:
        response = case.call_and_validate(base_url=api_server.url, headers=headers, checks=CHECKS, timeout=30)
        seen.setdefault(operation.label, set()).add(response.status_code)

    def run(operation) -> None:
        # First the schema's own examples (the valid request of each operation, _add_examples), every time:
        # left to generation they are drawn only by chance, and the seed moves with this file's text.
        for strategy in operation.get_strategies_from_examples():

            @settings(max_examples=1, deadline=None, database=None, suppress_health_check=list(HealthCheck))
            @given(case=strategy)
            def explicit(case) -> None:
                call(operation, case)

            explicit()

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            call(operation, case)

        check()

    for operation in operations:
        run(operation)
    # The run reached the API's answers, not only its validation errors.
    assert 200 in seen["GET /api/v1/meters/{number}"] and 200 in seen["POST /api/v1/quotes"]
    assert 201 in seen["POST /api/v1/purchases"] and 200 in seen["GET /api/v1/purchases/{purchase_id}"]
    assert 201 in seen["POST /api/v1/faults"] and 200 in seen["GET /api/v1/statement"]
    assert all(codes and max(codes) < 500 for codes in seen.values()), seen
