"""Certificate issuance (电子证照): signed, stored in the library under the holder's identity, and
rendered as a PNG with a QR code that verifies it.

The rendering is written after the certificate: a step that stops between the two (a crash, S3
unavailable) is retried, finds the certificate on the case, and renders it again; drawing the same
certificate gives the same bytes, so a rendering written twice is the same rendering.
"""

import base64
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.application import registration_credit_code
from zerovisit.domain.case import Case, Change
from zerovisit.domain.certificate import Certificate, new_content
from zerovisit.errors import CaseNotFound
from zerovisit.services import rendering
from zerovisit.services.common import apply, matter_of
from zerovisit.services.ports import ports


def issue(case_id: str) -> dict[str, Any]:
    """Issue once: a retried or resumed step finds the certificate on the case, issues nothing, and
    renders it again."""
    case = ports().cases.get(case_id)
    case.require_open()
    if case.certificate_id is not None:
        return _rendered(_stored(case.certificate_id))
    matter = matter_of(case)
    spec = matter.certificate
    applicant = case.application.applicant
    issuer = matter.issuer(case.application.region_code)
    if issuer is None:
        raise CaseNotFound(f"matter {matter.code} has no issuer for region {case.application.region_code}")
    application = case.application
    credit_code = None
    replaces = None
    holder_id, holder_name = applicant.id_number or applicant.credit_code or "", applicant.name
    if application.enterprise is not None:
        # registration gives the new enterprise its credit code; the licence is the enterprise's
        serial = ports().cases.next_number(f"USCC#{application.region_code}")
        credit_code = registration_credit_code(application.enterprise, application.region_code, serial)
        holder_id, holder_name = credit_code, application.enterprise.name
    elif application.transfer is not None:
        buyer = application.transfer.buyer
        holder_id, holder_name = buyer.id_number or buyer.credit_code or "", buyer.name
        replaces = ports().certificates.get(application.transfer.seller_title)
    content = new_content(
        spec,
        issuer,
        holder_id=holder_id.upper(),  # the library is keyed on the upper-case X of an identity number
        holder_name=holder_name,
        case_id=case_id,
        case_number=case.case_number or "",
        issued_at=clock.now(),
    )
    signed = ports().gateway.sign(content.signed_bytes())
    certificate = Certificate(
        **content.model_dump(),
        algorithm=signed.algorithm,
        signing_key_id=signed.key_id,
        signature=base64.b64encode(signed.signature).decode(),
    )

    def decide(current: Case) -> Change:
        if current.certificate_id is not None:
            return Change(current.case_id, current.version, None)
        return current.issue(
            clock.now(), certificate, issuer.name, spec.kind, spec.name, credit_code, replaces
        )

    issued, _ = apply(case_id, decide, case)
    assert issued.certificate_id is not None
    # a twin step that won the race wrote its own certificate: render that one
    won = certificate if issued.certificate_id == certificate.identifier else _stored(issued.certificate_id)
    return _rendered(won)


def _stored(identifier: str) -> Certificate:
    certificate = ports().certificates.get(identifier)
    if certificate is None:
        raise CaseNotFound(f"the case's certificate {identifier} is not in the library")
    return certificate


def _rendered(certificate: Certificate) -> dict[str, Any]:
    return {"identifier": certificate.identifier, "rendering": rendering.store(certificate)}
