"""The electronic certificate library."""

from zerovisit.domain.certificate import Certificate
from zerovisit.errors import CaseNotFound
from zerovisit.storage.common import applicant_key, storage_errors
from zerovisit.storage.tables import CertificateItem


def get_certificate(identifier: str) -> Certificate | None:
    try:
        with storage_errors():
            item = CertificateItem.get(identifier)
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


def held_certificates(holder_id: str) -> dict[str, str]:
    """The holder's valid certificates: kind -> identifier (the newest of each kind)."""
    held: dict[str, str] = {}
    with storage_errors():
        for item in CertificateItem.by_holder.query(applicant_key(holder_id), scan_index_forward=True):
            if item.status == "valid":
                held[item.kind] = item.identifier
    return held
