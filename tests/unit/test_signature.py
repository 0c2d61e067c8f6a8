"""Partner signatures: version 2's string to sign, partner keys, and what is refused with 401."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from zerovisit.domain.signature import (
    LEGACY_V1_UNTIL,
    PartnerKey,
    PartnerKeys,
    SignedRequest,
    authenticate,
    canonical_query,
    partner_keys,
    signed_headers,
    signed_headers_v2,
    string_to_sign_v2,
)
from zerovisit.errors import NotAuthenticated

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)
KEYS = PartnerKeys(keys=[PartnerKey("s3cret")], v1_until=date(2026, 12, 31))


def keys_of(partner: str) -> PartnerKeys | None:
    return KEYS if partner == "dept-scjg" else None


def test_the_canonical_query_sorts_and_percent_encodes() -> None:
    assert canonical_query("to=2026-02-28&region=320104&from=2026-02-01") == (
        "from=2026-02-01&region=320104&to=2026-02-28"
    )
    assert canonical_query("q=a b&q=%E5%8D%97&x=") == "q=%E5%8D%97&q=a%20b&x="
    assert canonical_query("") == ""


def test_version_2_signs_method_path_query_and_body_digest() -> None:
    text = string_to_sign_v2("1790000000", "n" * 16, "get", "/reports/3550", "b=2&a=1", b"")

    assert text.split("\n") == [
        "ZV2-HMAC-SHA256",
        "1790000000",
        "n" * 16,
        "GET",
        "/reports/3550",
        "a=1&b=2",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ]


def test_a_v2_request_is_authenticated_and_any_change_refused() -> None:
    request = SignedRequest("POST", "/reviews/X.R1-SCJG-1/decision", "a=1", b'{"decision":"approve"}')
    headers = signed_headers_v2("dept-scjg", "s3cret", request.method, request.path, request.body, "a=1", NOW)

    assert authenticate(headers, request, NOW, keys_of) == "dept-scjg"
    for changed in (
        SignedRequest("POST", request.path, "a=2", request.body),
        SignedRequest("POST", "/dev" + request.path, "a=1", request.body),
        SignedRequest("PUT", request.path, "a=1", request.body),
        SignedRequest("POST", request.path, "a=1", b'{"decision":"reject"}'),
    ):
        with pytest.raises(NotAuthenticated, match="signature does not match"):
            authenticate(headers, changed, NOW, keys_of)


def test_every_problem_of_the_headers_is_named_at_once() -> None:
    headers = {
        "X-ZV-Partner": "dept-scjg",
        "X-ZV-Timestamp": str(int((NOW - timedelta(seconds=301)).timestamp())),
        "X-ZV-Signature": "ü" * 64,
        "X-ZV-Signature-Version": "2",
        "X-ZV-Nonce": "short",
    }

    with pytest.raises(NotAuthenticated) as refused:
        authenticate(headers, SignedRequest("GET", "/tasks", "", b""), NOW, keys_of)

    assert str(refused.value).split("; ") == [
        "X-ZV-Signature must be 64 hexadecimal characters",
        "X-ZV-Timestamp is more than 300 s from the real time",
        "X-ZV-Nonce must be 16 to 64 characters from A-Z a-z 0-9 - _ (version 2)",
    ]


def test_version_1_is_accepted_until_the_partners_date_only() -> None:
    request = SignedRequest("GET", "/tasks", "", b"")
    headers = signed_headers("dept-scjg", "s3cret", NOW, "GET", "/tasks", "")
    later = datetime(2027, 1, 1, tzinfo=UTC)
    late_headers = signed_headers("dept-scjg", "s3cret", later, "GET", "/tasks", "")

    assert authenticate(headers, request, NOW, keys_of) == "dept-scjg"
    with pytest.raises(NotAuthenticated, match="version 1 is no longer accepted"):
        authenticate(late_headers, request, later, keys_of)


def test_partner_keys_are_read_from_a_plain_or_a_json_secret() -> None:
    plain = partner_keys("abc")
    stored = PartnerKeys(keys=[PartnerKey("new"), PartnerKey("old", NOW)], v1_until=None)
    read = partner_keys(stored.to_json())

    assert plain == PartnerKeys(keys=[PartnerKey("abc")], v1_until=LEGACY_V1_UNTIL)
    assert read is not None
    assert read.valid_secrets(NOW - timedelta(seconds=1)) == ["new", "old"]
    assert read.valid_secrets(NOW) == ["new"]
    assert read.v1_until is None
    assert partner_keys(json.dumps({"keys": "nope"})) is None
    assert partner_keys(None) is None
