"""The OpenAPI 3.1 document of the HTTP API, generated from the code of the API function.

The API function's module (functions/api/app.py) is loaded the way the local runtime loads it, and
Powertools builds the document from its routes: each route (zerovisit.api.router) is declared on a
Powertools resolver with the same parameters, constraints, status and answer type, and
``get_openapi_json_schema`` gives typed request and answer models and operationIds. The function
itself does not import Powertools' event handler; only this tool does, for its OpenAPI generation.
What the routes cannot declare is added here, each step marked POST-PROCESSING: the servers, the
partner signature required on every route but certificate verification, the refusals (one shape,
ErrorBody), API Gateway's 429 with each route's throttling from the template, and the bound on
every string.

Run from the project root: python -m infra.tools.openapi [--write]
  --write   write openapi.json at the repository root (``make openapi``)
  (none)    exit 1 with a short diff when the committed openapi.json differs from the code
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import inspect
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.openapi import params
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, SecurityScheme
from zerovisit.api.access import EFFECTLESS, answered_with_the_change, is_public
from zerovisit.api.limits import MAX_BODY_BYTES, MAX_STRING_LENGTH
from zerovisit.api.models import ErrorBody
from zerovisit.api.router import Route, Router

from infra.local.template import ROOT, functions, http_routes, load_template

OPENAPI_FILE = ROOT / "openapi.json"
TITLE = "ZeroVisit API"
VERSION = "1.0.0"
DESCRIPTION = """\
Zero-visit government approvals (不见面审批): applications from the government service network, \
case status, the departments' review decisions, the payment platform's and EMS's callbacks, and \
public verification of electronic certificates.

Every route but `GET /certificates/{identifier}/verify` is called by a partner system and signed \
(signature version 2): `X-ZV-Partner` is the partner's id, `X-ZV-Timestamp` the unix time in seconds \
(within 300 s of the real time), `X-ZV-Signature-Version: 2`, `X-ZV-Nonce` 16 to 64 characters from \
`A-Z a-z 0-9 - _`, fresh for each request, and `X-ZV-Signature` the 64 hex characters of the \
HMAC-SHA256, keyed with the partner's secret, of `"ZV2-HMAC-SHA256" \\n timestamp \\n nonce \\n METHOD \
\\n path \\n canonical query \\n hex SHA-256 of the body`, where the path is the route's path without \
the stage and the canonical query is the query's `name=value` pairs, percent-encoded (RFC 3986), sorted \
and joined with `&`. Signature version 1 (no version header; `timestamp \\n METHOD \\n path \\n body`) \
is accepted until a date set per partner. A POST sent again with the same signature gets the first \
answer (header `X-ZV-Replayed: true`) and has no second effect. A callback (a decision, a payment, \
an EMS status) sent again while the first is still being answered gets the first answer once it is \
written; any other POST gets 409 with a `Retry-After` header: send it again after that many seconds (a \
409 without `Retry-After` is final). A GET is answered afresh.

