"""Revoking a certificate with a reason (the issuing office's operators): the revocation, a note on
the case that issued it and a CertificateRevoked event, in one write.

Revoking is idempotent: a certificate already revoked (by an operator, or by the transfer of a
title) stays revoked with its first reason and time, and revoking it again changes nothing. The
write holds only while the certificate is still valid, so two revocations at once make one.
"""

from datetime import datetime
from typing import Literal

from pydantic import Field

from zerovisit.clock import clock
from zerovisit.domain.base import Model
from zerovisit.domain.case import revocation
from zerovisit.domain.certificate import Certificate, reason_problems
from zerovisit.errors import CaseNotFound, Conflict, InvalidInput
from zerovisit.services.common import ATTEMPTS
from zerovisit.services.ports import ports
from zerovisit.services.verification import identifier_problems


class Revocation(Model):
    identifier: str
    status: Literal["revoked"]
    reason: str
    revoked_at: datetime
    revoked_now: bool = Field(description="false: it already was revoked; the first reason and time stand")


def revoke(identifier: str, reason: str, actor: str) -> Revocation:
    problems = identifier_problems(identifier) + reason_problems(reason)
    if problems:
        raise InvalidInput(problems)
    library, repository = ports().certificates, ports().cases
    for _ in range(ATTEMPTS):
        certificate = library.get(identifier)
        if certificate is None:
            raise CaseNotFound("no certificate with that identifier")
        if certificate.status == "revoked":
            return _answer(certificate, revoked_now=False)
        change = revocation(certificate, clock.now(), reason.strip(), actor)
        try:
            repository.save(change)
        except Conflict:
            continue  # revoked meanwhile: read it again
        return _answer(change.revoked[0], revoked_now=True)
    raise Conflict("the certificate kept changing; try again")


def _answer(certificate: Certificate, revoked_now: bool) -> Revocation:
    assert certificate.revoked_at is not None
    return Revocation(
        identifier=certificate.identifier,
        status="revoked",
        reason=certificate.revoked_reason or "",
        revoked_at=certificate.revoked_at,
        revoked_now=revoked_now,
    )
