"""A business start-up's licence, through the running pipeline: rendered into the renderings bucket
with a QR code that carries its verification address, and held in the enterprise's library; a crash
between the certificate's write and its rendering is made good by the step's retry, and a revocation
that lands in that gap stands. A transfer: one order for tax and fee, the new title to the buyer and
the seller's old one revoked; a title that is not the seller's is not accepted, and one revoked
before issuance fails the case with nothing issued."""

from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.model import CaseStatus, TaskKind
from zerovisit.errors import DependencyUnavailable
from zerovisit.services import revocation
from zerovisit.storage import cases, certificates

from infra.local.partners import Answer, PartnerSimulator, Script, pay_in_full
from infra.local.runtime import LocalRuntime
from infra.local.stack import LOCAL_API_URL
from tests.conftest import OutboundEvents
from tests.support import application, held_transfer
from tests.unit.test_rendering import expected_modules, qr_modules

pytestmark = pytest.mark.pipeline

NETWORK = "service-network"


def completed_licence(runtime: LocalRuntime) -> tuple[str, str]:
    """A business start-up run to its end: (the licence's identifier, the enterprise's credit code)."""
    detail = application()
    assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
    assert PartnerSimulator(runtime).run_until_closed(detail["application_id"]) == "SUCCEEDED"
    case = cases.get_case(detail["application_id"])
    assert case.status is CaseStatus.COMPLETED
    assert case.certificate_id is not None
    assert case.registered_credit_code is not None
    return case.certificate_id, case.registered_credit_code


def stored_rendering(runtime: LocalRuntime, identifier: str) -> tuple[bytes, int]:
    """The rendering's bytes and how many versions of it the bucket holds."""
    s3, bucket = runtime.client("s3"), runtime.outputs["RenderingsBucketName"]
    key = f"certificates/{identifier}.png"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), len(versions)


def test_the_licence_is_rendered_and_held_by_the_enterprise(runtime: LocalRuntime) -> None:
    identifier, credit_code = completed_licence(runtime)

    listed = runtime.signed_http(NETWORK, "GET", f"/holders/{credit_code}/certificates")
    png, _ = stored_rendering(runtime, identifier)

    assert listed.status == 200
    [held] = listed.body["certificates"]
    assert (held["identifier"], held["status"], held["kind"]) == (identifier, "valid", "BUSINESS_LICENCE")
    link = urlsplit(held["rendering"]["url"])
    assert link.path.endswith(f"/certificates/{identifier}.png")
    assert parse_qs(link.query)["X-Amz-Expires"] == ["300"]
    address = f"{LOCAL_API_URL}/certificates/{identifier}/verify"
    wanted = expected_modules(address)
    assert qr_modules(png, len(wanted)) == wanted
    # the link works for whoever holds it: moto answers the presigned GET as S3 would
    fetched = requests.get(held["rendering"]["url"], timeout=10)
    assert (fetched.status_code, fetched.content) == (200, png)
    verified = runtime.http("GET", urlsplit(address).path.removeprefix("/dev"))
    assert (verified.status, verified.body["identifier"], verified.body["valid"]) == (200, identifier, True)


def _failing_first_rendering(monkeypatch: pytest.MonkeyPatch, in_the_gap: Any = None) -> list[str]:
    """S3 refuses the first rendering, after the certificate is written (as a crash there would
    leave it); ``in_the_gap`` runs first, with the certificate's identifier."""
    put = aws.put_rendering
    refused: list[str] = []

    def refusing_once(key: str, png: bytes) -> None:
        if not refused:
            refused.append(key)
            if in_the_gap is not None:
                in_the_gap(key.removeprefix("certificates/").removesuffix(".png"))
            raise DependencyUnavailable("could not store the certificate's rendering")
        put(key, png)

    monkeypatch.setattr(aws, "put_rendering", refusing_once)
    return refused


