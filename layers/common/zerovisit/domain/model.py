"""The case and what belongs to it: pure data, no I/O."""

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from zerovisit.domain.base import Model

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]


class Frozen(Model):
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


class CaseStep(StrEnum):
    """Where the case stands in its handling: the state machine's steps."""

    INTAKE = "intake"
    PRE_REVIEW = "pre_review"
    CORRECTION = "correction"
    ACCEPTANCE = "acceptance"
    REVIEW = "review"
    PAYMENT = "payment"
    CERTIFICATE = "certificate"
    POST_ISSUANCE = "post_issuance"  # the services that follow the certificate (seal, tax, bank)
    DELIVERY = "delivery"
    COMPLETION = "completion"


class Deficiency(Frozen):
    material: str
    problem: str
    # False: no material the applicant sends can mend it (registry data, such as the seller's title),
    # so the case is not accepted rather than sent back for correction.
    correctable: bool = True


class SuspensionReason(StrEnum):
    APPLICANT_CORRECTION = "applicant_correction"
    APPLICANT_PAYMENT = "applicant_payment"
    ON_SITE_INSPECTION = "on_site_inspection"
    EXPERT_REVIEW = "expert_review"
    HEARING = "hearing"
    TESTING = "testing"
    APPRAISAL = "appraisal"
    AUCTION = "auction"
    QUARANTINE = "quarantine"


APPLICANT_REASONS = frozenset({SuspensionReason.APPLICANT_CORRECTION, SuspensionReason.APPLICANT_PAYMENT})


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
    at: datetime | None = None


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


class TaskPhase(StrEnum):
    """What a department's task is part of."""

    REVIEW = "review"
    ONSITE_INSPECTION = "onsite_inspection"
    POST_ISSUANCE = "post_issuance"  # a service that follows the certificate


class TaskStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Task(Model):
    """Work waiting on a partner's callback; its token resumes the execution. ``version`` is the
    stored version: every write of a task is conditioned on it."""

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
    # When the holder was reminded that most of the task's limit is used (once per task).
    reminded_at: datetime | None = None
    # What resumed the waiting step when the task closed: a retried step takes the same answer.
    resumed_with: dict[str, Any] | None = None
    version: int = 0

    @property
    def is_open(self) -> bool:
        return self.status is TaskStatus.OPEN

    def same_answer(self, answer: dict[str, Any]) -> bool:
        """Whether ``answer`` repeats the task's recorded answer (an idempotent retry)."""
        return self.answer_digest == answer_digest(answer)

    def answered(self, answer: dict[str, Any], at: datetime) -> "Task":
        """The task closed with this answer."""
        return self._closed(TaskStatus.ANSWERED, at, answer)

    def cancelled(self, at: datetime, reason: str) -> "Task":
        return self._closed(TaskStatus.CANCELLED, at, {"cancelled": reason})

    def expired(self, at: datetime) -> "Task":
        return self._closed(TaskStatus.EXPIRED, at, {"expired": True})

    def _closed(self, status: TaskStatus, at: datetime, answer: dict[str, Any]) -> "Task":
        return self.model_copy(
            update={
                "status": status,
                "answer": answer,
                "answer_digest": answer_digest(answer),
                "answered_at": at,
                "next_alarm_at": None,
            }
        )

    @property
    def phase(self) -> TaskPhase:
        """A department task's phase (tasks written before phases were reviews)."""
        return TaskPhase(self.details.get("phase") or TaskPhase.REVIEW)

    @property
    def round(self) -> str | None:
        """The waiting state's entry this task belongs to: a retry of that state is the same round."""
        value = self.details.get("round")
        return str(value) if value is not None else None

    def with_token(self, token: str) -> "Task":
        """A retried step waits again: the open task keeps its id, answers and limits."""
        return self.model_copy(update={"token": token})

    def next_alarm(self, moment: datetime | None) -> "Task":
        return self.model_copy(update={"next_alarm_at": moment})

    def reminded(self, at: datetime, next_alarm_at: datetime) -> "Task":
        return self.model_copy(update={"reminded_at": at, "next_alarm_at": next_alarm_at})

    def escalated(self, due_on: date, next_alarm_at: datetime) -> "Task":
        return self.model_copy(
            update={"escalations": self.escalations + 1, "due_on": due_on, "next_alarm_at": next_alarm_at}
        )


def answer_digest(answer: dict[str, Any]) -> str:
    """Recognises a repeated identical answer (a partner retrying its callback)."""
    return hashlib.sha256(json.dumps(answer, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class TaskRef(Frozen):
    """A task id parsed once at the edge: ``<case_id>.<suffix>``; a case id holds no dot."""

    case_id: str
    task_id: str

    @classmethod
    def parse(cls, task_id: str) -> "TaskRef":
        case_id, _, suffix = task_id.partition(".")
        if not case_id or not suffix:
            raise ValueError("not a task id")
        return cls(case_id=case_id, task_id=task_id)


def task_case_id(task_id: str) -> str:
    return TaskRef.parse(task_id).case_id
