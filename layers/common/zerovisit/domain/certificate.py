"""Electronic certificates (电子证照): content, identifier, the bytes that are signed, and what
public verification shows.

An identifier's serial is random (``random_serial``), so identifiers cannot be guessed from one
another; its check character stays ISO/IEC 7064 MOD 37,36 over the fields. The verification code
printed on the certificate (``verification_code``) is derived from the certificate's signature,
which is never published, and unlocks the holder's full name on the public verification route.
"""

import hashlib
import hmac
import json
import secrets
from datetime import datetime
from typing import Any, Literal

from zerovisit.domain.catalog import CertificateSpec, Issuer
from zerovisit.domain.identity import certificate_identifier
from zerovisit.domain.model import Frozen

SIGNING_ALGORITHM = "ECDSA_SHA_256"
SERIAL_DIGITS = 16
# Crockford's base 32: no I, L, O or U, so a code read from paper is not misread.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 8


class CertificateContent(Frozen):
    identifier: str
    kind: str
    name: str
    holder_id: str
    holder_name: str
    issuer_code: str
    issuer_name: str
    case_id: str
    case_number: str
    issued_at: datetime
    trust_level: Literal["A", "B", "C", "D"] = "A"

    def signed_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no spaces, UTF-8; what the signature covers."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Certificate(CertificateContent):
    status: Literal["valid", "revoked"] = "valid"
    algorithm: str = SIGNING_ALGORITHM
    signing_key_id: str
    signature: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def revoked(self, at: datetime, reason: str) -> "Certificate":
        """No longer valid (a title passed to a buyer); the signed content stays as issued."""
        return self.model_copy(update={"status": "revoked", "revoked_at": at, "revoked_reason": reason})

    def content(self) -> CertificateContent:
        return CertificateContent.model_validate(
            self.model_dump(include=set(CertificateContent.model_fields))
        )


def random_serial() -> str:
    """16 random digits: no identifier tells anything about another."""
    return f"{secrets.randbelow(10**SERIAL_DIGITS):0{SERIAL_DIGITS}d}"


def verification_code(signature: str) -> str:
    """The code printed on the certificate, as ``XXXX-XXXX``: 40 bits derived from its signature."""
    digest = int.from_bytes(hashlib.sha256(f"zerovisit-verification\n{signature}".encode()).digest()[:5])
    chars = "".join(CODE_ALPHABET[(digest >> (5 * i)) & 31] for i in reversed(range(CODE_LENGTH)))
    return f"{chars[:4]}-{chars[4:]}"


def code_matches(signature: str, given: str) -> bool:
    """Whether a code someone typed is the certificate's: case, spaces and dashes do not matter."""
    typed = given.upper().replace("-", "").replace(" ", "")
    return hmac.compare_digest(typed.encode(), verification_code(signature).replace("-", "").encode())


def masked_name(name: str) -> str:
    """The first character and a star for each other one: '张**', '南*******'."""
    return name[:1] + "*" * (len(name) - 1)


def new_content(
    spec: CertificateSpec,
    issuer: Issuer,
    *,
    holder_id: str,
    holder_name: str,
    case_id: str,
    case_number: str,
    issued_at: datetime,
) -> CertificateContent:
    """The serial is random: one identifier tells nothing of another."""
    return CertificateContent(
        identifier=certificate_identifier(spec.type_code, issuer.credit_code, random_serial(), spec.version),
        kind=spec.kind,
        name=spec.name,
        holder_id=holder_id,
        holder_name=holder_name,
        issuer_code=issuer.credit_code,
        issuer_name=issuer.name,
        case_id=case_id,
        case_number=case_number,
        issued_at=issued_at,
        trust_level=spec.trust_level,
    )
