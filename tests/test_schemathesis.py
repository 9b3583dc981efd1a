"""Hostile input: schemathesis generates requests for every operation of /v1/openapi.json and
sends them with a valid key to a real server. No answer may be a 5xx, every error answer is in
the envelope of API.md §0, and every answer matches what the document promises for it
(status code, content type, headers, body schema)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from roughy.app import create_app
from tests.conftest import Server

# A TUS PATCH body is plain bytes, sent under its own media type.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _cases() -> list[tuple[str, GenerationMode]]:
    """Every operation of the document (read from the app the server runs) with valid input,
    and with invalid input where it takes any that can be made invalid (a query or a body)."""
    spec = create_app().openapi()
    cases = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            label = f"{method.upper()} {path}"
            cases.append((label, GenerationMode.POSITIVE))
            query = [p for p in operation.get("parameters", []) if p["in"] == "query"]
            if query or "requestBody" in operation:
                cases.append((label, GenerationMode.NEGATIVE))
    return cases


@pytest.fixture(scope="module")
def api_schema(server: Server) -> Any:
    return schemathesis.openapi.from_url(server.base_url + "/v1/openapi.json")


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_every_operation_answers_as_documented(
    label: str, mode: GenerationMode, api_schema: Any, server: Server, api_key: str
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    def answers_as_documented(case: Any) -> None:
        headers = {"Authorization": f"Bearer {api_key}", **(case.headers or {})}
        response = case.call(base_url=server.base_url, headers=headers)
        case.validate_response(response, checks=CHECKS)
        if response.status_code >= 400 and case.method.upper() != "HEAD":
            body = response.json()
            assert set(body) == {"error"}, body
            assert {"code", "message"} <= set(body["error"]), body

    answers_as_documented()


def test_the_document_is_openapi_3_1(server: Server) -> None:
    spec = httpx.get(server.base_url + "/v1/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
