"""Certificate verification: anyone holding an identifier can check it, and learns no personal data."""

import base64
from typing import Any

from zerovisit.adapters import aws
from zerovisit.domain.identity import certificate_identifier_problems, mask_id_number
from zerovisit.errors import CaseNotFound, InvalidInput
from zerovisit.storage import certificates


def verify(identifier: str) -> dict[str, Any]:
    problems = certificate_identifier_problems(identifier)
    if problems:
        raise InvalidInput([f"identifier: {p}" for p in problems])
    certificate = certificates.get_certificate(identifier)
    if certificate is None:
        raise CaseNotFound("no certificate with that identifier")
    signature_valid = aws.verify_signature(
        certificate.signing_key_id,
        certificate.content().signed_bytes(),
        base64.b64decode(certificate.signature),
    )
    return {
        "identifier": certificate.identifier,
        "valid": signature_valid and certificate.status == "valid",
        "signature_valid": signature_valid,
        "status": certificate.status,
        "name": certificate.name,
        "holder_name": certificate.holder_name,
        "holder_id": mask_id_number(certificate.holder_id),
        "issuer_name": certificate.issuer_name,
        "issued_at": certificate.issued_at.isoformat(),
        "algorithm": certificate.algorithm,
        "trust_level": certificate.trust_level,
    }
