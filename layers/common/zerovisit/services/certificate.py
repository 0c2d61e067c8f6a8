"""Certificate issuance (电子证照): signed, stored in the library under the holder's identity."""

import base64
from typing import Any

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.certificate import Certificate, new_content
from zerovisit.domain.model import CaseStatus
from zerovisit.errors import CaseNotFound
from zerovisit.services.common import matter_of, note
from zerovisit.storage import cases


def issue(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    if case.certificate_id is not None:
        return {"identifier": case.certificate_id}
    matter = matter_of(case)
    spec = matter.certificate
    applicant = case.application.applicant
    issuer = matter.issuer(case.application.region_code)
    if issuer is None:
        raise CaseNotFound(f"matter {matter.code} has no issuer for region {case.application.region_code}")
    serial = cases.next_number(f"CERT#{spec.type_code}#{issuer.credit_code}", clock.now())
    content = new_content(
        spec,
        issuer,
        serial,
        holder_id=applicant.id_number or applicant.credit_code or "",
        holder_name=applicant.name,
        case_id=case_id,
        case_number=case.case_number or "",
        issued_at=clock.now(),
    )
    key_id, signature = aws.sign(content.signed_bytes())
    certificate = Certificate(
        **content.model_dump(), signing_key_id=key_id, signature=base64.b64encode(signature).decode()
    )
    next_step = "delivery" if case.delivery_required else "completion"
    cases.save_case(
        case.model_copy(
            update={
                "certificate_id": certificate.identifier,
                "step": next_step,
                "status": CaseStatus.AWAITING_DELIVERY if case.delivery_required else CaseStatus.ISSUING,
            }
        ),
        [note("certificate", "certificate issued", f"{spec.name} {certificate.identifier}", issuer.name)],
        certificate=certificate,
    )
    aws.publish(
        "CertificateIssued",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "identifier": certificate.identifier,
            "kind": spec.kind,
            "name": spec.name,
        },
    )
    return {"identifier": certificate.identifier}
