"""Intake rules: is an application well-formed enough to open a case?"""

import re
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from zerovisit.domain.catalog import Matter, describe
from zerovisit.domain.identity import (
    CATEGORY_ENTERPRISE,
    CATEGORY_FARMERS_COOPERATIVE,
    CATEGORY_INDIVIDUAL_BUSINESS,
    MARKET_REGULATION,
    age_on,
    certificate_identifier_problems,
    credit_code_problems,
    id_number_problems,
    new_organisation_code,
    unified_credit_code,
)
from zerovisit.domain.model import Applicant, Application, Enterprise, EnterpriseType, Transfer
from zerovisit.errors import InvalidInput

MOBILE = re.compile(r"1[3-9][0-9]{9}")
SUBMISSION_SKEW = timedelta(minutes=5)
ADULT_AGE = 18  # full civil capacity (Civil Code art. 17, 18)
COMPANY_TYPES = frozenset({EnterpriseType.LIMITED_LIABILITY_COMPANY, EnterpriseType.JOINT_STOCK_COMPANY})


def parse_application(data: Any) -> Application:
    try:
        return Application.model_validate(data)
    except ValidationError as e:
        raise InvalidInput([describe(err) for err in e.errors()]) from e


def application_problems(application: Application, matter: Matter | None, today: date) -> list[str]:
    """Every reason the application cannot open a case, at once. Missing materials are not among
    them: those are pre-review's one-time correction notice; nor is the agent's authority."""
    problems: list[str] = []
    if matter is None:
        problems.append(f"matter_code: no online matter '{application.matter_code}' in the catalog")
    problems += party_problems("applicant", application.applicant, today)
    if application.agent is not None:
        problems += [f"agent.id_number: {p}" for p in id_number_problems(application.agent.id_number, today)]
        problems += _phone_problems("agent.phone", application.agent.phone)
    if application.delivery is not None:
        problems += _phone_problems("delivery.phone", application.delivery.phone)
    if application.enterprise is not None:
        problems += enterprise_problems(application.enterprise, today)
    if application.transfer is not None:
        problems += transfer_problems(application.transfer, application.applicant, today)
    if matter is not None:
        problems += _matter_problems(application, matter)
    seen: set[str] = set()
    for material in application.materials:
        if material.code in seen:
            problems.append(f"materials: '{material.code}' submitted twice")
        seen.add(material.code)
    return problems


def party_problems(field: str, party: Applicant, today: date) -> list[str]:
    """A person is known by a valid identity number, an enterprise by a valid credit code."""
    problems: list[str] = []
    if party.kind == "person":
        if not party.id_number:
            problems.append(f"{field}.id_number: required for a person")
        else:
            problems += [f"{field}.id_number: {p}" for p in id_number_problems(party.id_number, today)]
    elif not party.credit_code:
        problems.append(f"{field}.credit_code: required for an enterprise")
    else:
        problems += [f"{field}.credit_code: {p}" for p in credit_code_problems(party.credit_code)]
    return problems + _phone_problems(f"{field}.phone", party.phone)


def enterprise_problems(enterprise: Enterprise, today: date) -> list[str]:
    """The enterprise to register: a legal representative of full age, capital for a company."""
    field = "enterprise.legal_representative"
    representative = enterprise.legal_representative
    problems = [f"{field}.id_number: {p}" for p in id_number_problems(representative.id_number, today)]
    age = age_on(representative.id_number, today)
    if not problems and age is not None and age < ADULT_AGE:
        problems.append(f"{field}: must be at least {ADULT_AGE} years old")
    problems += _phone_problems(f"{field}.phone", representative.phone)
    if enterprise.type in COMPANY_TYPES and enterprise.registered_capital_fen == 0:
        problems.append("enterprise.registered_capital_fen: a company needs a registered capital above 0")
    return problems


