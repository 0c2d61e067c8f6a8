"""Electronic certificates (电子证照): content, identifier, the bytes that are signed, and what
public verification shows.

A certificate records the algorithm that signed it (``SigningAlgorithm``): ECDSA over P-256 outside
China, SM2 where the region's KMS has SM2 keys; verification checks it with the recorded algorithm.

An identifier's serial is random (``random_serial``), so identifiers cannot be guessed from one
another; its check character stays ISO/IEC 7064 MOD 37,36 over the fields. The verification code
printed on the certificate (``verification_code``) is derived from the certificate's signature,
which is never published, and unlocks the holder's full name on the public verification route.
"""

import hashlib
import hmac
import json
import secrets
from datetime import date, datetime, timedelta
from typing import Any, Literal

from zerovisit.clock import CHINA
from zerovisit.domain.catalog import CertificateSpec, Issuer
from zerovisit.domain.identity import certificate_identifier, mask_personal_data
from zerovisit.domain.model import Frozen
from zerovisit.domain.signing import SIGNING_ALGORITHM, SigningAlgorithm

Status = Literal["valid", "revoked", "expired"]
REASON_MAX_LENGTH = 500
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
    valid_until: date | None = None  # None: no end (长期)

    def signed_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no spaces, UTF-8; what the signature covers. A certificate
        without an end of validity is signed without the field, as before the field existed."""
        data: dict[str, Any] = self.model_dump(mode="json")
        if data["valid_until"] is None:
            del data["valid_until"]
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Certificate(CertificateContent):
    status: Literal["valid", "revoked"] = "valid"
    algorithm: SigningAlgorithm = SIGNING_ALGORITHM
    signing_key_id: str
    signature: str
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def revoked(self, at: datetime, reason: str) -> "Certificate":
        """No longer valid (a title passed to a buyer, an error, a court's order); the signed content
        stays as issued."""
        return self.model_copy(update={"status": "revoked", "revoked_at": at, "revoked_reason": reason})

    def status_on(self, day: date) -> Status:
        """Revoked before anything else; expired after its last valid day."""
        if self.status == "revoked":
            return "revoked"
        if self.valid_until is not None and day > self.valid_until:
            return "expired"
        return "valid"

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


def reason_problems(reason: str, shown: str = "verification shows it to anyone") -> list[str]:
    """A reason others read (a revocation's, by anyone who verifies the certificate; a refusal's, by
    the applicant and supervision): plain text, short, and with no identity or phone number in it."""
    problems = []
    text = reason.strip()
    if not text:
        problems.append("reason: must not be empty")
    if len(text) > REASON_MAX_LENGTH:
        problems.append(f"reason: at most {REASON_MAX_LENGTH} characters, got {len(text)}")
    if any(ord(char) < 32 or ord(char) == 127 for char in text):
        problems.append("reason: no control characters (line breaks included)")
    if mask_personal_data(text) != text:
        problems.append(f"reason: must not contain an identity or phone number ({shown})")
    return problems


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
    """The serial is random: one identifier tells nothing of another. A kind valid for some years
    is valid to the day before the issue date's anniversary (China time)."""
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
        valid_until=_last_valid_day(issued_at, spec.validity_years),
    )


def _last_valid_day(issued_at: datetime, years: int | None) -> date | None:
    if years is None:
        return None
    issued = issued_at.astimezone(CHINA).date()
    try:
        anniversary = issued.replace(year=issued.year + years)
    except ValueError:  # 29 February, in a year without one: the term ends on 28 February
        anniversary = date(issued.year + years, 3, 1)
    return anniversary - timedelta(days=1)
