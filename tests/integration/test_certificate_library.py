"""Certificates people hold, through the real API handler on the local runtime: the service network
lists a holder's library for the holder, no other partner learns anything of it, operations revoke a
certificate with a reason, and verification then says so."""

import threading
from typing import Any

import pytest
from zerovisit.domain.identity import certificate_identifier
from zerovisit.services import revocation
from zerovisit.storage import cases, certificates

from infra.local.runtime import HttpResponse, LocalRuntime
from tests.conftest import OutboundEvents
from tests.integration.test_certificate_verification import issued

NETWORK = "service-network"
OPERATIONS = "operations"
UNKNOWN_HOLDER = "914403001922038216"  # a valid credit code that holds nothing here


@pytest.fixture
def licence(runtime: LocalRuntime) -> tuple[str, str]:
    """A business licence issued through the pipeline: (identifier, the enterprise's credit code)."""
    identifier = issued(runtime)
    certificate = certificates.get_certificate(identifier)
    assert certificate is not None
    return identifier, certificate.holder_id


def library(runtime: LocalRuntime, partner: str, holder: str, query: str = "") -> HttpResponse:
    return runtime.signed_http(partner, "GET", f"/holders/{holder}/certificates", query=query)


def revoke(runtime: LocalRuntime, identifier: str, reason: str, partner: str = OPERATIONS) -> HttpResponse:
    return runtime.signed_http(partner, "POST", f"/certificates/{identifier}/revocation", {"reason": reason})


def together(threads: list[threading.Thread]) -> None:
    """Start them all, and wait for every one (a minute at most)."""
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)


def test_the_service_network_lists_the_holders_certificates(
    runtime: LocalRuntime, licence: tuple[str, str]
) -> None:
    identifier, holder = licence

    listed = library(runtime, NETWORK, holder)
    nothing = library(runtime, NETWORK, UNKNOWN_HOLDER)

    assert listed.status == 200
    [held] = listed.body["certificates"]
    assert (held["identifier"], held["kind"], held["status"]) == (identifier, "BUSINESS_LICENCE", "valid")
    assert held["issuer_code"] == identifier.split(".")[-4]
    assert held["valid_until"] is None
    assert held["algorithm"] == "ECDSA_SHA_256"
    assert f"certificates/{identifier}.png" in held["rendering"]["url"]
    assert listed.body["next_cursor"] is None
    assert (nothing.status, nothing.body) == (200, {"certificates": [], "next_cursor": None})


@pytest.mark.parametrize("partner", ["dept-scjg", "supervision", "ems", OPERATIONS])
def test_another_partner_gets_403_and_learns_nothing_not_even_whether_the_holder_exists(
    runtime: LocalRuntime, licence: tuple[str, str], partner: str
) -> None:
    identifier, holder = licence

    holding = library(runtime, partner, holder)
    empty = library(runtime, partner, UNKNOWN_HOLDER)

    assert (holding.status, empty.status) == (403, 403)
    assert holding.body == empty.body  # the same answer whether the holder holds anything or not
    assert (
        holding.body["message"] == f"partner {partner} may not call GET /holders/{{holder_id}}/certificates"
    )
    assert identifier not in str(holding.body)


def test_a_malformed_holder_is_422_naming_the_problem_and_never_repeating_an_identity_number(
    runtime: LocalRuntime,
) -> None:
    person = library(runtime, NETWORK, "320102199003070011")  # check character wrong
    short = library(runtime, NETWORK, "3201021990", query="limit=0")
    refused = library(runtime, "dept-scjg", "320102199003070011")

    assert person.status == 422
    assert person.body["problems"] == [
        "holder_id: not a valid identity number: check character does not match (GB 11643, ISO 7064 MOD 11-2)"
    ]
    assert short.status == 422
    assert short.body["problems"] == [
        "holder_id: must be an 18-character identity number or unified social credit code, got 10 characters",
        "limit: from 1 to 100",
    ]
    assert refused.status == 403
    assert "320102199003070011" not in str(refused.body)


