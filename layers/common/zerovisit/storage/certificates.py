"""The electronic certificate library."""

from typing import Any

from zerovisit.domain.certificate import Certificate
from zerovisit.errors import CaseNotFound
from zerovisit.storage.common import StartKey, applicant_key, index_page, storage_errors
from zerovisit.storage.tables import CertificateItem


def get_certificate(identifier: str) -> Certificate | None:
    """A consistent read: a revocation, or a step retried right after the write, sees the last write."""
    try:
        with storage_errors():
            item = CertificateItem.get(identifier, consistent_read=True)
    except CaseNotFound:
        return None
    return Certificate.model_validate_json(item.body)


def library(holder_id: str) -> list[Certificate]:
    """Every certificate of the holder, valid or not, oldest first."""
    with storage_errors():
        return [
            Certificate.model_validate_json(item.body)
            for item in CertificateItem.by_holder.query(applicant_key(holder_id), scan_index_forward=True)
        ]


def holder_page(holder_id: str, limit: int, start: StartKey) -> tuple[list[Certificate], StartKey]:
    """A page of the holder's certificates, newest first (the index holds each whole)."""
    hashed = applicant_key(holder_id)

    def query(**page: Any) -> Any:
        return CertificateItem.by_holder.query(hashed, scan_index_forward=False, **page)

    return index_page(
        query, ("holder_key", hashed), limit, start, lambda item: Certificate.model_validate_json(item.body)
    )


def held_certificates(holder_id: str) -> dict[str, str]:
    """The holder's valid certificates: kind -> identifier (the newest of each kind)."""
    held: dict[str, str] = {}
    with storage_errors():
        for item in CertificateItem.by_holder.query(applicant_key(holder_id), scan_index_forward=True):
            if item.status == "valid":
                held[item.kind] = item.identifier
    return held
