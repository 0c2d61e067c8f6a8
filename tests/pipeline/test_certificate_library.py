"""A business start-up's licence, through the running pipeline: rendered into the renderings bucket
with a QR code that carries its verification address, and held in the enterprise's library; a crash
between the certificate's write and its rendering is made good by the step's retry, and a revocation
that lands in that gap stands."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from zerovisit.adapters import aws
from zerovisit.domain.model import CaseStatus
from zerovisit.errors import DependencyUnavailable
from zerovisit.services import revocation
from zerovisit.storage import cases, certificates

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from infra.local.stack import LOCAL_API_URL
from tests.conftest import OutboundEvents
from tests.support import application
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