def registration_credit_code(enterprise: Enterprise, region_code: str, serial: int) -> str:
    """The credit code market regulation assigns the enterprise it registers in the region: authority
    9, the category of its type, the region, a new organisation code from the registration serial."""
    category = {
        EnterpriseType.INDIVIDUAL_BUSINESS: CATEGORY_INDIVIDUAL_BUSINESS,
        EnterpriseType.FARMERS_COOPERATIVE: CATEGORY_FARMERS_COOPERATIVE,
    }.get(enterprise.type, CATEGORY_ENTERPRISE)
    return unified_credit_code(MARKET_REGULATION, category, region_code, new_organisation_code(serial))


def transfer_problems(transfer: Transfer, applicant: Applicant, today: date) -> list[str]:
    """Seller and buyer are two valid parties, the applicant is one of them, the seller's title is
    a certificate identifier. Whether the seller holds that title is checked in pre-review."""
    problems = party_problems("transfer.seller", transfer.seller, today)
    problems += party_problems("transfer.buyer", transfer.buyer, today)
    seller, buyer = party_key(transfer.seller), party_key(transfer.buyer)
    if seller and seller == buyer:
        problems.append("transfer: seller and buyer are the same party")
    if party_key(applicant) not in {seller, buyer}:
        problems.append("applicant: must be the seller or the buyer (both parties apply together)")
    problems += [
        f"transfer.seller_title: {p}" for p in certificate_identifier_problems(transfer.seller_title)
    ]
    return problems


def party_key(party: Applicant) -> str:
    """What a party is known by: identity number or credit code (upper case)."""
    return ((party.id_number if party.kind == "person" else party.credit_code) or "").upper()


def _matter_problems(application: Application, matter: Matter) -> list[str]:
    problems: list[str] = []
    region = matter.region(application.region_code)
    if region is None:
        problems.append(
            f"region_code: matter {matter.code} is not offered in region {application.region_code}"
        )
    elif not region.zero_visit:
        problems.append(
            f"region_code: matter {matter.code} cannot be handled online in region {region.region_code}"
        )
    if matter.certificate.paper_original and application.delivery is None:
        problems.append("delivery: required, the paper result of this matter is sent by EMS")
    for part in ("enterprise", "transfer"):
        given = getattr(application, part) is not None
        if part in matter.requires and not given:
            problems.append(f"{part}: required for matter {matter.code}")
        elif given and part not in matter.requires:
            problems.append(f"{part}: not part of matter {matter.code}")
    problems += [
        f"materials: '{m.code}' is not a material of matter {matter.code}"
        for m in application.materials
        if matter.material(m.code) is None
    ]
    return problems


def _phone_problems(field: str, phone: str | None) -> list[str]:
    if phone is None or MOBILE.fullmatch(phone):
        return []
    return [f"{field}: not an 11-digit mainland mobile number"]


def submission_time_problems(submitted_at: datetime, now: datetime) -> list[str]:
    """A submission moment is unambiguous (it carries its offset) and has happened (a few minutes of
    clock skew between the service network and this system allowed)."""
    if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
        return ["submitted_at: must carry a time zone offset, e.g. 2026-02-13T09:30:00+08:00"]
    if submitted_at > now + SUBMISSION_SKEW:
        return ["submitted_at: is in the future"]
    return []


def validated_application(
    data: Any, matter_lookup: Any, today: date, now: datetime | None = None
) -> tuple[Application, Matter]:
    """Parse and check; raise InvalidInput naming every problem."""
    application = parse_application(data)
    matter = matter_lookup(application.matter_code)
    problems = application_problems(application, matter, today)
    if now is not None:
        problems += submission_time_problems(application.submitted_at, now)
    if problems:
        raise InvalidInput(problems)
    assert matter is not None
    return application, matter


def changed_fields(stored: Application, submitted: Application) -> list[str]:
    """The top-level fields in which a resubmission differs, never their values."""
    before, after = stored.model_dump(mode="json"), submitted.model_dump(mode="json")
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
