"""Partner request signatures (HMAC-SHA256), versions 1 and 2.

Every signed request carries ``X-ZV-Partner`` (the partner's id), ``X-ZV-Timestamp`` (unix seconds,
within 300 s of the real time) and ``X-ZV-Signature``: 64 hex characters, the HMAC-SHA256 keyed
with the partner's secret of the string to sign. The path is always the route's path, without the
API stage (``/applications``, not ``/dev/applications``).

Version 2 (``X-ZV-Signature-Version: 2`` and a fresh ``X-ZV-Nonce`` per request) signs::

    ZV2-HMAC-SHA256 \\n timestamp \\n nonce \\n METHOD \\n path \\n canonical query
    \\n hex SHA-256 of the body

The canonical query string is every ``name=value`` pair of the query, each side percent-encoded
(UTF-8, RFC 3986: only ``A-Z a-z 0-9 - . _ ~`` left as they are), the encoded pairs sorted,
joined with ``&``.

Version 1 (no version header) signs ``timestamp \\n METHOD \\n path \\n body``: it does not cover the
query string, and is accepted only until the partner's ``v1_until`` date (see ``PartnerKeys``).

This module uses the standard library only, so that a partner can copy it.
"""

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import NamedTuple
from urllib.parse import parse_qsl, quote

from zerovisit.errors import NotAuthenticated

PARTNER_HEADER = "x-zv-partner"
TIMESTAMP_HEADER = "x-zv-timestamp"
SIGNATURE_HEADER = "x-zv-signature"
VERSION_HEADER = "x-zv-signature-version"
NONCE_HEADER = "x-zv-nonce"
WINDOW_SECONDS = 300
UNIX_SECONDS = re.compile(r"[0-9]{1,12}")
HEX_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
NONCE = re.compile(r"[A-Za-z0-9_-]{16,64}")
V2_ALGORITHM = "ZV2-HMAC-SHA256"
# A partner whose secret is a plain string (the format before version 2) may sign with version 1
# until this date; a partner's JSON secret sets its own date with "v1_until".
LEGACY_V1_UNTIL = date(2027, 6, 30)


class PartnerKey(NamedTuple):
    secret: str
    # A secret replaced by a rotation stays valid until this moment; None: the current secret.
    valid_until: datetime | None = None


class PartnerKeys(NamedTuple):
    """What a partner's stored secret holds: its valid secrets and how long version 1 is accepted.

    Stored as a plain string (one secret, version 1 until ``LEGACY_V1_UNTIL``) or as JSON::

        {"keys": [{"secret": "...", "valid_until": null},
                  {"secret": "...", "valid_until": "2026-12-01T00:00:00+00:00"}],
         "v1_until": "2027-01-31"}

    where "v1_until" null means version 1 is refused.
    """

    keys: Sequence[PartnerKey]
    v1_until: date | None = LEGACY_V1_UNTIL

    def valid_secrets(self, now: datetime) -> list[str]:
        return [k.secret for k in self.keys if k.valid_until is None or now < k.valid_until]

    def to_json(self) -> str:
        return json.dumps(
            {
                "keys": [
                    {
                        "secret": k.secret,
                        "valid_until": k.valid_until.isoformat() if k.valid_until else None,
                    }
                    for k in self.keys
                ],
                "v1_until": self.v1_until.isoformat() if self.v1_until else None,
            },
            sort_keys=True,
        )


def partner_keys(stored: str | None) -> PartnerKeys | None:
    """The partner's keys from its stored secret; None for no secret or one that is unreadable."""
    if stored is None:
        return None
    if not stored.lstrip().startswith("{"):
        return PartnerKeys(keys=[PartnerKey(stored)])
    try:
        data = json.loads(stored)
        keys = [
            PartnerKey(
                str(k["secret"]),
                datetime.fromisoformat(k["valid_until"]) if k.get("valid_until") else None,
            )
            for k in data["keys"]
        ]
        v1_until = date.fromisoformat(data["v1_until"]) if data.get("v1_until") else None
    except (ValueError, KeyError, TypeError):
        return None
    return PartnerKeys(keys=keys, v1_until=v1_until)


def canonical_query(query: str) -> str:
    """Each name and value percent-encoded (UTF-8, RFC 3986), then the pairs sorted as text."""
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(k, safe="-._~"), quote(v, safe="-._~")) for k, v in pairs)
    return "&".join(f"{k}={v}" for k, v in encoded)