def test_operations_revoke_once_with_a_reason_and_verification_says_when_and_why(
    runtime: LocalRuntime, licence: tuple[str, str], outbound: OutboundEvents
) -> None:
    identifier, holder = licence

    first = revoke(runtime, identifier, "issued in error: the registration was annulled")
    again = revoke(runtime, identifier, "a second thought")
    verified = runtime.http("GET", f"/certificates/{identifier}/verify")
    listed = library(runtime, NETWORK, holder)
    runtime.drain()

    assert first.status == again.status == 200
    assert (first.body["revoked_now"], again.body["revoked_now"]) == (True, False)
    assert again.body["reason"] == first.body["reason"] == "issued in error: the registration was annulled"
    assert again.body["revoked_at"] == first.body["revoked_at"]
    assert (verified.body["valid"], verified.body["status"]) == (False, "revoked")
    assert verified.body["revoked_reason"] == first.body["reason"]
    assert verified.body["revoked_at"] == first.body["revoked_at"]
    assert listed.body["certificates"][0]["status"] == "revoked"
    [event] = outbound.of("CertificateRevoked", identifier=identifier)
    assert (event["reason"], event["revoked_by"]) == (first.body["reason"], OPERATIONS)
    assert holder not in str(event)
    case_id = event["case_id"]
    assert [e.actor for e in cases.timeline(case_id) if e.event == "certificate revoked"] == [OPERATIONS]


def test_a_revocation_is_refused_precisely(runtime: LocalRuntime, licence: tuple[str, str]) -> None:
    identifier, _ = licence
    unknown = identifier.split(".")
    unknown[-3] = "1" * 16
    never_issued = certificate_identifier(unknown[5], unknown[6], unknown[7], int(unknown[8]))

    by_network = revoke(runtime, identifier, "issued in error", partner=NETWORK)
    not_found = revoke(runtime, never_issued, "issued in error")
    malformed = revoke(runtime, "1.2.156.3005.2.X", "call 13812345678")
    empty = revoke(runtime, identifier, "")

    assert by_network.status == 403
    assert not_found.status == 404
    assert malformed.status == 422
    assert malformed.body["problems"][0].startswith("identifier: ")
    assert any("identity or phone number" in p for p in malformed.body["problems"])
    assert "13812345678" not in str(malformed.body)
    assert empty.status == 422
    assert empty.body["problems"][0].startswith("reason: ")
    assert runtime.http("GET", f"/certificates/{identifier}/verify").body["status"] == "valid"


def test_revocations_racing_each_other_and_verification_make_one_revocation(
    runtime: LocalRuntime, licence: tuple[str, str], outbound: OutboundEvents
) -> None:
    identifier, _ = licence
    answers: dict[str, Any] = {}
    checks: list[dict[str, Any]] = []
    start = threading.Barrier(6)

    def revoking(reason: str) -> None:
        start.wait()
        answers[reason] = revoke(runtime, identifier, reason).body

    def verifying() -> None:
        start.wait()
        for _ in range(3):
            checks.append(runtime.http("GET", f"/certificates/{identifier}/verify").body)

    threads = [threading.Thread(target=revoking, args=(f"court order 2026-{n}",)) for n in range(3)]
    threads += [threading.Thread(target=verifying) for _ in range(3)]
    with runtime.concurrently():
        together(threads)
    runtime.drain()

    assert sorted(a["revoked_now"] for a in answers.values()) == [False, False, True]
    assert len({(a["reason"], a["revoked_at"]) for a in answers.values()}) == 1
    # each verification saw the certificate before or after the revocation, never half of it
    for check in checks:
        assert (check["status"], check["revoked_reason"] is None, check["revoked_at"] is None) in (
            ("valid", True, True),
            ("revoked", False, False),
        )
    assert len(outbound.of("CertificateRevoked", identifier=identifier)) == 1


def test_revocations_racing_on_storage_make_one_write_and_one_event(
    runtime: LocalRuntime, licence: tuple[str, str], outbound: OutboundEvents
) -> None:
    """The API function takes its requests one at a time locally; here the service itself runs in
    several threads at once, so the conditional write is what keeps one revocation."""
    identifier, _ = licence
    answers: list[revocation.Revocation] = []
    start = threading.Barrier(4)

    def revoking(n: int) -> None:
        start.wait()
        answers.append(revocation.revoke(identifier, f"court order 2026-{n}", "operator"))

    together([threading.Thread(target=revoking, args=(n,)) for n in range(4)])
    runtime.drain()

    stored = certificates.get_certificate(identifier)
    assert stored is not None
    assert len(answers) == 4
    assert [a.revoked_now for a in answers].count(True) == 1
    assert {(a.reason, a.revoked_at) for a in answers} == {(stored.revoked_reason, stored.revoked_at)}
    assert len(outbound.of("CertificateRevoked", identifier=identifier)) == 1