def test_a_crash_after_the_certificate_write_is_rendered_by_the_retry(
    runtime: LocalRuntime, outbound: OutboundEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = _failing_first_rendering(monkeypatch)

    identifier, credit_code = completed_licence(runtime)

    png, versions = stored_rendering(runtime, identifier)
    assert refused == [f"certificates/{identifier}.png"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert versions == 1
    assert [c.identifier for c in certificates.library(credit_code)] == [identifier]
    [event] = outbound.of("CertificateIssued", identifier=identifier)
    assert event["case_id"] == cases.get_case(event["case_id"]).case_id


def test_a_revocation_in_the_gap_between_write_and_rendering_stands(
    runtime: LocalRuntime, outbound: OutboundEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    def revoke(identifier: str) -> None:
        revocation.revoke(identifier, "issued in error: the registration was annulled", "operator")

    _failing_first_rendering(monkeypatch, in_the_gap=revoke)

    identifier, credit_code = completed_licence(runtime)

    listed = runtime.signed_http(NETWORK, "GET", f"/holders/{credit_code}/certificates")
    [held] = listed.body["certificates"]
    assert (held["status"], held["revoked_reason"]) == (
        "revoked",
        "issued in error: the registration was annulled",
    )
    png, _ = stored_rendering(runtime, identifier)
    assert png.startswith(b"\x89PNG")
    assert len(outbound.of("CertificateIssued", identifier=identifier)) == 1
    assert len(outbound.of("CertificateRevoked", identifier=identifier)) == 1


# --- a transfer: the seller's title ----------------------------------------------------------------


def verified(runtime: LocalRuntime, identifier: str) -> dict[str, Any]:
    """What the public verification route says of a certificate (no signature, no partner)."""
    answer = runtime.http("GET", f"/certificates/{identifier}/verify")
    assert answer.status == 200, answer.body
    body: dict[str, Any] = answer.body
    return body


def submitted_transfer(runtime: LocalRuntime) -> tuple[str, str, dict[str, Any]]:
    """The sample transfer on its day, its seller holding a fresh title: (case id, the seller's
    title, the application)."""
    clock.set(datetime.fromisoformat("2026-09-30T10:15:00+08:00"))
    detail = held_transfer(runtime)
    assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
    return detail["application_id"], detail["transfer"]["seller_title"], detail


def test_a_transfer_pays_tax_and_fee_in_one_order_and_passes_the_sellers_title_to_the_buyer(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    case_id, old, detail = submitted_transfer(runtime)
    before = verified(runtime, old)  # the registry's title is signed by the certificate key
    assert (before["status"], before["valid"], before["signature_valid"]) == ("valid", True, True)

    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    timeline = cases.timeline(case_id)
    [requested] = [e for e in timeline if e.event == "payment requested"]
    tax, fee = requested.detail.split(": ", 1)[1].split(", due ")[0].split(" = ")[0].split(" + ")
    assert tax.startswith("契税（1%） ")
    assert fee.startswith("不动产登记费（住宅） ")
    [order] = [t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT]
    assert [i["code"] for i in order.details["items"]] == ["DEED_TAX", "REGISTRATION_FEE"]
    assert order.details["amount_fen"] == sum(i["amount_fen"] for i in order.details["items"])
    [revoked_note] = [e for e in timeline if e.event == "certificate revoked"]
    assert revoked_note.detail.startswith(f"{old}: ownership transferred")
    after = verified(runtime, old)
    assert (after["status"], after["valid"]) == ("revoked", False)
    assert after["revoked_reason"] == "ownership transferred (转移登记)"
    assert case.certificate_id is not None
    title = certificates.get_certificate(case.certificate_id)
    assert title is not None
    assert (title.holder_id, title.status) == (detail["transfer"]["buyer"]["id_number"], "valid")
    assert case.certificate_id in [c.identifier for c in certificates.library(title.holder_id)]
    [event] = outbound.of("CertificateRevoked", identifier=old)
    assert (event["revoked_by"], event["kind"]) == ("system", "REAL_ESTATE_CERTIFICATE")


def test_a_transfer_whose_seller_holds_no_such_title_is_not_accepted(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    # a fresh title nobody holds
    detail = application("application_submitted.real_estate_transfer", submitted_at=clock.now().isoformat())

    assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
    assert PartnerSimulator(runtime).run_until_closed(detail["application_id"]) == "SUCCEEDED"

    case = cases.get_case(detail["application_id"])
    reason = (
        "不动产权属证书（出卖人）: the title the application names "
        "is not among the seller's titles in the certificate library"
    )
    assert (case.status, case.outcome_reason, case.case_number) == (CaseStatus.NOT_ACCEPTED, reason, None)
    assert outbound.of("CorrectionRequested", case_id=case.case_id) == []
    [closed] = outbound.of("CaseClosed", case_id=case.case_id)
    assert (closed["outcome"], closed["reason"]) == ("not_accepted", reason)
    events = [e.event for e in cases.timeline(case.case_id)]
    assert events[-3:] == ["materials deficient", "not correctable", "not_accepted"]


def test_a_title_revoked_before_issuance_fails_the_case_with_nothing_issued(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    def operator_revokes_then_applicant_pays(event: dict[str, Any]) -> Answer:
        path = f"/certificates/{old}/revocation"
        revoked = runtime.signed_http("operations", "POST", path, {"reason": "court order 2026-7"})
        assert revoked.status == 200, revoked.body
        return pay_in_full(event)

    calls_before = sum(1 for name, _ in runtime.invocations if name == "CertificateFunction")
    case_id, old, _ = submitted_transfer(runtime)
    script = Script(pay=operator_revokes_then_applicant_pays)
    assert PartnerSimulator(runtime, script).run_until_closed(case_id) == "FAILED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert (case.failure.step, case.failure.error) == ("certificate", "TitleNotValid")
    assert case.failure.cause == f"the seller's title {old} is revoked: no title issued to the buyer"
    # not retried: the title does not come back by trying again
    assert sum(1 for name, _ in runtime.invocations if name == "CertificateFunction") - calls_before == 1
    assert case.certificate_id is None
    assert outbound.of("CertificateIssued", case_id=case_id) == []
    assert verified(runtime, old)["revoked_reason"] == "court order 2026-7"

    # the title does not come back: operations refuse the case, and the applicant is told why
    path, reason = f"/cases/{case_id}/refusal", "出卖人不动产权证书已被注销，不予登记"
    assert runtime.signed_http("service-network", "POST", path, {"reason": reason}).status == 403
    assert runtime.signed_http("operations", "POST", path, {"reason": ""}).status == 422
    refused = runtime.signed_http("operations", "POST", path, {"reason": reason})
    again = runtime.signed_http("operations", "POST", path, {"reason": reason})
    assert (refused.status, refused.body) == (200, {"case_id": case_id, "status": "rejected"})
    assert (again.status, again.body) == (200, refused.body)
    assert cases.get_case(case_id).outcome_reason == reason
    [failed] = outbound.of("CaseFailed", case_id=case_id)
    assert (failed["step"], failed["error"]) == ("certificate", "TitleNotValid")
    assert [(e["outcome"], e["reason"]) for e in outbound.of("CaseClosed", case_id=case_id)] == [
        ("rejected", reason)
    ]
    assert runtime.signed_http("operations", "POST", f"/cases/{case_id}/resume").status == 409
