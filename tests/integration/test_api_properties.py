"""Property-based run of the committed openapi.json against the real API, in-process.

Schemathesis generates requests for every operation of the document, valid and invalid ones, and
sends them through the local server's WSGI app (infra.local.server.wsgi_app) to the API function on
the local runtime: first signed by a partner, then unsigned. No response may be a 5xx, and every
status code and body must be one the document declares; unsigned, everything but the public
certificate verification is refused with 401.
"""

import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, reject, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from zerovisit.api.access import route_path
from zerovisit.domain.signature import signed_headers_v2

from infra.local.runtime import LocalRuntime
from infra.local.server import wsgi_app
from infra.tools.openapi import OPENAPI_FILE

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded and repeatable: 25 generated requests per operation, plus Schemathesis' coverage cases (the
# boundaries of each schema), the same ones on every run, with no deadline per request.
PROPERTY_RUN = settings(
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)

SERVICE_NETWORK = "service-network"
# The partner that owns each route; the service network for the others.
ROUTE_PARTNERS = (
    ("POST", re.compile(r"^/callbacks/payment$"), "payment-platform"),
    ("POST", re.compile(r"^/callbacks/ems$"), "ems"),
    ("GET", re.compile(r"^/shipments/"), "ems"),
    ("POST", re.compile(r"^/reviews/"), "dept-scjg"),
    ("POST", re.compile(r"^/certificates/[^/]+/revocation$"), "operations"),
)
VERIFY = ("GET", "/certificates/{identifier}/verify")
PUBLIC_STATUSES = frozenset({200, 404, 422})


def partner_for(method: str, path: str) -> str:
    return next(
        (partner for m, pattern, partner in ROUTE_PARTNERS if m == method and pattern.match(path)),
        SERVICE_NETWORK,
    )


def signing(app: WsgiApp, runtime: LocalRuntime) -> WsgiApp:
    """The app behind a partner system that signs each request with its secret as it goes out."""

    def signed(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        method = environ["REQUEST_METHOD"]
        path = route_path(environ.get("PATH_INFO") or "/", runtime.stage)
        partner = partner_for(method, path)
        headers = signed_headers_v2(
            partner, runtime.partner_secrets[partner], method, path, body, environ.get("QUERY_STRING", "")
        )
        environ = {**environ, "wsgi.input": io.BytesIO(body)}
        for name, value in headers.items():
            environ[f"HTTP_{name.upper().replace('-', '_')}"] = value
        return app(environ, start_response)

    return signed


class Unsigned:
    """The app as a caller without any partner's secret reaches it: the signature headers missing,
    empty or made up, as Schemathesis generates them for the document's apiKey schemes. Keeps the
    path each request arrived with, to tell the gateway's 404 for a path that matches no route (a
    path parameter that is empty or holds a "/") from the API's own answers."""

    def __init__(self, app: WsgiApp, stage: str) -> None:
        self.app = app
        self.stage = stage
        self.last_path = ""
        self.last_sent_non_json = False

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        self.last_path = route_path(environ.get("PATH_INFO") or "/", self.stage)
        content_type = str(environ.get("CONTENT_TYPE") or "").split(";")[0].strip().lower()
        has_body = int(environ.get("CONTENT_LENGTH") or 0) > 0
        self.last_sent_non_json = has_body and content_type not in ("", "application/json")
        return self.app(environ, start_response)


def matches_route(template: str, path: str) -> bool:
    return re.fullmatch(re.sub(r"\{\w+\}", "[^/]+", template), path) is not None


def not_utf8(case: Case[Any]) -> bool:
    """A body that is not UTF-8 text, which the local server cannot hand to the runtime (it decodes
    every body as UTF-8; API Gateway would pass it base64-encoded)."""
    if not isinstance(case.body, bytes | bytearray):
        return False
    try:
        case.body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@pytest.fixture(scope="module")
def signed_api(runtime: LocalRuntime) -> WsgiApp:
    return signing(wsgi_app(runtime), runtime)


@pytest.fixture(scope="module")
def unsigned_api(runtime: LocalRuntime) -> Unsigned:
    return Unsigned(wsgi_app(runtime), runtime.stage)


@SCHEMA.parametrize()
@PROPERTY_RUN
def test_signed_requests_get_documented_answers_and_never_a_5xx(case: Case[Any], signed_api: WsgiApp) -> None:
    if not_utf8(case):
        reject()
    response = case.call_and_validate(app=signed_api, checks=CHECKS)

    assert response.status_code != 401, f"the signature was refused: {response.text}"


@SCHEMA.parametrize()
@PROPERTY_RUN
def test_unsigned_requests_are_refused_but_on_the_public_route(
    case: Case[Any], unsigned_api: Unsigned
) -> None:
    if not_utf8(case):
        reject()
    response = case.call_and_validate(app=unsigned_api, checks=CHECKS)

    if case.method.upper() != case.operation.method.upper() or not matches_route(
        case.path, unsigned_api.last_path
    ):
        expected = frozenset({404})  # no route: the gateway answers before any function runs
    elif unsigned_api.last_sent_non_json:
        expected = frozenset({415})
    elif (case.operation.method.upper(), case.path) == VERIFY:
        expected = PUBLIC_STATUSES
    else:
        expected = frozenset({401})
    assert response.status_code in expected, (
        f"{case.method} {unsigned_api.last_path!r}: {response.status_code}, expected {sorted(expected)}"
    )


BODY_OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))["paths"].items()
    for method, operation in item.items()
    if "requestBody" in operation
)


