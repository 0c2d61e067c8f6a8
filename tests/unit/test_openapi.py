"""openapi.json, the HTTP API's OpenAPI 3.1 document, is the one the code generates."""

import json
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from zerovisit.domain.model import CaseStatus

from infra.local.template import http_routes, load_template
from infra.tools import openapi

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    return openapi.generate()


@pytest.fixture(scope="module")
def committed() -> dict[str, Any]:
    assert openapi.OPENAPI_FILE.exists(), "openapi.json is missing: run `make openapi`"
    document: dict[str, Any] = json.loads(openapi.OPENAPI_FILE.read_text(encoding="utf-8"))
    return document


def operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_the_committed_document_is_the_one_the_code_generates(generated: dict[str, Any]) -> None:
    text = openapi.OPENAPI_FILE.read_text(encoding="utf-8") if openapi.OPENAPI_FILE.exists() else ""
    expected = openapi.render(generated)

    assert text == expected, "openapi.json differs from the code: run `make openapi`\n" + openapi.short_diff(
        text, expected
    )


def test_the_document_is_valid_openapi_3_1(committed: dict[str, Any]) -> None:
    assert committed["openapi"].startswith("3.1.")
    validate(committed)


def test_the_document_has_exactly_the_routes_of_the_template(committed: dict[str, Any]) -> None:
    routes = {(route.method, route.path) for route in http_routes(load_template())}

    assert operations(committed) == routes


def test_every_route_but_verification_needs_the_partner_signature(committed: dict[str, Any]) -> None:
    schemes = committed["components"]["securitySchemes"]
    signature: dict[str, list[str]] = {
        "X-ZV-Partner": [],
        "X-ZV-Timestamp": [],
        "X-ZV-Signature-Version": [],
        "X-ZV-Nonce": [],
        "X-ZV-Signature": [],
    }

    assert {name: (s["type"], s["in"], s["name"]) for name, s in schemes.items()} == {
        name: ("apiKey", "header", name) for name in signature
    }
    for method, path in operations(committed):
        security = committed["paths"][path][method.lower()].get("security")
        if (method, path) == ("GET", "/certificates/{identifier}/verify"):
            assert not security, f"{method} {path} is public"
        else:
            assert security == [signature], f"{method} {path} must be signed"
            assert "401" in committed["paths"][path][method.lower()]["responses"]


OPERATION_IDS = {
    ("POST", "/applications"): "submitApplication",
    ("POST", "/applications/{application_id}/corrections"): "submitCorrection",
    ("GET", "/cases/{case_id}"): "getCase",
    ("GET", "/tasks"): "listTasks",
    ("POST", "/applications/{application_id}/withdrawal"): "withdrawApplication",
    ("POST", "/cases/{case_id}/resume"): "resumeCase",
    ("POST", "/cases/{case_id}/refusal"): "refuseCase",
    ("GET", "/cases"): "listCases",
    ("GET", "/regions/{region}/open-cases"): "listRegionOpenCases",
    ("POST", "/cases/{case_id}/evaluation"): "evaluateCase",
    ("POST", "/reviews/{task_id}/decision"): "decideReview",
    ("POST", "/callbacks/payment"): "confirmPayment",
    ("POST", "/callbacks/ems"): "trackShipment",
    ("GET", "/shipments/{order_id}"): "getShipmentRecipient",
    ("GET", "/reports/3550"): "getReport3550",
    ("GET", "/enterprises/{credit_code}/services"): "listEnterpriseServices",
    ("GET", "/certificates/{identifier}/verify"): "verifyCertificate",
    ("POST", "/certificates/{identifier}/revocation"): "revokeCertificate",
    ("GET", "/holders/{holder_id}/certificates"): "listHolderCertificates",
}


def test_operation_ids_are_stable_names(committed: dict[str, Any]) -> None:
    found = {
        (method, path): committed["paths"][path][method.lower()]["operationId"]
        for method, path in operations(committed)
    }

    assert found == {op: name for op, name in OPERATION_IDS.items() if op in found}
    assert len(found) == len(OPERATION_IDS)


