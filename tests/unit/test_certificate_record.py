"""The certificate record: what its signature covers, its status on a day, its term, and what a
revocation reason may say (verification shows it to anyone)."""

from datetime import UTC, date, datetime

import pytest
from zerovisit.domain.catalog import CertificateSpec, Issuer
from zerovisit.domain.certificate import Certificate, new_content, reason_problems

ISSUER = Issuer(region_code="320102", name="南京市市场监督管理局", credit_code="11320100MB0C005112")


def spec(validity_years: int | None) -> CertificateSpec:
    return CertificateSpec(
        kind="CONSTRUCTION_PERMIT",
        name="建筑工程施工许可证",
        type_code="11100000MB0143028R003",
        version=1,
        trust_level="A",
        paper_original=False,
        validity_years=validity_years,
        issuers=[ISSUER],
    )


def content(issued_at: datetime, validity_years: int | None = None) -> Certificate:
    issued = new_content(
        spec(validity_years),
        ISSUER,
        holder_id="91310115MA1K3BTP2B",
        holder_name="上海某建设有限公司",
        case_id="T-0123456789ab",
        case_number="32010220260000001",
        issued_at=issued_at,
    )
    return Certificate(**issued.model_dump(), signing_key_id="key", signature="sig")


def test_a_certificate_without_an_end_is_signed_as_before_the_term_existed() -> None:
    unending = content(datetime(2026, 2, 13, 1, 30, tzinfo=UTC))
    with_term = content(datetime(2026, 2, 13, 1, 30, tzinfo=UTC), validity_years=3)

    assert b"valid_until" not in unending.content().signed_bytes()
    assert b'"valid_until":"2029-02-12"' in with_term.content().signed_bytes()


@pytest.mark.parametrize(
    ("issued_at", "years", "last_day"),
    [
        (datetime(2026, 2, 13, 1, 30, tzinfo=UTC), 3, date(2029, 2, 12)),
        # 23:30 UTC on 28 February is already 1 March in China
        (datetime(2027, 2, 28, 23, 30, tzinfo=UTC), 1, date(2028, 2, 29)),
        # issued on 29 February: the term ends on 28 February of a year without one
        (datetime(2028, 2, 29, 4, 0, tzinfo=UTC), 1, date(2029, 2, 28)),
    ],
)
def test_a_term_ends_the_day_before_the_anniversary_of_the_issue_day_in_china(
    issued_at: datetime, years: int, last_day: date
) -> None:
    assert content(issued_at, years).valid_until == last_day


def test_status_on_a_day_revoked_first_then_expired() -> None:
    permit = content(datetime(2026, 2, 13, 1, 30, tzinfo=UTC), validity_years=1)
    revoked = permit.revoked(datetime(2026, 6, 1, tzinfo=UTC), "issued in error")

    assert permit.status_on(date(2027, 2, 12)) == "valid"
    assert permit.status_on(date(2027, 2, 13)) == "expired"
    assert revoked.status_on(date(2026, 7, 1)) == "revoked"
    assert revoked.status_on(date(2030, 1, 1)) == "revoked"
    assert content(datetime(2026, 2, 13, 1, 30, tzinfo=UTC)).status_on(date(2099, 1, 1)) == "valid"


@pytest.mark.parametrize(
    ("reason", "problem"),
    [
        ("   ", "reason: must not be empty"),
        ("x" * 501, "reason: at most 500 characters, got 501"),
        ("line\nbreak", "reason: no control characters (line breaks included)"),
        (
            "holder 11010519491231002X asked",
            "reason: must not contain an identity or phone number (verification shows it to anyone)",
        ),
        (
            "call 138 1234 5678",
            "reason: must not contain an identity or phone number (verification shows it to anyone)",
        ),
    ],
)
def test_a_reason_anyone_may_read_is_short_plain_and_impersonal(reason: str, problem: str) -> None:
    assert reason_problems(reason) == [problem]


def test_a_plain_reason_passes() -> None:
    assert reason_problems("登记被撤销（2026年第17号决定）") == []
