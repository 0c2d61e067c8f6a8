"""Intake rules: is an application well-formed enough to open a case?"""

import re
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from zerovisit.domain.catalog import Matter, describe
from zerovisit.domain.identity import credit_code_problems, id_number_problems
from zerovisit.domain.model import Application
from zerovisit.errors import InvalidInput

MOBILE = re.compile(r"1[3-9][0-9]{9}")
SUBMISSION_SKEW = timedelta(minutes=5)


def parse_application(data: Any) -> Application:
    try:
        return Application.model_validate(data)
    except ValidationError as e:
        raise InvalidInput([describe(err) for err in e.errors()]) from e


def application_problems(application: Application, matter: Matter | None, today: date) -> list[str]:
    """Every reason the application cannot open a case, at once. Missing materials are not among
    them: those are pre-review's one-time correction notice."""
    problems: list[str] = []
    if matter is None:
        problems.append(f"matter_code: no online matter '{application.matter_code}' in the catalog")
    applicant = application.applicant
    if applicant.kind == "person":
        if not applicant.id_number:
            problems.append("applicant.id_number: required for a person")
        else:
            problems += [f"applicant.id_number: {p}" for p in id_number_problems(applicant.id_number, today)]
    elif not applicant.credit_code:
        problems.append("applicant.credit_code: required for an enterprise")
    else:
        problems += [f"applicant.credit_code: {p}" for p in credit_code_problems(applicant.credit_code)]
    if applicant.phone is not None and not MOBILE.fullmatch(applicant.phone):
        problems.append("applicant.phone: not an 11-digit mainland mobile number")
    if application.agent is not None:
        problems += [f"agent.id_number: {p}" for p in id_number_problems(application.agent.id_number, today)]
        if application.agent.phone is not None and not MOBILE.fullmatch(application.agent.phone):
            problems.append("agent.phone: not an 11-digit mainland mobile number")
    if application.delivery is not None and not MOBILE.fullmatch(application.delivery.phone):
        problems.append("delivery.phone: not an 11-digit mainland mobile number")
    if matter is not None:
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
        problems += [
            f"materials: '{m.code}' is not a material of matter {matter.code}"
            for m in application.materials
            if matter.material(m.code) is None
        ]
    seen: set[str] = set()
    for material in application.materials:
        if material.code in seen:
            problems.append(f"materials: '{material.code}' submitted twice")
        seen.add(material.code)
    return problems


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
