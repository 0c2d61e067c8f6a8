"""Certificate issuance (电子证照): signed, stored in the library under the holder's identity, and
rendered as a PNG with a QR code that verifies it.

The rendering is written after the certificate: a step that stops between the two (a crash, S3
unavailable) is retried, finds the certificate on the case, and renders it again; the same code
draws the same certificate as the same bytes, so a rendering written twice is the same rendering.

A transfer's new title and the revocation of the seller's old one are one write; a seller's title
that is no longer valid when the step runs fails it (TitleNotValid) with nothing issued.
"""

import base64
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.application import registration_credit_code
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate, CertificateContent, new_content
from zerovisit.domain.prereview import held_on, seller_title_problem
from zerovisit.errors import CaseNotFound, TitleNotValid
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
    holder_id, holder_name = applicant.id_number or applicant.credit_code or "", applicant.name
    if application.enterprise is not None:
        # registration gives the new enterprise its credit code; the licence is the enterprise's
        serial = ports().cases.next_number(f"USCC#{application.region_code}")
        credit_code = registration_credit_code(application.enterprise, application.region_code, serial)
        holder_id, holder_name = credit_code, application.enterprise.name
    elif application.transfer is not None:
        buyer = application.transfer.buyer
        holder_id, holder_name = buyer.id_number or buyer.credit_code or "", buyer.name
    content = new_content(
        spec,
        issuer,
        holder_id=holder_id.upper(),  # the library is keyed on the upper-case X of an identity number
        holder_name=holder_name,
        case_id=case_id,
        case_number=case.case_number or "",
        issued_at=clock.now(),
    )
    certificate = signed(content)

    def decide(current: Case) -> Change:
        if current.certificate_id is not None:
            return Change(current.case_id, current.version, None)
        replaces = _title_passing(current, matter)
        return current.issue(
            clock.now(), certificate, issuer.name, spec.kind, spec.name, credit_code, replaces
        )

    issued, _ = apply(case_id, decide, case)
    assert issued.certificate_id is not None
    # a twin step that won the race wrote its own certificate: render that one
    won = certificate if issued.certificate_id == certificate.identifier else _stored(issued.certificate_id)
    return _rendered(won)


def signed(content: CertificateContent) -> Certificate:
    """The content signed with the certificate key, as verification checks it."""
    signature = ports().gateway.sign(content.signed_bytes())
    return Certificate(
        **content.model_dump(),
        algorithm=signature.algorithm,
        signing_key_id=signature.key_id,
        signature=base64.b64encode(signature.signature).decode(),
    )


def _title_passing(case: Case, matter: Matter) -> Certificate | None:
    """The seller's title a transfer revokes, read at each attempt: the revocation is written only
    while the title is valid, so an attempt that lost to an operator's revocation finds it revoked
    here. A title that is no longer the seller's valid title stops the step before anything is
    issued; pre-review checked it, so it changed since."""
    transfer = case.application.transfer
    if transfer is None:
        return None
    title = ports().certificates.get(transfer.seller_title)
    found = [held_on(title, clock.today())] if title is not None else []
    problem = seller_title_problem(case.application, matter, found)
    if problem is not None:
        raise TitleNotValid(
            f"the seller's title {transfer.seller_title} {problem}: no title issued to the buyer"
        )
    return title


def _stored(identifier: str) -> Certificate:
    certificate = ports().certificates.get(identifier)
    if certificate is None:
        raise CaseNotFound(f"the case's certificate {identifier} is not in the library")
    return certificate


def _rendered(certificate: Certificate) -> dict[str, Any]:
    return {"identifier": certificate.identifier, "rendering": rendering.store(certificate)}