def string_to_sign_v2(timestamp: str, nonce: str, method: str, path: str, query: str, body: bytes) -> str:
    return "\n".join(
        (
            V2_ALGORITHM,
            timestamp,
            nonce,
            method.upper(),
            path,
            canonical_query(query),
            hashlib.sha256(body).hexdigest(),
        )
    )


def _hmac(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: str, method: str, path: str, body: str) -> str:
    """Version 1."""
    return _hmac(secret, f"{timestamp}\n{method.upper()}\n{path}\n{body}")


def sign_v2(secret: str, timestamp: str, nonce: str, method: str, path: str, query: str, body: bytes) -> str:
    return _hmac(secret, string_to_sign_v2(timestamp, nonce, method, path, query, body))


def signed_headers(
    partner: str, secret: str, now: datetime, method: str, path: str, body: str
) -> dict[str, str]:
    """Version 1 headers (no query string); kept for partners that have not moved to version 2."""
    timestamp = str(int(now.timestamp()))
    return {
        "X-ZV-Partner": partner,
        "X-ZV-Timestamp": timestamp,
        "X-ZV-Signature": sign(secret, timestamp, method, path, body),
    }


def signed_headers_v2(
    partner: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    query: str = "",
    now: datetime | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """Version 2 headers for one request, signed at the real time with a fresh nonce."""
    timestamp = str(int((now or datetime.now(UTC)).timestamp()))
    nonce = nonce or secrets.token_urlsafe(18)
    return {
        "X-ZV-Partner": partner,
        "X-ZV-Timestamp": timestamp,
        "X-ZV-Signature-Version": "2",
        "X-ZV-Nonce": nonce,
        "X-ZV-Signature": sign_v2(secret, timestamp, nonce, method, path, query, body),
    }


class SignedRequest(NamedTuple):
    method: str
    path: str  # without the API stage
    query: str
    body: bytes


def authenticate(
    headers: Mapping[str, str],
    request: SignedRequest,
    now: datetime,
    keys_of: Callable[[str], PartnerKeys | None],
) -> str:
    """The calling partner's id, or NotAuthenticated naming every problem. ``now`` is the real time,
    never the domain clock. The keys are looked up only for a well-formed request; comparisons are
    constant-time over ASCII."""
    lower = {k.lower(): v for k, v in headers.items()}
    partner = lower.get(PARTNER_HEADER, "")
    timestamp = lower.get(TIMESTAMP_HEADER, "")
    signature = lower.get(SIGNATURE_HEADER, "")
    version = lower.get(VERSION_HEADER, "1")
    nonce = lower.get(NONCE_HEADER, "")
    problems = [
        f"{name} header missing"
        for name, value in (
            ("X-ZV-Partner", partner),
            ("X-ZV-Timestamp", timestamp),
            ("X-ZV-Signature", signature),
        )
        if not value
    ]
    if signature and not HEX_SIGNATURE.fullmatch(signature):
        problems.append("X-ZV-Signature must be 64 hexadecimal characters")
    if timestamp:
        if not UNIX_SECONDS.fullmatch(timestamp):
            problems.append("X-ZV-Timestamp is not unix seconds")
        elif abs(now.timestamp() - int(timestamp)) > WINDOW_SECONDS:
            problems.append(f"X-ZV-Timestamp is more than {WINDOW_SECONDS} s from the real time")
    if version not in ("1", "2"):
        problems.append("X-ZV-Signature-Version must be 1 or 2")
    elif version == "2" and not NONCE.fullmatch(nonce):
        problems.append("X-ZV-Nonce must be 16 to 64 characters from A-Z a-z 0-9 - _ (version 2)")
    if problems:
        raise NotAuthenticated("; ".join(problems))
    keys = keys_of(partner)
    candidates = keys.valid_secrets(now) if keys is not None else []
    expected = [
        sign(s, timestamp, request.method, request.path, request.body.decode("utf-8", errors="replace"))
        if version == "1"
        else sign_v2(s, timestamp, nonce, request.method, request.path, request.query, request.body)
        for s in candidates
    ]
    if not any(hmac.compare_digest(e, signature.lower()) for e in expected):
        # An unknown partner and a wrong signature get the same answer: ids are not probed.
        raise NotAuthenticated("unknown partner or signature does not match")
    assert keys is not None
    if version == "1" and (keys.v1_until is None or now.date() > keys.v1_until):
        raise NotAuthenticated("signature version 1 is no longer accepted for this partner: use version 2")
    return partner
