"""A holder's certificate library (电子证照库), listed for the government service network, which
acts for the holder: every certificate the person or organisation holds, newest first, with its
status on the day (valid, revoked, expired) and a short-lived link to its rendering.

The holder is named by an identity number or a unified social credit code; the index is keyed on a
digest of it, and the cursor carries no holder.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from zerovisit.clock import clock
from zerovisit.domain.base import Model
from zerovisit.domain.certificate import Certificate, Status
from zerovisit.domain.identity import holder_problems
from zerovisit.domain.signing import SigningAlgorithm
from zerovisit.errors import InvalidInput
from zerovisit.services.ports import ports
from zerovisit.services.rendering import rendering_key
from zerovisit.services.search import check_limit, decode_cursor, encode_cursor


class RenderingLink(Model):
    url: str = Field(description="a presigned address of the PNG, valid until expires_at")
    media_type: Literal["image/png"] = "image/png"
    expires_at: datetime


class HeldCertificate(Model):
    identifier: str
    kind: str
    name: str
    issuer_code: str
    issuer_name: str
    issued_at: datetime
    valid_until: date | None = Field(description="the last valid day; null: valid without end")
    status: Status
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    algorithm: SigningAlgorithm
    rendering: RenderingLink


class LibraryPage(Model):
    certificates: list[HeldCertificate]
    next_cursor: str | None = Field(description="pass as cursor for the next page; null at the end")


def holder_library(holder_id: str, cursor: str | None, limit: int) -> LibraryPage:
    holder = holder_id.upper()  # an identity number's X may come in lower case
    problems = [f"holder_id: {p}" for p in holder_problems(holder, clock.today())] + check_limit(limit)
    if problems:
        raise InvalidInput(problems)
    query = {"holder": holder}
    page = ports().certificates.page(holder, limit, decode_cursor(query, cursor))
    today = clock.today()
    return LibraryPage(
        certificates=[_held(c, today) for c in page.certificates],
        next_cursor=encode_cursor(query, page.next_key),
    )


def _held(certificate: Certificate, today: date) -> HeldCertificate:
    """What the record says, its status today, and a fresh link to its rendering."""
    link = ports().gateway.rendering_link(rendering_key(certificate.identifier))
    recorded = certificate.model_dump(include=set(HeldCertificate.model_fields) - {"status", "rendering"})
    return HeldCertificate(
        **recorded,
        status=certificate.status_on(today),
        rendering=RenderingLink(url=link.url, expires_at=link.expires_at),
    )
