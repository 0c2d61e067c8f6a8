"""Certificate verification: anyone holding an identifier can check a certificate, and cannot use
the route to list holders.

Serials are random, a malformed identifier is told what is wrong but never the check character it
should have, and the holder's name is masked unless the caller gives the verification code printed
on the certificate. The identity number is always masked. API Gateway throttles the route.

A revoked certificate says when and why; one past its last valid day is expired. The signature is
checked with the algorithm the certificate records (SM2DSA or ECDSA_SHA_256), whatever the
region's key signs today.
"""

import base64
import re
from datetime import date, datetime
from typing import Literal

from zerovisit.clock import clock
from zerovisit.domain.base import Model
from zerovisit.domain.certificate import Status, code_matches, masked_name
from zerovisit.domain.identity import certificate_identifier_problems, mask_id_number
from zerovisit.domain.signing import SigningAlgorithm
from zerovisit.errors import CaseNotFound, InvalidInput
from zerovisit.services.ports import ports

EXPECTED_CHECK = re.compile(r"^check character is .*$")


class Verification(Model):
    identifier: str
    valid: bool
    signature_valid: bool
    status: Status
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    name: str
    holder_name: str
    holder_name_masked: bool
    holder_id_masked: str
    issuer_name: str
    issued_at: datetime
    valid_until: date | None = None
    algorithm: SigningAlgorithm
    trust_level: Literal["A", "B", "C", "D"]


def identifier_problems(identifier: str) -> list[str]:
    """The identifier's problems, without ever naming the check character it should have."""
    return [
        "identifier: check character does not match" if EXPECTED_CHECK.match(p) else f"identifier: {p}"
        for p in certificate_identifier_problems(identifier)
    ]


def verify(identifier: str, code: str | None = None) -> Verification:
    problems = identifier_problems(identifier)
    if problems:
        raise InvalidInput(problems)
    certificate = ports().certificates.get(identifier)
    if certificate is None:
        raise CaseNotFound("no certificate with that identifier")
    if code is not None and not code_matches(certificate.signature, code):
        raise InvalidInput(["code: does not match the certificate's verification code"])
    signature_valid = ports().gateway.verify(
        certificate.signing_key_id,
        certificate.content().signed_bytes(),
        base64.b64decode(certificate.signature),
        certificate.algorithm,
    )
    status = certificate.status_on(clock.today())
    return Verification(
        identifier=certificate.identifier,
        valid=signature_valid and status == "valid",
        signature_valid=signature_valid,
        status=status,
        revoked_at=certificate.revoked_at,
        revoked_reason=certificate.revoked_reason,
        name=certificate.name,
        holder_name=certificate.holder_name if code is not None else masked_name(certificate.holder_name),
        holder_name_masked=code is None,
        holder_id_masked=mask_id_number(certificate.holder_id),
        issuer_name=certificate.issuer_name,
        issued_at=certificate.issued_at,
        valid_until=certificate.valid_until,
        algorithm=certificate.algorithm,
        trust_level=certificate.trust_level,
    )
