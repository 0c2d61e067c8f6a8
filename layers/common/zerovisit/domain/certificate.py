"""Electronic certificates (电子证照): content, identifier and the bytes that are signed."""

import json
from datetime import datetime
from typing import Any, Literal

from zerovisit.domain.catalog import CertificateSpec, Issuer
from zerovisit.domain.identity import certificate_identifier
from zerovisit.domain.model import Frozen

SIGNING_ALGORITHM = "ECDSA_SHA_256"


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

    def content(self) -> CertificateContent:
        return CertificateContent.model_validate(
            self.model_dump(include=set(CertificateContent.model_fields))
        )


def new_content(
    spec: CertificateSpec,
    issuer: Issuer,
    serial: int,
    *,
    holder_id: str,
    holder_name: str,
    case_id: str,
    case_number: str,
    issued_at: datetime,
) -> CertificateContent:
    return CertificateContent(
        identifier=certificate_identifier(spec.type_code, issuer.credit_code, f"{serial:08d}", spec.version),
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
