"""Who may call which route, on the path the route sees: without the API stage.

API Gateway puts the stage in ``rawPath`` (``/dev/applications`` for the stage ``dev``); routing,
signatures and these checks all use the path without it.
"""

import re

from zerovisit.domain.partners import OPERATIONS, SERVICE_NETWORK, SUPERVISION

PAYMENT_PLATFORM = "payment-platform"
EMS = "ems"
PUBLIC_ROUTES = (("GET", re.compile(r"^/certificates/[^/]+/verify$")),)
# Routes only one partner may call (403 for any other), checked before the body is read. Which
# records a caller may see or act on is checked by the route itself (404 for what is not its own).
ROUTE_OWNERS = (
    ("POST", re.compile(r"^/applications(/[^/]+/(corrections|withdrawal))?$"), SERVICE_NETWORK),
    ("POST", re.compile(r"^/cases/[^/]+/resume$"), OPERATIONS),
    ("POST", re.compile(r"^/cases/[^/]+/evaluation$"), SERVICE_NETWORK),
    ("POST", re.compile(r"^/callbacks/payment$"), PAYMENT_PLATFORM),
    ("POST", re.compile(r"^/callbacks/ems$"), EMS),
    ("GET", re.compile(r"^/shipments/[^/]+$"), EMS),
    ("GET", re.compile(r"^/reports/3550$"), SUPERVISION),
    ("GET", re.compile(r"^/enterprises/[^/]+/services$"), SERVICE_NETWORK),
)


def route_path(raw_path: str, stage: str) -> str:
    """The path without the stage, as the routes and the signature know it."""
    if stage and stage != "$default":
        prefix = f"/{stage}"
        if raw_path == prefix:
            return "/"
        if raw_path.startswith(prefix + "/"):
            return raw_path[len(prefix) :]
    return raw_path


def is_public(method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in PUBLIC_ROUTES)


def route_owner(method: str, path: str) -> str | None:
    return next((owner for m, pattern, owner in ROUTE_OWNERS if m == method and pattern.match(path)), None)