def test_the_case_list_says_which_searches_list_open_cases_only(committed: dict[str, Any]) -> None:
    """Region and due dates are served by indexes of open cases: a caller must know a closed case is
    not missing, only not listed that way."""
    parameters = {
        p["name"]: p.get("description", "") for p in committed["paths"]["/cases"]["get"]["parameters"]
    }

    for name in ("region", "due_from", "due_to"):
        assert "open cases only" in parameters[name], name
    for name in ("applicant", "status"):
        assert "open or closed" in parameters[name], name
    assert all(parameters[name] for name in ("applicant", "status", "step", "overdue"))


def test_every_request_and_answer_is_a_typed_model(committed: dict[str, Any]) -> None:
    for method, path in operations(committed):
        operation = committed["paths"][path][method.lower()]
        success = next(v for k, v in operation["responses"].items() if k.startswith("2"))
        schema = success["content"]["application/json"]["schema"]
        assert "$ref" in schema or "anyOf" in schema, f"{method} {path}: untyped answer {schema}"
        if "requestBody" in operation:
            body = operation["requestBody"]["content"]["application/json"]["schema"]
            assert "$ref" in body, f"{method} {path}: untyped body {body}"


def test_every_refusal_has_the_one_error_shape(committed: dict[str, Any]) -> None:
    error = committed["components"]["schemas"]["ErrorBody"]

    assert error["required"] == ["message"]
    assert set(error["properties"]) == {"message", "problems"}
    for method, path in operations(committed):
        for status, response in committed["paths"][path][method.lower()]["responses"].items():
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method} {path} {status}"


def test_every_route_documents_the_429_of_its_throttling_in_the_template(committed: dict[str, Any]) -> None:
    api = load_template()["Resources"]["HttpApi"]["Properties"]
    default, verify = (
        api["DefaultRouteSettings"],
        api["RouteSettings"]["GET /certificates/{identifier}/verify"],
    )

    for method, path in operations(committed):
        throttled = committed["paths"][path][method.lower()]["responses"]["429"]
        limits = verify if path == "/certificates/{identifier}/verify" else default
        rate, burst = limits["ThrottlingRateLimit"], limits["ThrottlingBurstLimit"]
        expected = f"to {rate} a second, in bursts of at most {burst}"
        assert expected in throttled["description"], f"{method} {path}"
        assert throttled["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert (
        "to 5 a second, in bursts of at most 10"
        in committed["paths"]["/certificates/{identifier}/verify"]["get"]["responses"]["429"]["description"]
    )


def test_the_case_list_status_filter_is_the_case_status_enumeration(committed: dict[str, Any]) -> None:
    [status] = [p for p in committed["paths"]["/cases"]["get"]["parameters"] if p["name"] == "status"]

    assert {"$ref": "#/components/schemas/CaseStatus"} in status["schema"]["anyOf"]
    assert committed["components"]["schemas"]["CaseStatus"]["enum"] == [s.value for s in CaseStatus]


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_every_string_has_a_maximum_length_and_enumerations_their_values(committed: dict[str, Any]) -> None:
    strings = [n for n in walk(committed) if n.get("type") == "string" and "format" not in n]

    assert strings
    assert all("maxLength" in n or "enum" in n or "const" in n for n in strings), [
        n for n in strings if not {"maxLength", "enum", "const"} & n.keys()
    ]
    decision = committed["components"]["schemas"]["Decision"]
    assert decision["enum"] == ["approve", "reject", "needs_correction", "suspend"]


def test_the_document_names_its_servers(committed: dict[str, Any]) -> None:
    urls = [server["url"] for server in committed["servers"]]

    assert urls == ["https://{apiId}.execute-api.{region}.amazonaws.com/{stage}", "http://127.0.0.1:8787/dev"]


def test_the_tool_writes_the_document_and_fails_with_a_diff_on_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "openapi.json"
    monkeypatch.setattr(openapi, "OPENAPI_FILE", target)
    monkeypatch.setattr(openapi, "ROOT", tmp_path)

    assert openapi.main([]) == 1
    assert openapi.main(["--write"]) == 0
    assert openapi.main([]) == 0
    target.write_text(target.read_text(encoding="utf-8").replace('"ZeroVisit API"', '"Renamed"'))
    capsys.readouterr()

    assert openapi.main([]) == 1
    out, err = capsys.readouterr()
    assert '-    "title": "Renamed"' in out
    assert '+    "title": "ZeroVisit API"' in out
    assert "run `make openapi`" in err
