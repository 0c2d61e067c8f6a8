"""Pre-review (网上预审): every missing material named at once, held e-certificates reused, the
agent's authority checked, and a transfer's seller's title checked in the certificate library.

The seller's title is registry data: a title that is not the seller's, or no longer valid, is not
mended by uploading a scan, so its deficiency is not correctable and the case is not accepted."""

import re
from collections.abc import Iterable
from datetime import date
from typing import NamedTuple, Protocol

from zerovisit.clock import CHINA
from zerovisit.domain.application import ADULT_AGE, party_key
from zerovisit.domain.catalog import Holder, Matter, RequiredMaterial
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.identity import age_on
from zerovisit.domain.model import Application, Deficiency, SubmittedMaterial

# A submitted document is named by the SHA-256 digest the service network stored it under.
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
# An identity number of someone older is not a living agent's (a wrong or borrowed number).
OLDEST_PLAUSIBLE_AGE = 120
AGENT = "AGENT"


class HeldCertificate(Protocol):
    """What pre-review needs of a certificate in someone's library (a stored Certificate fits)."""

    @property
    def identifier(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def holder_id(self) -> str: ...
    @property
    def status(self) -> str: ...


class HeldOn(NamedTuple):
    """A certificate as it stands on a day: ``status`` is valid, revoked or expired."""

    identifier: str
    kind: str
    holder_id: str
    status: str


def held_on(certificate: Certificate, day: date) -> HeldOn:
    return HeldOn(certificate.identifier, certificate.kind, certificate.holder_id, certificate.status_on(day))


def holder_id(application: Application, holder: Holder) -> str | None:
    """The identity number or credit code of a party of the application, None if it has none."""
    if holder is Holder.APPLICANT:
        return party_key(application.applicant) or None
    if holder is Holder.LEGAL_REPRESENTATIVE:
        enterprise = application.enterprise
        return enterprise.legal_representative.id_number.upper() if enterprise else None
    transfer = application.transfer
    if transfer is None:
        return None
    return party_key(transfer.seller if holder is Holder.SELLER else transfer.buyer) or None


def holders(application: Application, matter: Matter) -> set[str]:
    """Whose libraries pre-review reads: the parties any material may be held by."""
    found = (holder_id(application, m.held_by) for m in matter.materials if m.satisfied_by_certificate)
    return {h for h in found if h}


def review_materials(
    application: Application, matter: Matter, held: Iterable[HeldCertificate]
) -> tuple[list[Deficiency], dict[str, str]]:
    """Deficiencies of the submission (the agent's included), and the materials satisfied by
    existing e-certificates (material code -> certificate identifier). A certificate counts only
    if it is of the material's kind, valid, and held by the party the material belongs to; the
    seller's title must moreover be the one the application names, and is checked whether or
    not a scan of it was uploaded. ``held``: the parties' certificates as they stand today."""
    held = list(held)
    submitted = {m.code: m for m in application.materials}
    deficiencies: list[Deficiency] = []
    reused: dict[str, str] = {}
    for required in matter.required_materials(application):
        material = submitted.get(required.code)
        title_problem = seller_title_problem(application, matter, held) if required.is_seller_title else None
        if title_problem is not None:
            deficiencies.append(
                Deficiency(
                    material=required.code,
                    problem=f"{required.name}: the title the application names {title_problem}",
                    correctable=False,
                )
            )
            continue
        if material is not None:
            if not DIGEST.fullmatch(material.document_ref):
                deficiencies.append(
                    Deficiency(
                        material=required.code, problem=f"{required.name}: document cannot be verified"
                    )
                )
            continue
        certificate = _satisfying(application, required, held)
        if certificate is not None:
            reused[required.code] = certificate
        else:
            deficiencies.append(Deficiency(material=required.code, problem=f"{required.name}: not submitted"))
    return agent_deficiencies(application) + deficiencies, reused


def seller_title_problem(
    application: Application, matter: Matter, held: Iterable[HeldCertificate]
) -> str | None:
    """Why the title a transfer names cannot pass to the buyer, or None if it can (or nothing is
    transferred): it must be among the seller's certificates of the kind the catalog's seller-title
    material names, and valid. A title someone else holds reads as one not found: the answer goes
    to the applicant and tells nothing of another party."""
    transfer = application.transfer
    required = next((m for m in matter.materials if m.is_seller_title), None)
    if transfer is None or required is None:
        return None
    seller = holder_id(application, required.held_by)
    title = next(
        (
            c
            for c in held
            if c.identifier == transfer.seller_title
            and c.kind == required.satisfied_by_certificate
            and c.holder_id.upper() == seller
        ),
        None,
    )
    if title is None:
        return "is not among the seller's titles in the certificate library"
    if title.status != "valid":
        return f"is {title.status}"
    return None


def _satisfying(
    application: Application, required: RequiredMaterial, held: list[HeldCertificate]
) -> str | None:
    owner = holder_id(application, required.held_by)
    if required.satisfied_by_certificate is None or owner is None:
        return None
    transfer = application.transfer
    named = transfer.seller_title if required.is_seller_title and transfer is not None else None
    for certificate in reversed(held):  # the newest first
        if (
            certificate.identifier
            and certificate.kind == required.satisfied_by_certificate
            and certificate.holder_id.upper() == owner
            and certificate.status == "valid"
            and named in (None, certificate.identifier)
        ):
            return certificate.identifier
    return None


def agent_deficiencies(application: Application) -> list[Deficiency]:
    """An agent (代办员) must be an adult on the day of submission, a living person, and someone
    other than the applicant. The authorisation itself is a material of the matter."""
    agent = application.agent
    if agent is None:
        return []
    submitted_on = application.submitted_at.astimezone(CHINA).date()
    problems: list[str] = []
    age = age_on(agent.id_number, submitted_on)
    if age is not None and age < ADULT_AGE:
        problems.append(f"must be at least {ADULT_AGE} years old on the day of submission")
    if age is not None and age > OLDEST_PLAUSIBLE_AGE:
        problems.append(f"identity number gives an age above {OLDEST_PLAUSIBLE_AGE}")
    if agent.id_number.upper() == party_key(application.applicant):
        problems.append("is the applicant; an applicant files without an agent")
    return [Deficiency(material=AGENT, problem=f"代办人 {agent.name}: {p}") for p in problems]


def apply_correction(application: Application, corrected: list[SubmittedMaterial]) -> Application:
    """The corrected materials replace earlier ones with the same code."""
    by_code = {m.code: m for m in application.materials}
    by_code.update({m.code: m for m in corrected})
    return application.model_copy(update={"materials": list(by_code.values())})


def may_ask_for_correction(
    rounds_so_far: int, max_rounds: int, deficiencies: Iterable[Deficiency] = ()
) -> bool:
    """Whether another correction round is allowed (the catalog's ``waits.max_correction_rounds``)
    and could help: not when any deficiency is one no material mends."""
    return rounds_so_far < max_rounds and all(d.correctable for d in deficiencies)
