"""The case and what belongs to it: pure data, no I/O."""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Applicant(Frozen):
    kind: Literal["person", "enterprise"]
    name: ShortText
    id_number: str | None = None
    credit_code: str | None = None
    phone: str | None = None


class Agent(Frozen):
    """A 代办员 filing on the applicant's behalf, with the applicant's authorisation."""

    name: ShortText
    id_number: str
    phone: str | None = None
    authorisation_ref: ShortText


class SubmittedMaterial(Frozen):
    code: ShortText
    document_ref: ShortText


class DeliveryAddress(Frozen):
    recipient: ShortText
    phone: str
    address: Annotated[str, StringConstraints(min_length=4, max_length=300)]


class Project(Frozen):
    """A construction project: where it is decides which regional assessments it may reuse."""

    name: ShortText
    zone_code: ShortText | None = None
    complex: bool = False


class Person(Frozen):
    name: ShortText
    id_number: str
    phone: str | None = None


class EnterpriseType(StrEnum):
    LIMITED_LIABILITY_COMPANY = "limited_liability_company"  # 有限责任公司
    JOINT_STOCK_COMPANY = "joint_stock_company"  # 股份有限公司
    SOLE_PROPRIETORSHIP = "sole_proprietorship"  # 个人独资企业
    PARTNERSHIP = "partnership"  # 合伙企业
    INDIVIDUAL_BUSINESS = "individual_business"  # 个体工商户
    FARMERS_COOPERATIVE = "farmers_cooperative"  # 农民专业合作社


class Enterprise(Frozen):
    """The enterprise a business start-up registers; its founder is the applicant."""

    name: ShortText
    type: EnterpriseType
    registered_capital_fen: int = Field(ge=0)
    address: Annotated[str, StringConstraints(min_length=4, max_length=300)]
    legal_representative: Person


class Transfer(Frozen):
    """A sale of a registered home (存量房买卖): seller and buyer apply together."""

    seller: Applicant
    buyer: Applicant
    seller_title: ShortText
    declared_price_fen: int = Field(gt=0)
    floor_area_m2: Decimal = Field(gt=0, max_digits=8, decimal_places=2)
    buyer_family_homes: int = Field(ge=1, le=99)


class Application(Frozen):
    application_id: Identifier
    matter_code: ShortText
    region_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    applicant: Applicant
    agent: Agent | None = None
    materials: list[SubmittedMaterial] = Field(default_factory=list)
    delivery: DeliveryAddress | None = None
    project: Project | None = None
    enterprise: Enterprise | None = None
    transfer: Transfer | None = None
    submitted_at: datetime


class CaseStatus(StrEnum):
    SUBMITTED = "submitted"
    AWAITING_CORRECTION = "awaiting_correction"
    ACCEPTED = "accepted"
    IN_REVIEW = "in_review"
    AWAITING_PAYMENT = "awaiting_payment"
    ISSUING = "issuing"
    AWAITING_DELIVERY = "awaiting_delivery"
    COMPLETED = "completed"
    REJECTED = "rejected"
    NOT_ACCEPTED = "not_accepted"
    WITHDRAWN = "withdrawn"
    FAILED = "failed"


CLOSED_STATUSES = frozenset(
    {
        CaseStatus.COMPLETED,
        CaseStatus.REJECTED,
        CaseStatus.NOT_ACCEPTED,
        CaseStatus.WITHDRAWN,
        CaseStatus.FAILED,
    }
)


class Deficiency(Frozen):
    material: str
    problem: str


class SuspensionReason(StrEnum):
    APPLICANT_CORRECTION = "applicant_correction"
    ON_SITE_INSPECTION = "on_site_inspection"
    EXPERT_REVIEW = "expert_review"
    HEARING = "hearing"
    TESTING = "testing"
    APPRAISAL = "appraisal"
    AUCTION = "auction"
    QUARANTINE = "quarantine"


class Suspension(Frozen):
    reason: SuspensionReason
    note: str = Field(default="", max_length=500)
    started_on: date
    ended_on: date | None = None
    by: str = "system"


class Failure(Frozen):
    step: str
    error: str
    cause: str


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: str
    application: Application
    status: CaseStatus = CaseStatus.SUBMITTED
    step: str = "intake"
    correction_round: int = 0
    outstanding: list[Deficiency] = Field(default_factory=list)
    reused_certificates: dict[str, str] = Field(default_factory=dict)
    case_number: str | None = None
    accepted_at: datetime | None = None
    accepted_on: date | None = None
    promised_due: date | None = None
    statutory_due: date | None = None
    deadline_provisional: bool = False
    deadline_basis: str | None = None
    fee_fen: int = 0
    delivery_required: bool = False
    current_stage: int | None = None
    certificate_id: str | None = None
    waybill: str | None = None
    closed_at: datetime | None = None
    outcome_reason: str | None = None
    failure: Failure | None = None
    working_days_used: int | None = None
    promised_limit: int | None = None
    statutory_limit: int | None = None
    suspensions: list[Suspension] = Field(default_factory=list)
    alarms_raised: list[str] = Field(default_factory=list)
    next_alarm_at: datetime | None = None
    version: int = 0

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES


class TimelineEntry(Frozen):
    at: datetime
    step: str
    event: str
    detail: str = ""
    actor: str = "system"


class TaskKind(StrEnum):
    REVIEW = "review"
    CORRECTION = "correction"
    PAYMENT = "payment"
    DELIVERY = "delivery"


class TaskStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"


class Task(BaseModel):
    """Work waiting on a partner's callback; its token resumes the execution."""

    model_config = ConfigDict(extra="forbid")

    task_id: str
    case_id: str
    kind: TaskKind
    partner: str
    stage: int | None = None
    status: TaskStatus = TaskStatus.OPEN
    created_at: datetime
    due_on: date | None = None
    token: str
    details: dict[str, Any] = Field(default_factory=dict)
    answer: dict[str, Any] | None = None
    answer_digest: str | None = None
    answered_at: datetime | None = None
    next_alarm_at: datetime | None = None
    escalations: int = 0

    def same_answer(self, answer: dict[str, Any]) -> bool:
        """Whether ``answer`` repeats the task's recorded answer (an idempotent retry)."""
        return self.answer_digest == answer_digest(answer)

    def answered(self, answer: dict[str, Any], at: datetime) -> "Task":
        """The task closed with this answer."""
        return self.model_copy(
            update={
                "status": TaskStatus.ANSWERED,
                "answer": answer,
                "answer_digest": answer_digest(answer),
                "answered_at": at,
                "next_alarm_at": None,
            }
        )


def answer_digest(answer: dict[str, Any]) -> str:
    """Recognises a repeated identical answer (a partner retrying its callback)."""
    return hashlib.sha256(json.dumps(answer, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def task_case_id(task_id: str) -> str:
    """Task ids are ``<case_id>.<suffix>``; a case id holds no dot."""
    case_id, _, suffix = task_id.partition(".")
    if not case_id or not suffix:
        raise ValueError("not a task id")
    return case_id
