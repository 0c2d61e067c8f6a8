"""The local twin of the real-estate registry: titles that exist before a run (a home bought years
ago), so that a transfer has a seller's title to check and revoke.

A title is built from the catalog's certificate of the transfer matter, with the identifier it was
registered under, signed through the same adapter (the certificate key in KMS) and written to the
same library as the titles the pipeline issues: verification treats both alike. Call it while no
function runs (``LocalRuntime.exclusive()``).
"""

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from zerovisit.clock import clock
from zerovisit.domain.certificate import Certificate, new_content, random_serial
from zerovisit.domain.identity import (
    CERTIFICATE_PREFIX,
    certificate_identifier,
    certificate_identifier_problems,
)
from zerovisit.services.certificate import signed
from zerovisit.storage.catalog import get_matter
from zerovisit.storage.tables import CertificateItem, certificate_item

if TYPE_CHECKING:
    from infra.local.runtime import LocalRuntime

TRANSFER = "REAL-ESTATE-TRANSFER"
# A title registered outside any case of this system.
REGISTRY_CASE = "REGISTRY"


def register_title(
    identifier: str, holder_id: str, holder_name: str, *, issued_at: datetime | None = None
) -> Certificate:
    """Hold a valid title under ``identifier`` for the holder; the identifier's issuer code names
    which of the catalog's issuers registered it. Written once: an identifier already in the
    library is refused."""
    problems = certificate_identifier_problems(identifier)
    if problems:
        raise ValueError(f"{identifier}: {'; '.join(problems)}")
    matter = get_matter(TRANSFER)
    if matter is None:
        raise LookupError(f"the catalog has no {TRANSFER}: load the catalog first")
    issuer_code = identifier.removeprefix(CERTIFICATE_PREFIX).split(".")[1]
    issuer = next((i for i in matter.certificate.issuers if i.credit_code == issuer_code), None)
    if issuer is None:
        raise LookupError(f"no issuer of {TRANSFER} has the credit code {issuer_code}")
    content = new_content(
        matter.certificate,
        issuer,
        holder_id=holder_id.upper(),
        holder_name=holder_name,
        case_id=REGISTRY_CASE,
        case_number="",
        issued_at=issued_at or clock.now(),
    ).model_copy(update={"identifier": identifier})
    title = signed(content)
    certificate_item(title).save(condition=CertificateItem.identifier.does_not_exist())
    return title


def hold_sellers_title(
    runtime: "LocalRuntime", detail: Mapping[str, Any], issued_at: datetime | None = None
) -> str | None:
    """Before a transfer is submitted, its seller holds the title it names: the title's identifier,
    or None for an application that transfers nothing or names an identifier intake refuses."""
    transfer = detail.get("transfer")
    if not transfer or certificate_identifier_problems(transfer["seller_title"]):
        return None
    seller = transfer["seller"]
    with runtime.exclusive():
        register_title(
            transfer["seller_title"],
            seller.get("id_number") or seller["credit_code"],
            seller["name"],
            issued_at=issued_at,
        )
    return str(transfer["seller_title"])


def fresh_title_identifier(like: str) -> str:
    """A valid identifier of the same kind and issuer as ``like``, with a fresh random serial: each
    test or bench transfer names a title of its own."""
    type_code, issuer_code, _, version, _ = like.removeprefix(CERTIFICATE_PREFIX).split(".")
    return certificate_identifier(type_code, issuer_code, random_serial(), int(version))