Every refusal has one shape, `ErrorBody`: a `message` for a person and every `problem` found. Each \
partner sees only what is its own; a record that is not is answered 404.
"""

# The module name the local runtime gives the API function (infra.local.runtime._load_handlers), so
# that in one process both share one module and one Powertools app.
MODULE_PREFIX = "zerovisit_function_"
# cold_start() at import reads these; dummy values stand in for the ones the stack would give.
FUNCTION_ENVIRONMENT = (
    "CASES_TABLE",
    "CATALOG_TABLE",
    "CERTIFICATES_TABLE",
    "EVENT_BUS_NAME",
    "CERTIFICATE_KEY_ID",
    "PARTNER_SECRET_PREFIX",
)
DUMMY_ENVIRONMENT = {name: f"openapi-{name.lower()}" for name in FUNCTION_ENVIRONMENT} | {
    "AWS_DEFAULT_REGION": "us-east-1"
}

# The partner signature (zerovisit.domain.signature): the headers of version 2, all required together.
SIGNATURE_HEADERS = {
    "X-ZV-Partner": "The calling partner's id.",
    "X-ZV-Timestamp": "Unix time in seconds; refused when more than 300 s from the real time.",
    "X-ZV-Signature-Version": "2 (version 1, without this header, only until the partner's date).",
    "X-ZV-Nonce": "16 to 64 characters from A-Z a-z 0-9 - _, fresh for each request.",
    "X-ZV-Signature": "64 hex characters: the HMAC-SHA256 of the string to sign (see the description).",
}

REFUSAL_DESCRIPTIONS = {
    400: "The body is not UTF-8, not JSON, or breaks the JSON limits (nesting, number size, a key "
    "repeated in an object).",
    401: "Not authenticated: a signature header is missing or malformed, the timestamp is more than "
    "300 s from the real time, or the signature does not match.",
    403: "The partner may not call this route (a record of another partner is answered 404).",
    404: "No such record, or none the calling partner may see.",
    409: "The record is not in a state that allows this, or was already answered differently; or, "
    "with a Retry-After header, the same signed request is being answered now (send it again after "
    "that many seconds).",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes.",
    415: "The body is not application/json.",
    422: "The request is invalid: every problem is named, with the allowed values of an enumeration.",
    503: "A dependency is temporarily unavailable; try again.",
}
# A callback keeps its answer with its change and is never claimed: a twin gets the first answer.
CALLBACK_REFUSAL_DESCRIPTIONS = {
    **REFUSAL_DESCRIPTIONS,
    409: "The record is not in a state that allows this, or was already answered differently.",
}
# API Gateway answers 429 itself ({"message": "Too Many Requests"}) past a route's throttling.
THROTTLED = (
    "Too many requests: API Gateway throttles {scope} to {rate} a second, in bursts of at most "
    "{burst} (template.yaml); send it again a little later."
)
SIGNED_REFUSALS = (401, 403, 404, 409, 422, 503)
BODY_REFUSALS = (400, 413, 415)
PUBLIC_REFUSALS = (404, 422, 503)
SERVERS = [
    {
        "url": "https://{apiId}.execute-api.{region}.amazonaws.com/{stage}",
        "description": "The deployed stack (the HttpApiUrl output of template.yaml).",
        "variables": {
            "apiId": {"default": "example", "description": "The HttpApi's id."},
            "region": {"default": "cn-north-1"},
            "stage": {"default": "dev", "enum": ["dev", "prod"]},
        },
    },
    {"url": "http://127.0.0.1:8787/dev", "description": "`make serve`: the local runtime."},
]
POWERTOOLS_PARAMS: dict[str, type[params.Param] | type[params.Body]] = {
    "path": params.Path,
    "query": params.Query,
    "body": params.Body,
}
# Schemas Powertools adds for its own 422, which every route answers with ErrorBody instead.
POWERTOOLS_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def api_function_module() -> ModuleType:
    """The API function's handler module, loaded as the local runtime loads it (or the runtime's own)."""
    template = load_template()
    served = {route.function for route in http_routes(template)}
    if len(served) != 1:
        raise RuntimeError(f"expected one function behind the HttpApi routes, found {sorted(served)}")
    spec = functions(template)[served.pop()]
    module_file = spec.handler.rsplit(".", 1)[0]
    name = f"{MODULE_PREFIX}{spec.code_dir.name}"
    if name in sys.modules:
        return sys.modules[name]
    with _function_environment():
        return _load_module(name, spec.code_dir / f"{module_file}.py")


@contextmanager
def _function_environment() -> Iterator[None]:
    """Dummy values for the variables that are unset, for the import only; the settings cached from
    them are dropped after it, so that nothing later reads them."""
    from zerovisit.config import settings

    added = [name for name in DUMMY_ENVIRONMENT if not os.environ.get(name)]
    for name in added:
        os.environ[name] = DUMMY_ENVIRONMENT[name]
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)
        if added:
            settings.cache_clear()


def _load_module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.parent))  # as in Lambda, the code's folder is on the path
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    finally:
        sys.path.remove(str(path.parent))
    return module


def security_schemes() -> dict[str, SecurityScheme]:
    return {
        header: APIKey.model_validate({"in": APIKeyIn.header, "name": header, "description": description})
        for header, description in SIGNATURE_HEADERS.items()
    }


def documented(router: Router) -> APIGatewayHttpResolver:
    """A Powertools resolver with the router's routes, for their OpenAPI description alone."""
    resolver = APIGatewayHttpResolver(enable_validation=True)
    for route in router.routes:
        options: dict[str, Any] = {"operation_id": route.operation_id, "status_code": route.status_code}
        if route.response_description is not None:
            options["response_description"] = route.response_description
        resolver.route(route.path, route.method, **options)(_described(router, route))
    return resolver


def _described(router: Router, route: Route) -> Callable[..., Any]:
    """A stand-in for the route's function whose signature has Powertools' Path, Query and Body in
    place of the router's, with the same constraints, defaults, answer type and docstring."""
    compiled = router.compiled(route)
    parameters = []
    for item in compiled.inputs:
        kind = POWERTOOLS_PARAMS[item.param.where]
        options = dict(item.param.constraints)
        if item.param.alias is not None:
            options["alias"] = item.param.alias
        marker = kind(**options)
        parameters.append(
            inspect.Parameter(
                item.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=item.default,
                annotation=Annotated[item.annotation, marker],
            )
        )

    def stand_in(**_: Any) -> None:
        raise RuntimeError("for the OpenAPI document only")

    stand_in.__name__ = route.function.__name__
    stand_in.__doc__ = route.function.__doc__
    stand_in.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        parameters, return_annotation=compiled.answer_type
    )
    return stand_in


