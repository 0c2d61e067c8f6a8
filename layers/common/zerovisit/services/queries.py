"""What the API shows of a case, and to whom: each partner sees only what is its own.

- the service network (which files every application): the case's status, clock and timeline;
- supervision: the same, read-only, for the cases of the regions it oversees (``SUPERVISION_REGIONS``,
  the template's ``SupervisedRegions``);
- a department: a case where it holds a review task, with what its review needs (the matter, the
  applicant with the identity number masked, the materials its reviews read as the catalog names
  them, the project) and its own tasks only;
- anyone else: 404, as if the case did not exist.

Never a task token, a phone number, an address or an unmasked identity number.
"""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field

from zerovisit.clock import clock
from zerovisit.config import settings
from zerovisit.domain.base import Model
from zerovisit.domain.case import Case
from zerovisit.domain.deadlines import working_days_used
from zerovisit.domain.enterprise import ServiceRecord
from zerovisit.domain.identity import mask_id_number, mask_personal_data
from zerovisit.domain.model import (
    CaseStatus,
    Project,
    SubmittedMaterial,
    SuspensionReason,
    Task,
    TaskKind,
    TaskStatus,
)
from zerovisit.domain.partners import SERVICE_NETWORK, SUPERVISION, supervises
from zerovisit.domain.review import Decision
from zerovisit.errors import CaseNotFound
from zerovisit.services.ports import ports
from zerovisit.storage import cases


class TimelineView(Model):
    at: datetime
    step: str
    event: str
    detail: str
    actor: str


class SuspensionView(Model):
    reason: SuspensionReason
    note: str
    started_on: date
    ended_on: date | None


class FailureView(Model):
    step: str
    error: str


class CaseHeading(Model):
    """What every view of a case starts with."""

    case_id: str
    case_number: str | None
    matter_code: str
    region_code: str
    status: CaseStatus
    step: str
    promised_due: date | None
    suspended: bool


class CaseView(CaseHeading):
    """The case as the service network and supervision see it."""

    view: Literal["case"] = "case"
    accepted_on: date | None
    statutory_due: date | None
    deadline_provisional: bool
    working_days_used: int | None
    working_days_remaining: int | None
    promised_limit: int | None
    statutory_limit: int | None
    statutory_days_remaining: int | None
    deadline_basis: str | None
    suspensions: list[SuspensionView]
    alarms_raised: list[str]
    certificate_id: str | None
    registered_credit_code: str | None
    enterprise_services: list[ServiceRecord]
    waybill: str | None
    outcome_reason: str | None
    failure: FailureView | None
    timeline: list[TimelineView]


class ApplicantView(Model):
    kind: Literal["person", "enterprise"]
    name: str
    id_number_masked: str | None
    credit_code: str | None


class ReviewTaskView(Model):
    task_id: str
    stage: int | None
    status: TaskStatus
    due_on: date | None
    decision: Decision | None
    comments: str | None


class DepartmentCaseView(CaseHeading):
    """A case as a department holding a review task on it sees it."""

    view: Literal["review"] = "review"
    applicant: ApplicantView
    materials: list[SubmittedMaterial] = Field(
        description="those of the application that the department's reviews read (the catalog's list)"
    )
    project: Project | None
    certificate_id: str | None
    registered_credit_code: str | None
    tasks: list[ReviewTaskView]


def oversees(region_code: str) -> bool:
    """Whether supervision oversees the region (read once per cold start)."""
    return supervises(settings().supervised_regions, region_code)


def check_oversees(region_code: str) -> None:
    """A region supervision does not oversee reads as one with nothing in it: 404, as for a case."""
    if not oversees(region_code):
        raise CaseNotFound("not a region the caller oversees")


def case_view(case_id: str, partner: str) -> CaseView | DepartmentCaseView:
    case = cases.get_case(case_id)
    if partner == SERVICE_NETWORK or (partner == SUPERVISION and oversees(case.application.region_code)):
        return _case_view(case)
    own = [t for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW and t.partner == partner]
    if own:
        return _department_view(case, own)
    raise CaseNotFound("no such case")


def operator_view(case_id: str) -> CaseView:
    """The whole case, for an operator's own commands."""
    return _case_view(cases.get_case(case_id))


def _case_view(case: Case) -> CaseView:
    used = case.working_days_used
    if used is None and case.accepted_on is not None:
        used = working_days_used(case.accepted_on, case.suspensions, clock.today())

    def remaining(limit: int | None) -> int | None:
        return max(0, limit - (used or 0)) if limit is not None and not case.is_closed else None

    return CaseView(
        **_heading(case),
        accepted_on=case.accepted_on,
        statutory_due=case.statutory_due,
        deadline_provisional=case.deadline_provisional,
        working_days_used=used,
        working_days_remaining=remaining(case.promised_limit),
        promised_limit=case.promised_limit,
        statutory_limit=case.statutory_limit,
        statutory_days_remaining=remaining(case.statutory_limit),
        deadline_basis=case.deadline_basis,
        suspensions=[
            SuspensionView(
                reason=s.reason,
                note=mask_personal_data(s.note),
                started_on=s.started_on,
                ended_on=s.ended_on,
            )
            for s in case.suspensions
        ],
        alarms_raised=case.alarms_raised,
        certificate_id=case.certificate_id,
        registered_credit_code=case.registered_credit_code,
        enterprise_services=case.enterprise_services,
        waybill=case.waybill,
        outcome_reason=mask_personal_data(case.outcome_reason) if case.outcome_reason else None,
        failure=FailureView(step=case.failure.step, error=case.failure.error) if case.failure else None,
        timeline=[
            TimelineView(
                at=e.at, step=e.step, event=e.event, detail=mask_personal_data(e.detail), actor=e.actor
            )
            for e in cases.timeline(case.case_id)
        ],
    )


def _department_view(case: Case, own: list[Task]) -> DepartmentCaseView:
    applicant = case.application.applicant
    matter = ports().catalog.matter(case.application.matter_code)
    read = matter.materials_read_by((t.stage, t.details.get("department")) for t in own) if matter else set()
    return DepartmentCaseView(
        **_heading(case),
        applicant=ApplicantView(
            kind=applicant.kind,
            name=applicant.name,
            id_number_masked=mask_id_number(applicant.id_number) if applicant.id_number else None,
            credit_code=applicant.credit_code,
        ),
        materials=[m for m in case.application.materials if read is None or m.code in read],
        project=case.application.project,
        certificate_id=case.certificate_id,
        registered_credit_code=case.registered_credit_code,
        tasks=[
            ReviewTaskView(
                task_id=t.task_id,
                stage=t.stage,
                status=t.status,
                due_on=t.due_on,
                decision=(t.answer or {}).get("decision"),
                comments=(t.answer or {}).get("comments"),
            )
            for t in sorted(own, key=lambda t: t.created_at)
        ],
    )


class EnterpriseServices(Model):
    """What an enterprise got after its licence, case by case: seal filing, tax, bank account."""

    credit_code: str
    services: list[ServiceRecord]


def enterprise_services(credit_code: str) -> EnterpriseServices:
    return EnterpriseServices(credit_code=credit_code, services=cases.enterprise_records(credit_code))


def _heading(case: Case) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "case_number": case.case_number,
        "matter_code": case.application.matter_code,
        "region_code": case.application.region_code,
        "status": case.status,
        "step": case.step,
        "promised_due": case.promised_due,
        "suspended": any(s.ended_on is None for s in case.suspensions),
    }
