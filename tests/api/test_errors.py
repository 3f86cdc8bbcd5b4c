"""One error shape for the whole API: declared on every operation in the OpenAPI document,
and what 4xx answers actually carry (ninja's validation errors included)."""

from __future__ import annotations

import jsonschema
import pytest

from microcred.api.errors import SCHEMA_NAME

pytestmark = pytest.mark.django_db
API = "/api/v1"
LIST = f"{API}/catalog/micro-credentials"


@pytest.fixture
def openapi(client) -> dict:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.json()


def _error_schema(document: dict, status: int, operation: dict) -> dict:
    declared = operation["responses"][str(status)]["content"]["application/json"]["schema"]
    return {**declared, "components": document["components"]}


def _assert_error(document: dict, operation: dict, response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()
    jsonschema.validate(body, _error_schema(document, status, operation))
    assert body["detail"] and body["code"]
    return body


def _operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_operation_declares_its_error_responses(openapi):
    ref = f"#/components/schemas/{SCHEMA_NAME}"
    assert set(openapi["components"]["schemas"][SCHEMA_NAME]["properties"]) == {
        "detail",
        "code",
        "errors",
    }
    operations = list(_operations(openapi))
    assert len(operations) >= 15
    for path, method, operation in operations:
        expected = {"404", "422"}
        if operation.get("security"):
            expected |= {"401", "403"}
        if method in {"post", "put", "delete"}:
            expected.add("400")
        errors = {s for s in operation["responses"] if s.startswith(("4", "5"))}
        assert expected <= errors, (method, path, expected - errors)
        for status in errors:
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": ref}, (method, path, status)


def test_a_validation_error_matches_the_declared_schema(client, openapi):
    operation = openapi["paths"][LIST]["get"]
    response = client.get(LIST, {"difficulty": "hard", "page": "0"})
    body = _assert_error(openapi, operation, response, 422)

    assert body["code"] == "validation_error"
    fields = {e["field"]: e["message"] for e in body["errors"]}
    assert "foundational" in fields["difficulty.0"]
    assert "greater than or equal to 1" in fields["page"]
    assert "difficulty.0" in body["detail"] and "page" in body["detail"]


def test_a_page_past_the_end_is_a_clear_404_not_a_500(client, openapi):
    operation = openapi["paths"][LIST]["get"]
    for page in ("922337203685477580", "2", str(2**70)):
        body = _assert_error(openapi, operation, client.get(LIST, {"page": page}), 404)
        assert body["code"] == "no_such_page"
        assert f"There is no page {page}: these results have 1 page of 20." == body["detail"]
    assert client.get(LIST, {"page": 1}).json() == {"items": [], "count": 0}


def test_a_bad_token_and_missing_sign_in_answer_in_the_same_shape(client, openapi):
    operation = openapi["paths"][f"{API}/assessment/assignments"]["get"]
    signed_out = _assert_error(openapi, operation, client.get(f"{API}/assessment/assignments"), 401)
    assert "API token" in signed_out["detail"]
    bad = client.get(f"{API}/assessment/assignments", HTTP_AUTHORIZATION="Bearer mct_nothing")
    assert _assert_error(openapi, operation, bad, 401)["code"] == "unauthenticated"


def test_missing_things_and_http_errors_use_the_schema(client, openapi):
    operation = openapi["paths"][f"{API}/catalog/stacks/{{slug}}"]["get"]
    body = _assert_error(openapi, operation, client.get(f"{API}/catalog/stacks/nothing"), 404)
    assert body == {
        "detail": "There is no stack 'nothing' in the catalog.",
        "code": "not_found",
        "errors": [],
    }