def generate() -> dict[str, Any]:
    """The document, as a plain dict."""
    module = api_function_module()
    app = documented(module.app)
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes=security_schemes(),
        )
    )
    document["servers"] = SERVERS
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in POWERTOOLS_ERROR_SCHEMAS:
        schemas.pop(name, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    throttled = throttling()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            concrete = re.sub(r"\{\w+\}", "x", path)
            public = is_public(method.upper(), concrete)
            _add_security(operation, public=public)
            _add_refusals(
                operation,
                public=public,
                reads=method.upper() in EFFECTLESS,
                callback=answered_with_the_change(method.upper(), concrete),
            )
            operation["responses"]["429"] = _error_response(throttled(method.upper(), path))
    bound_strings(document)
    return document


def throttling() -> Callable[[str, str], str]:
    """POST-PROCESSING: the 429 of each route, from the HttpApi's throttling in the template: the
    route's own settings, else the stage's default for every route."""
    api = next(
        r["Properties"]
        for r in load_template()["Resources"].values()
        if r.get("Type") == "AWS::Serverless::HttpApi"
    )
    default, own = api["DefaultRouteSettings"], api.get("RouteSettings") or {}

    def described(method: str, path: str) -> str:
        settings = own.get(f"{method} {path}")
        scope = "this route" if settings else "each route"
        chosen = settings or default
        return THROTTLED.format(
            scope=scope, rate=chosen["ThrottlingRateLimit"], burst=chosen["ThrottlingBurstLimit"]
        )

    return described


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def _add_security(operation: dict[str, Any], *, public: bool) -> None:
    # POST-PROCESSING: Powertools writes an operation's `security` only from the route's own
    # `security=` argument, and drops an empty list, so a global requirement cannot be lifted from the
    # public route: the signed routes get it here, from the handler's own list of public routes.
    if not public:
        operation["security"] = [{header: [] for header in SIGNATURE_HEADERS}]


def _add_refusals(operation: dict[str, Any], *, public: bool, reads: bool, callback: bool) -> None:
    # POST-PROCESSING: the refusals come from exception handlers and from the checks in the handler
    # before any route runs, which Powertools cannot see; its own 422 is answered as ErrorBody too.
    # A read changes nothing and is never claimed for replays, so it meets no 409.
    statuses: tuple[int, ...] = PUBLIC_REFUSALS if public else SIGNED_REFUSALS
    if reads:
        statuses = tuple(s for s in statuses if s != 409)
    if "requestBody" in operation:
        statuses = (*statuses, *BODY_REFUSALS)
    responses = operation["responses"]
    descriptions = CALLBACK_REFUSAL_DESCRIPTIONS if callback else REFUSAL_DESCRIPTIONS
    for status in sorted(statuses):
        responses[str(status)] = _error_response(descriptions[status])


def bound_strings(node: Any) -> None:
    """POST-PROCESSING: every string without its own bound gets the handler's (zerovisit.api.limits),
    which the boundary enforces on every string of a body; enumerations and dates need none."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"maxLength", "enum", "const", "format"} & node.keys():
            node["maxLength"] = MAX_STRING_LENGTH
        for value in node.values():
            bound_strings(value)
    elif isinstance(node, list):
        for value in node:
            bound_strings(value)


def render(document: dict[str, Any]) -> str:
    """Deterministic text: sorted keys, 2-space indent, trailing newline."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def short_diff(committed: str, generated: str, limit: int = 40) -> str:
    lines = list(
        difflib.unified_diff(
            committed.splitlines(keepends=True),
            generated.splitlines(keepends=True),
            fromfile="openapi.json (committed)",
            tofile="openapi.json (from the code)",
            n=2,
        )
    )
    shown = "".join(lines[:limit])
    if len(lines) > limit:
        shown += f"... {len(lines) - limit} more diff lines\n"
    return shown


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--write", action="store_true", help="write openapi.json at the repository root")
    args = parser.parse_args(argv)
    generated = render(generate())
    if args.write:
        OPENAPI_FILE.write_text(generated, encoding="utf-8")
        print(f"wrote {OPENAPI_FILE.relative_to(ROOT)}")
        return 0
    committed = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
    if committed == generated:
        return 0
    sys.stdout.write(short_diff(committed, generated))
    print("openapi.json differs from the code: run `make openapi`", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
