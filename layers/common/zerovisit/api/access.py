"""Who may call which route, on the path the route sees: without the API stage.

API Gateway puts the stage in ``rawPath`` (``/dev/applications`` for the stage ``dev``); routing,
signatures and these checks all use the path without it.
"""

import re

from zerovisit.domain.partners import OPERATIONS, SERVICE_NETWORK, SUPERVISION

PAYMENT_PLATFORM = "payment-platform"
EMS = "ems"
# Methods that change nothing: never claimed for replays, never answered 409.
EFFECTLESS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_ROUTES = (("GET", re.compile(r"^/certificates/[^/]+/verify$")),)
# The partners' callbacks: each knows its answer before its one write, and keeps it in that write
# instead of claiming the request first (zerovisit.storage.replays).
ANSWERED_WITH_THE_CHANGE = (
    ("POST", re.compile(r"^/reviews/[^/]+/decision$")),
    ("POST", re.compile(r"^/callbacks/payment$")),
    ("POST", re.compile(r"^/callbacks/ems$")),
)
# Routes only one partner may call (403 for any other), checked before the body is read. Which
# records a caller may see or act on is checked by the route itself (404 for what is not its own).
ROUTE_OWNERS = (
    ("POST", "/applications", SERVICE_NETWORK),
    ("POST", "/applications/{application_id}/corrections", SERVICE_NETWORK),
    ("POST", "/applications/{application_id}/withdrawal", SERVICE_NETWORK),
    ("POST", "/cases/{case_id}/resume", OPERATIONS),
    ("POST", "/cases/{case_id}/refusal", OPERATIONS),
    ("POST", "/cases/{case_id}/evaluation", SERVICE_NETWORK),
    ("POST", "/callbacks/payment", PAYMENT_PLATFORM),
    ("POST", "/callbacks/ems", EMS),
    ("GET", "/shipments/{order_id}", EMS),
    ("GET", "/reports/3550", SUPERVISION),
    # the service network acts for the holder; any other partner learns nothing, not even whether
    # the holder has certificates
    ("GET", "/holders/{holder_id}/certificates", SERVICE_NETWORK),
    ("POST", "/certificates/{identifier}/revocation", OPERATIONS),
    ("GET", "/enterprises/{credit_code}/services", SERVICE_NETWORK),
)
_OWNED = tuple(
    (method, re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", template) + "$"), template, owner)
    for method, template, owner in ROUTE_OWNERS
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


def _listed(routes: tuple[tuple[str, re.Pattern[str]], ...], method: str, path: str) -> bool:
    return any(method == m and pattern.match(path) for m, pattern in routes)


def is_public(method: str, path: str) -> bool:
    return _listed(PUBLIC_ROUTES, method, path)


def answered_with_the_change(method: str, path: str) -> bool:
    return _listed(ANSWERED_WITH_THE_CHANGE, method, path)


def owned_route(method: str, path: str) -> tuple[str, str] | None:
    """The route's template (``/holders/{holder_id}/certificates``: what a refusal may repeat, never
    the path, which may hold an identity number) and its one owner; None for a shared route."""
    return next(
        ((template, owner) for m, pattern, template, owner in _OWNED if m == method and pattern.match(path)),
        None,
    )