@pytest.mark.parametrize(("method", "template"), BODY_OPERATIONS)
def test_a_multipart_content_type_without_a_boundary_is_refused_with_415(
    runtime: LocalRuntime, method: str, template: str
) -> None:
    """Once a 500: Powertools raised ValueError on it while reading the body, unhandled."""
    path = re.sub(r"\{\w+\}", "T-000000000000", template)
    body = '{"level": 5}'
    partner = partner_for(method, path)
    headers = signed_headers_v2(partner, runtime.partner_secrets[partner], method, path, body.encode())

    response = runtime.http(method, path, body, {**headers, "Content-Type": "multipart/form-data"})

    assert response.status == 415, (
        f"{method} {path} with Content-Type: multipart/form-data: {response.status}"
    )


SIGNED_OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))["paths"].items()
    for method, operation in item.items()
    if operation.get("security")
)
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"))
# Anything that looks like unix seconds: any Unicode digits or numerals, and integers near now.
TIMESTAMPS = st.one_of(
    HEADER_TEXT,
    st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=4_000_000_000).map(str),
)


@given(
    operation=st.sampled_from(SIGNED_OPERATIONS),
    partner=st.one_of(st.sampled_from(["service-network", "ems", "dept-scjg"]), HEADER_TEXT),
    timestamp=TIMESTAMPS,
    signature=HEADER_TEXT,
)
@example(
    operation=("GET", "/cases/{case_id}"), partner="service-network", timestamp="9" * 5000, signature="0"
)
@settings(PROPERTY_RUN, max_examples=200)  # cheap requests; 25 do not reach a digit like "፩"
def test_made_up_signatures_are_refused_with_401(
    runtime: LocalRuntime, operation: tuple[str, str], partner: str, timestamp: str, signature: str
) -> None:
    """Once a 500: a timestamp of digits int() does not take ("፩", "²", more than 4300 of
    them) passed str.isdigit() and then raised ValueError, and the API answered 500."""
    method, template = operation
    path = re.sub(r"\{\w+\}", "T-000000000000", template)
    headers = {"X-ZV-Partner": partner, "X-ZV-Timestamp": timestamp, "X-ZV-Signature": signature}

    response = runtime.http(method, path, "{}" if method == "POST" else None, headers)

    assert response.status == 401, f"{method} {path} with {headers!r}: {response.status}"
