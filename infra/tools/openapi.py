"""The OpenAPI 3.1 document of the HTTP API, generated from the code of the API function.

The API function's module (functions/api/app.py) is loaded the way the local runtime loads it, and
Powertools builds the document from its routes (``app.get_openapi_json_schema``). What the routes do
not declare yet is added here, each step marked POST-PROCESSING: the partner signature required on
every route but certificate verification, the refusals each route answers with, and the 202 of
``POST /applications``.

Run from the project root: python -m infra.tools.openapi [--write]
  --write   write openapi.json at the repository root (``make openapi``)
  (none)    exit 1 with a short diff when the committed openapi.json differs from the code
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn, SecurityScheme

from infra.local.template import ROOT, functions, http_routes, load_template

OPENAPI_FILE = ROOT / "openapi.json"
TITLE = "ZeroVisit API"
VERSION = "1.0.0"
DESCRIPTION = """\
Zero-visit government approvals (不见面审批): applications from the government service network, \
case status, the departments' review decisions, the payment platform's and EMS's callbacks, and \
public verification of electronic certificates.

Every route but `GET /certificates/{identifier}/verify` is called by a partner system and signed: \
`X-ZV-Partner` is the partner's id, `X-ZV-Timestamp` the unix time in seconds (within 300 s of the \
server's), and `X-ZV-Signature` the hex HMAC-SHA256, keyed with the partner's secret, of \
`timestamp + "\\n" + METHOD + "\\n" + path + "\\n" + body`. An unsigned, stale or forged request is \
refused with 401; a partner calling a route or record that is not its own with 403.
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

# The partner signature (zerovisit.domain.signature): three headers, all required together.
SIGNATURE_HEADERS = {
    "X-ZV-Partner": "The calling partner's id.",
    "X-ZV-Timestamp": "Unix time in seconds; refused when more than 300 s from the server's time.",
    "X-ZV-Signature": (
        'Hex HMAC-SHA256, keyed with the partner\'s secret, of timestamp + "\\n" + METHOD + "\\n" '
        '+ path + "\\n" + body.'
    ),
}

REFUSAL_DESCRIPTIONS = {
    401: "Not authenticated: a signature header is missing, the timestamp is stale, or the signature "
    "does not match.",
    403: "The partner may not call this route, or the record is not assigned to it.",
    404: "No such case, task, order or certificate.",
    409: "The record is not in a state that allows this, or was already answered differently.",
    422: "The request is invalid: the body or a parameter does not match its schema, or breaks a "
    "domain rule (every problem is named).",
    503: "A dependency is temporarily unavailable; try again.",
    415: "The body is not application/json.",
}
# The refusals each route answers with, besides 422 (every route validates its parameters) and 415
# (every route that takes a body refuses any but JSON). A route missing here is documented with all
# of these: add it, with the ones it really gives.
ALL_REFUSALS = (401, 403, 404, 409, 503)
REFUSALS: dict[tuple[str, str], tuple[int, ...]] = {
    ("post", "/applications"): (401, 403, 503),
    ("post", "/applications/{application_id}/corrections"): (401, 403, 404, 409, 503),
    ("get", "/cases/{case_id}"): (401, 404, 503),
    ("post", "/cases/{case_id}/evaluation"): (401, 403, 404, 409, 503),
    ("post", "/reviews/{task_id}/decision"): (401, 403, 404, 409, 503),
    ("post", "/callbacks/payment"): (401, 403, 404, 409, 503),
    ("post", "/callbacks/ems"): (401, 403, 404, 409, 503),
    ("get", "/shipments/{order_id}"): (401, 403, 404, 503),
    ("get", "/certificates/{identifier}/verify"): (404, 503),
}
# Routes whose success is not Powertools' default 200.
SUCCESS_STATUS = {("post", "/applications"): 202}

REFUSAL_SCHEMA = {
    "title": "Refusal",
    "type": "object",
    "properties": {"message": {"type": "string", "title": "Message"}},
    "required": ["message"],
}
INVALID_REQUEST_SCHEMA = {
    "title": "InvalidRequest",
    "type": "object",
    "properties": {
        "message": {"type": "string", "title": "Message"},
        "problems": {"type": "array", "items": {"type": "string"}, "title": "Problems"},
    },
    "required": ["message", "problems"],
}


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


def generate() -> dict[str, Any]:
    """The document, as a plain dict."""
    module = api_function_module()
    app = module.app
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description=DESCRIPTION,
            security_schemes=security_schemes(),
        )
    )
    # Powertools adds a server "/" by default; the stage's URL is the deployment's, not the code's.
    document.pop("servers", None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    # POST-PROCESSING: Powertools 3.37's ValidationError requires "msg", which its 422 answers leave out
    # on purpose ("we hide msg details"): require only what they carry.
    validation_error = schemas.get("ValidationError", {})
    if "required" in validation_error:
        validation_error["required"] = [
            name for name in validation_error["required"] if name in validation_error.get("properties", {})
        ]
    schemas["Refusal"] = REFUSAL_SCHEMA
    schemas["InvalidRequest"] = INVALID_REQUEST_SCHEMA
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            _add_security(operation, public=_is_public(module, method, path))
            _set_success_status(method, path, operation)
            _add_refusals(method, path, operation)
    return document


def _is_public(module: ModuleType, method: str, path: str) -> bool:
    """Whether the handler lets the route through unsigned: its PUBLIC_ROUTES patterns match raw
    paths, so they are tried on the path with each parameter filled in."""
    sample = re.sub(r"\{\w+\}", "x", path)
    return any(m == method.upper() and pattern.match(sample) for m, pattern in module.PUBLIC_ROUTES)


def _add_security(operation: dict[str, Any], *, public: bool) -> None:
    # POST-PROCESSING: Powertools writes an operation's `security` only from the route's own
    # `security=` argument, and drops an empty list, so a global requirement cannot be lifted from the
    # public route. Until every signed route declares it in functions/api/app.py, it is added here.
    if not public:
        operation["security"] = [{header: [] for header in SIGNATURE_HEADERS}]


def _set_success_status(method: str, path: str, operation: dict[str, Any]) -> None:
    # POST-PROCESSING: the route returns Response(status_code=202, ...) itself; Powertools documents
    # its default 200 unless the route declares `status_code=` or `responses=`.
    status = SUCCESS_STATUS.get((method, path))
    if status is not None and "200" in operation["responses"]:
        success = operation["responses"].pop("200")
        success["description"] = "Accepted"
        operation["responses"][str(status)] = success


def _add_refusals(method: str, path: str, operation: dict[str, Any]) -> None:
    # POST-PROCESSING: the refusals come from exception handlers and from the content type and
    # signature checks in `handler`, which Powertools cannot see; the routes would declare them with
    # `responses=`. The 422 Powertools documents covers only its own validation: a domain InvalidInput
    # answers with {"message", "problems"}, so the response is either shape.
    responses = operation["responses"]
    takes_body = (415,) if "requestBody" in operation else ()
    for status in (*REFUSALS.get((method, path), ALL_REFUSALS), 422, *takes_body):
        if status == 422:
            generated = responses.get("422", {}).get("content", {}).get("application/json", {}).get("schema")
            shapes = [generated] if generated else []
            schema: dict[str, Any] = {"anyOf": [*shapes, {"$ref": "#/components/schemas/InvalidRequest"}]}
        else:
            schema = {"$ref": "#/components/schemas/Refusal"}
        responses[str(status)] = {
            "description": REFUSAL_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": schema}},
        }


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
