"""Partner request signatures: HMAC-SHA256 over timestamp, method, path and body.

A partner sends ``X-ZV-Partner`` (its id), ``X-ZV-Timestamp`` (unix seconds) and
``X-ZV-Signature``: the hex HMAC-SHA256, keyed with its own secret, of
``timestamp + "\\n" + method + "\\n" + path + "\\n" + body``.
"""

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import datetime

from zerovisit.errors import NotAuthenticated

PARTNER_HEADER = "x-zv-partner"
TIMESTAMP_HEADER = "x-zv-timestamp"
SIGNATURE_HEADER = "x-zv-signature"
WINDOW_SECONDS = 300
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")


def sign(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    message = f"{timestamp}\n{method.upper()}\n{path}\n{body}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    partner: str, secret: str, now: datetime, method: str, path: str, body: str
) -> dict[str, str]:
    timestamp = str(int(now.timestamp()))
    return {
        "X-ZV-Partner": partner,
        "X-ZV-Timestamp": timestamp,
        "X-ZV-Signature": sign(secret, timestamp, method, path, body),
    }


def authenticate(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: str,
    now: datetime,
    secret_of: Callable[[str], str | None],
) -> str:
    """The calling partner's id, or NotAuthenticated with every reason. The secret is looked up
    only for a well-formed request; the comparison is constant-time."""
    lower = {k.lower(): v for k, v in headers.items()}
    partner = lower.get(PARTNER_HEADER, "")
    timestamp = lower.get(TIMESTAMP_HEADER, "")
    signature = lower.get(SIGNATURE_HEADER, "")
    problems = [
        f"{name} header missing"
        for name, value in (
            ("X-ZV-Partner", partner),
            ("X-ZV-Timestamp", timestamp),
            ("X-ZV-Signature", signature),
        )
        if not value
    ]
    if timestamp:
        if not UNIX_SECONDS.fullmatch(timestamp):
            problems.append("X-ZV-Timestamp is not unix seconds")
        elif abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
            problems.append(f"X-ZV-Timestamp is more than {WINDOW_SECONDS} s from the server's time")
    if problems:
        raise NotAuthenticated("; ".join(problems))
    secret = secret_of(partner)
    if secret is None or not hmac.compare_digest(
        sign(secret, timestamp, method, path, body), signature.lower()
    ):
        # An unknown partner and a wrong signature get the same answer: ids are not probed.
        raise NotAuthenticated("unknown partner or signature does not match")
    return partner
