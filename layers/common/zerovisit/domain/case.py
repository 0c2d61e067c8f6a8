"""The case aggregate: its state, the transitions it allows, and what each change produces.

The case changes only through its methods. Each returns a ``Change``: the new case, its timeline
entries, the tasks it opens or closes, and what must leave the system because of it (outbound
events, task resumptions, supervision notices). A repository writes a change all or nothing.
"""

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, NamedTuple
from uuid import uuid4

from pydantic import ConfigDict, Field

from zerovisit.clock import CHINA
from zerovisit.domain import outbox, plan
from zerovisit.domain.base import Model
from zerovisit.domain.catalog import Matter, RegionalAssessment
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.deadlines import (
    AlarmKind,
    Limit,
    alarm_key,
    task_overdue_at,
    with_clock,
    working_days_used,
)
from zerovisit.domain.enterprise import ServiceRecord
from zerovisit.domain.identity import mask_personal_data
from zerovisit.domain.model import (
    APPLICANT_REASONS,
    CLOSED_STATUSES,
    Application,
    CaseStatus,
    CaseStep,
    Deficiency,
    Failure,
    Suspension,
    SuspensionReason,
    Task,
    TaskKind,
    TaskPhase,
    TimelineEntry,
)
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.domain.review import StageOutcome
from zerovisit.domain.workdays import working_days_text as _days
from zerovisit.errors import Conflict, TaskClosed


class EventType(StrEnum):
    """The outbound events: each has a JSON schema under events/schemas/."""

    APPLICATION_REJECTED = "ApplicationRejected"
    CASE_ACCEPTED = "CaseAccepted"
    CASE_CLOSED = "CaseClosed"
    CASE_COMPLETED = "CaseCompleted"
    CASE_FAILED = "CaseFailed"
    CASE_OVERDUE = "CaseOverdue"
    CASE_RESUMED = "CaseResumed"
    CASE_SUSPENDED = "CaseSuspended"
    CERTIFICATE_ISSUED = "CertificateIssued"
    CERTIFICATE_REVOKED = "CertificateRevoked"
    CORRECTION_REQUESTED = "CorrectionRequested"
    DEADLINE_WARNING = "DeadlineWarning"
    ENTERPRISE_SERVICE_RECORDED = "EnterpriseServiceRecorded"
    PAYMENT_REQUESTED = "PaymentRequested"
    REVIEW_DECIDED = "ReviewDecided"
    REVIEW_OVERDUE = "ReviewOverdue"
    REVIEW_REQUESTED = "ReviewRequested"
    SERVICE_EVALUATED = "ServiceEvaluated"
    SHIPMENT_DELIVERED = "ShipmentDelivered"
    SHIPMENT_DISPATCHED = "ShipmentDispatched"
    TASK_CANCELLED = "TaskCancelled"
    TASK_DUE_SOON = "TaskDueSoon"
    TASK_OVERDUE = "TaskOverdue"


class DomainEvent(NamedTuple):
    type: EventType
    detail: Mapping[str, Any]


class Resumption(NamedTuple):
    """A waiting step to resume: with an output, or failed with an error name the ASL catches."""

    token: str
    output: Mapping[str, Any] | None = None
    error: str | None = None
    cause: str = ""

    def record(self) -> dict[str, Any]:
        return {
            "output": dict(self.output) if self.output is not None else None,
            "error": self.error,
            "cause": self.cause,
        }

    @classmethod
    def again(cls, token: str, record: Mapping[str, Any]) -> "Resumption":
        """The same resumption, to a retried step's new token."""
        return cls(token, record.get("output"), record.get("error"), str(record.get("cause") or ""))


class Verdict(NamedTuple):
    """What a review stage came to: the outcome the state machine reads, the detail the timeline
    keeps, and the reason the applicant is told when the stage ends the case."""

    outcome: str
    detail: str
    reason: str | None = None


class Notice(NamedTuple):
    """A message to supervision (the SNS topic)."""

    subject: str
    message: str


@dataclass(frozen=True)
class Change:
    """One all-or-nothing write. ``case`` None leaves the case item as it is (a task-only change);
    ``base_version`` is the case version the change was decided on."""

    case_id: str
    base_version: int
    case: "Case | None"
    entries: tuple[TimelineEntry, ...] = ()
    tasks: tuple[Task, ...] = ()
    events: tuple[DomainEvent, ...] = ()
    resumptions: tuple[Resumption, ...] = ()
    notices: tuple[Notice, ...] = ()
    certificate: Certificate | None = None
    revoked: tuple[Certificate, ...] = ()
    # The services after issuance, kept under the holder's credit code as well as on the case.
    records: tuple[ServiceRecord, ...] = ()

    def __post_init__(self) -> None:
        """A closed task keeps what resumed its waiting step, for a retry of that step."""
        by_token = {r.token: r for r in self.resumptions}
        recorded = tuple(
            task.model_copy(update={"resumed_with": by_token[task.token].record()})
            if task.token in by_token and not task.is_open
            else task
            for task in self.tasks
        )
        object.__setattr__(self, "tasks", recorded)

    @property
    def is_empty(self) -> bool:
        return not (self.case or self.entries or self.tasks or self.events or self.resumptions)

    def anchor(self) -> str:
        """Names the write, which happens once: the case's new version, else the first task's; a
        write of timeline entries alone gets a fresh name."""
        if self.case is not None:
            return f"{self.case_id}.v{self.base_version + 1}"
        if self.tasks:
            return f"{self.tasks[0].task_id}.v{self.tasks[0].version + 1}"
        return f"{self.case_id}.{uuid4().hex[:12]}"

    def messages(self, anchor: str, now: datetime) -> list[OutboxMessage]:
        """What the change must send, each with an id stable across redeliveries: ``anchor`` names
        the write (the case's or the first task's new version), which can happen only once."""
        messages: list[OutboxMessage] = []
        for n, domain_event in enumerate(self.events):
            detail = dict(domain_event.detail)
            messages.append(
                outbox.event(f"{anchor}.e{n}", self.case_id, domain_event.type.value, detail, now)
            )
        for n, resumed in enumerate(self.resumptions):
            message_id = f"{anchor}.r{n}"
            if resumed.error is not None:
                messages.append(
                    outbox.failure(message_id, self.case_id, resumed.token, resumed.error, resumed.cause)
                )
            else:
                output = dict(resumed.output or {})
                messages.append(outbox.resumption(message_id, self.case_id, resumed.token, output))
        for n, told in enumerate(self.notices):
            messages.append(outbox.notice(f"{anchor}.n{n}", self.case_id, told.subject, told.message))
        return messages


def revocation(certificate: Certificate, at: datetime, reason: str, actor: str) -> Change:
    """Revoke a valid certificate: the revocation, a note on the case that issued it and the
    CertificateRevoked event, in one write that holds only while the certificate is still valid."""
    if certificate.status != "valid":
        raise Conflict("the certificate is already revoked")
    revoked = certificate.revoked(at, reason)
    entry = TimelineEntry(
        at=at,
        step=str(CaseStep.CERTIFICATE),
        event="certificate revoked",
        detail=f"{certificate.identifier}: {reason}",
        actor=actor,
    )
    return Change(
        certificate.case_id,
        0,
        None,
        (entry,),
        events=(revocation_event(revoked, actor),),
        revoked=(revoked,),
    )


def revocation_event(revoked: Certificate, actor: str) -> DomainEvent:
    """No holder in it: the event bus carries no personal data."""
    return DomainEvent(
        EventType.CERTIFICATE_REVOKED,
        {
            "case_id": revoked.case_id,
            "case_number": revoked.case_number,
            "identifier": revoked.identifier,
            "kind": revoked.kind,
            "reason": revoked.revoked_reason,
            "revoked_at": revoked.revoked_at.isoformat() if revoked.revoked_at else None,
            "revoked_by": actor,
        },
    )


# The allowed status changes, the only place a status changes (``Case._moved``).
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.SUBMITTED: frozenset(
        {CaseStatus.AWAITING_CORRECTION, CaseStatus.IN_REVIEW, CaseStatus.NOT_ACCEPTED}
    ),
    CaseStatus.AWAITING_CORRECTION: frozenset(
        {CaseStatus.SUBMITTED, CaseStatus.IN_REVIEW, CaseStatus.NOT_ACCEPTED}
    ),
    CaseStatus.IN_REVIEW: frozenset(
        {
            CaseStatus.AWAITING_CORRECTION,
            CaseStatus.AWAITING_PAYMENT,
            CaseStatus.ISSUING,
            CaseStatus.REJECTED,
        }
    ),
    CaseStatus.AWAITING_PAYMENT: frozenset({CaseStatus.ISSUING}),
    CaseStatus.ISSUING: frozenset({CaseStatus.AWAITING_DELIVERY, CaseStatus.COMPLETED}),
    CaseStatus.AWAITING_DELIVERY: frozenset({CaseStatus.COMPLETED}),
    # resumed where it failed, refused by operations, or withdrawn by the applicant
    CaseStatus.FAILED: frozenset(set(CaseStatus) - CLOSED_STATUSES)
    | {CaseStatus.REJECTED, CaseStatus.WITHDRAWN},
}
# Any open case may be withdrawn, fail, or be closed by its own wait running out.
ALWAYS_ALLOWED = frozenset({CaseStatus.WITHDRAWN, CaseStatus.FAILED})
# Where a resumed case stands again, by the step it failed at.
RESUMED_STATUS = {
    CaseStep.INTAKE: CaseStatus.SUBMITTED,
    CaseStep.PRE_REVIEW: CaseStatus.SUBMITTED,
    CaseStep.CORRECTION: CaseStatus.SUBMITTED,
    CaseStep.ACCEPTANCE: CaseStatus.SUBMITTED,
    CaseStep.REVIEW: CaseStatus.IN_REVIEW,
    CaseStep.PAYMENT: CaseStatus.AWAITING_PAYMENT,
    CaseStep.CERTIFICATE: CaseStatus.ISSUING,
    CaseStep.POST_ISSUANCE: CaseStatus.ISSUING,
    CaseStep.DELIVERY: CaseStatus.AWAITING_DELIVERY,
    CaseStep.COMPLETION: CaseStatus.ISSUING,
}
CLOCK_FIELDS = {"promised_due", "statutory_due", "deadline_provisional", "deadline_basis", "next_alarm_at"}
CLOSING_EVENT = {
    CaseStatus.COMPLETED: "completed",
    CaseStatus.REJECTED: "rejected",
    CaseStatus.NOT_ACCEPTED: "not_accepted",
    CaseStatus.WITHDRAWN: "withdrawn",
}
# What the applicant is told of a failed case: the cause is the system's, and may name anything.
FAILED_REASON = "the {step} step could not be completed; the office will resume the case or decide on it"
ERROR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.]{0,99}")


class Case(Model):
    model_config = ConfigDict(extra="forbid")

    case_id: str
    application: Application
    application_digest: str | None = None
    status: CaseStatus = CaseStatus.SUBMITTED
    step: CaseStep = CaseStep.INTAKE
    correction_round: int = 0
    # the correction round whose materials pre-review last checked; -1 before any check
    checked_round: int = -1
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
    # Services follow the certificate (a licence's seal, tax and bank account): issuance leads there.
    services_follow: bool = False
    current_stage: int | None = None
    certificate_id: str | None = None
    registered_credit_code: str | None = None
    enterprise_services: list[ServiceRecord] = Field(default_factory=list)
    waybill: str | None = None
    closed_at: datetime | None = None
    outcome_reason: str | None = None
    failure: Failure | None = None
    failures: list[Failure] = Field(default_factory=list)
    executions: int = 1
    working_days_used: int | None = None
    promised_limit: int | None = None
    statutory_limit: int | None = None
    warning_share: float = 0.8
    suspensions: list[Suspension] = Field(default_factory=list)
    alarms_raised: list[str] = Field(default_factory=list)
    next_alarm_at: datetime | None = None
    version: int = 0

    # ------------------------------------------------------------------ reading
    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def execution_name(self) -> str:
        """The first execution is named after the case; each resumption starts the next."""
        return self.case_id if self.executions == 1 else f"{self.case_id}.run{self.executions}"

    def held_by(self, by: str) -> Suspension | None:
        return next((s for s in self.suspensions if s.ended_on is None and s.by == by), None)

    @property
    def is_complex(self) -> bool:
        return bool(self.application.project and self.application.project.complex)

    def covered(self, matter: Matter, at: datetime) -> dict[str, RegionalAssessment]:
        """Departments whose evaluation a regional assessment of the project's zone replaces."""
        return plan.covered(matter, self.application, at)

    def stage_plan(
        self,
        matter: Matter,
        index: int,
        at: datetime,
        only: set[str] | None = None,
        skipped: Mapping[str, object] = MappingProxyType({}),
    ) -> dict[str, Any]:
        """One review stage (or only some of its departments) for this case, planned at ``at``."""
        return plan.stage_plan(
            matter, index, at, only, skipped, self.is_complex, self.application.region_code
        )

    def review_verdict(self, stage: int, result: StageOutcome, expired: Iterable[str]) -> Verdict:
        """What a review stage came to. A department past its final limit turns an escalation
        into the stage's expiry; a case closed meanwhile (withdrawn) ends the review."""
        lapsed = sorted(expired)
        if self.is_closed:
            return Verdict("withdrawn", f"the case is {self.status.value}")
        if result.outcome == "rejected":
            reason = "; ".join(result.reasons)
            return Verdict("rejected", reason, reason)
        if lapsed and result.outcome == "escalated":
            reason = "no decision within the final limit: " + ", ".join(lapsed)
            return Verdict("expired", reason, reason)
        if result.outcome == "correction":
            return Verdict("correction", "; ".join(result.correction_items))
        if result.outcome == "next_stage":
            follows = f"stage {stage + 1} approved; stage {result.stage_index + 1} follows"
            return Verdict("next_stage", follows)
        if result.outcome == "approved":
            return Verdict("approved", "every review stage approved")
        return Verdict(result.outcome, "; ".join(result.reasons))

    def require_open(self) -> None:
        """A step about to act on a case that was withdrawn or closed meanwhile stops here."""
        if self.is_closed:
            raise TaskClosed(f"the case is {self.status.value}")

    # ------------------------------------------------------------------ the lifecycle
    def check_materials(
        self,
        at: datetime,
        deficiencies: list[Deficiency],
        reused: dict[str, str],
        entries: list[TimelineEntry],
    ) -> Change:
        """What pre-review found. A deficiency no correction can mend is the reason the case is
        not accepted, kept for its closing. A retried check that finds its own finding recorded
        writes nothing again."""
        self.require_open()
        if (self.step, self.checked_round, self.outstanding, self.reused_certificates) == (
            CaseStep.PRE_REVIEW,
            self.correction_round,
            deficiencies,
            reused,
        ):
            return Change(self.case_id, self.version, None)
        update: dict[str, Any] = {
            "outstanding": deficiencies,
            "reused_certificates": reused,
            "checked_round": self.correction_round,
        }
        uncorrectable = [d.problem for d in deficiencies if not d.correctable]
        if uncorrectable:
            update["outcome_reason"] = "; ".join(uncorrectable)
        checked = self._moved(self.status, CaseStep.PRE_REVIEW, **update)
        return self._change(checked, at, entries)

    def request_correction(self, at: datetime, task: Task, source: str) -> Change:
        self.require_open()
        items = list(task.details.get("items", []))
        rounds = self.correction_round + (1 if source == "pre_review" else 0)
        waiting = self._moved(CaseStatus.AWAITING_CORRECTION, CaseStep.CORRECTION, correction_round=rounds)
        entries = [self._note(at, CaseStep.CORRECTION, "correction requested", "; ".join(items))]
        if self.accepted_on is not None:
            # After acceptance, time waiting for the applicant is not counted (law art. 45).
            waiting = waiting._suspended(at, SuspensionReason.APPLICANT_CORRECTION, task.partner)
            entries.append(
                self._note(
                    at, CaseStep.CORRECTION, "clock suspended", "waiting for the applicant's corrections"
                )
            )
        event = DomainEvent(
            EventType.CORRECTION_REQUESTED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "task_id": task.task_id,
                "source": source,
                "items": items,
                "due_on": str(task.due_on),
            },
        )
        return self._change(waiting, at, entries, tasks=[task], events=[event])

    def correct(self, at: datetime, task: Task, corrected: Application, codes: list[str]) -> Change:
        """The applicant's corrected materials answer the correction task and resume the case."""
        self.require_open()
        if not task.is_open:
            raise TaskClosed("the case is not waiting for a correction")
        status = CaseStatus.SUBMITTED if task.details.get("source") == "pre_review" else CaseStatus.IN_REVIEW
        step = CaseStep.PRE_REVIEW if status is CaseStatus.SUBMITTED else CaseStep.REVIEW
        entries = [
            self._note(at, CaseStep.CORRECTION, "correction submitted", ", ".join(codes), task.partner)
        ]
        resumed = self._moved(status, step, application=corrected)
        if self.held_by(task.partner) is not None:
            entries.append(self._note(at, CaseStep.CORRECTION, "clock resumed", "corrections received"))
            resumed = resumed._resumed(at, task.partner)
        return self._change(
            resumed,
            at,
            entries,
            tasks=[task.answered({"materials": codes}, at)],
            resumptions=[Resumption(task.token, {"corrected": codes})],
        )

    def accept(
        self,
        at: datetime,
        case_number: str,
        promised_limit: int,
        statutory_limit: int,
        skipped: list[TimelineEntry],
        matter_code: str,
        warning_share: float,
    ) -> Change:
        self.require_open()
        today = at.astimezone(CHINA).date()
        accepted = with_clock(
            self._moved(
                CaseStatus.IN_REVIEW,
                CaseStep.REVIEW,
                case_number=case_number,
                accepted_at=at,
                accepted_on=today,
                promised_limit=promised_limit,
                statutory_limit=statutory_limit,
                warning_share=warning_share,
                current_stage=0,
                outstanding=[],
            ),
            today,
        )
        provisional = f"; provisional ({accepted.deadline_basis})" if accepted.deadline_provisional else ""
        detail = (
            f"case {case_number}: due {accepted.promised_due} (promised {_days(promised_limit)}), "
            f"statutory {accepted.statutory_due}{provisional}"
        )
        event = DomainEvent(
            EventType.CASE_ACCEPTED,
            {
                "case_id": self.case_id,
                "case_number": case_number,
                "matter_code": matter_code,
                "promised_due": str(accepted.promised_due),
                "statutory_due": str(accepted.statutory_due),
            },
        )
        return self._change(
            accepted, at, [self._note(at, CaseStep.ACCEPTANCE, "accepted", detail), *skipped], events=[event]
        )

    def open_review(
        self, at: datetime, task: Task, department_name: str, stage_rejected: bool = False
    ) -> Change:
        """A department's review task (written without touching the case item: the stage's
        departments are dispatched at once). Dispatched after another department of the stage
        rejected, the task is cancelled at once and its branch resumed: the stage has ended."""
        self.require_open()
        if stage_rejected:
            cancelled = self._cancel(at, task, "another department of the stage rejected")
            resumed = Resumption(task.token, {"task_id": task.task_id, "decision": "cancelled"})
            return dataclasses.replace(cancelled, resumptions=(resumed,))
        stage = (task.stage or 0) + 1
        phase = task.phase
        detail: dict[str, Any] = {
            "case_id": self.case_id,
            "case_number": self.case_number,
            "matter_code": self.application.matter_code,
            "task_id": task.task_id,
            "department": task.details.get("department"),
            "partner_id": task.partner,
            "stage": stage,
            "phase": phase.value,
            "due_on": str(task.due_on),
            "service": None,
            "credit_code": None,
        }
        if phase is TaskPhase.POST_ISSUANCE:
            # the department serves the enterprise the licence was issued to
            detail |= {"service": task.details.get("service"), "credit_code": self.registered_credit_code}
        label = {
            TaskPhase.POST_ISSUANCE: " after issuance",
            TaskPhase.ONSITE_INSPECTION: " on-site inspection",
        }.get(phase, "")
        entry = self._note(
            at,
            _step_of(task),
            "service requested" if phase is TaskPhase.POST_ISSUANCE else "review requested",
            f"stage {stage}{label}: {department_name}, due {task.due_on}",
        )
        event = DomainEvent(EventType.REVIEW_REQUESTED, detail)
        opened = Change(self.case_id, self.version, None, (entry,), (task,), (event,))
        inspection = task.details.get("inspection") or {}
        if phase is not TaskPhase.ONSITE_INSPECTION or inspection.get("time_counted", True):
            return opened
        # the law leaves the inspection's time out: the clock stops while the task is open
        note = f"{department_name}: on-site inspection, not counted ({inspection.get('article')})"
        stopped = self.suspend_for(at, task, SuspensionReason.ON_SITE_INSPECTION, note)
        return dataclasses.replace(
            stopped,
            entries=opened.entries + stopped.entries,
            tasks=(task,),
            events=opened.events + stopped.events,
        )

    def rewait(self, task: Task, token: str) -> Change:
        """A retried waiting step: an open task takes the new token; a task closed meanwhile
        resumes the new token as it resumed the old one. Nothing else is sent again."""
        if task.is_open:
            return Change(self.case_id, self.version, None, tasks=(task.with_token(token),))
        if task.resumed_with is None or task.token == token:
            return Change(self.case_id, self.version, None)
        again = Resumption.again(token, task.resumed_with)
        return Change(self.case_id, self.version, None, tasks=(task.with_token(token),), resumptions=(again,))

    def record_decision(
        self,
        at: datetime,
        task: Task,
        answer: dict[str, Any],
        decision: str,
        detail: str,
        stage_tasks: Iterable[Task] = (),
        rejection_reason: str | None = None,
        recorded_as: str = "decided",
    ) -> Change:
        """A department's decision closes its task and resumes its branch. A rejection ends the
        stage at once: every other open task of the stage is cancelled and its branch resumed."""
        self.require_open()
        if not task.is_open:
            raise TaskClosed("the task was already decided")
        case = self
        entries = []
        step = _step_of(task)
        if self.held_by(task.task_id) is not None:
            entries.append(self._note(at, step, "clock resumed", f"suspension by {detail} ended"))
            case = case._resumed(at, task.task_id)
        actor = task.partner if recorded_as == "decided" else "system"
        entries.append(self._note(at, step, recorded_as, detail, actor))
        tasks = [task.answered(answer, at)]
        resumptions = [Resumption(task.token, {"task_id": task.task_id, "decision": decision})]
        events = [
            DomainEvent(
                EventType.REVIEW_DECIDED,
                {
                    "case_id": self.case_id,
                    "case_number": self.case_number,
                    "stage": (task.stage or 0) + 1,
                    "task_id": task.task_id,
                    "department": task.details.get("department"),
                    "decision": decision,
                },
            )
        ]
        if rejection_reason is not None:
            case = case.model_copy(update={"outcome_reason": rejection_reason})
            for other in stage_tasks:
                if other.task_id == task.task_id or not other.is_open:
                    continue
                cancelled = self._cancel(at, other, "another department of the stage rejected")
                tasks.append(cancelled.tasks[0])
                entries.extend(cancelled.entries)
                events.extend(cancelled.events)
                resumptions.append(
                    Resumption(other.token, {"task_id": other.task_id, "decision": "cancelled"})
                )
                if case.held_by(other.task_id) is not None:
                    case = case._resumed(at, other.task_id)
        return self._change(case, at, entries, tasks=tasks, events=events, resumptions=resumptions)

    def suspend_for(self, at: datetime, task: Task, reason: SuspensionReason, detail: str) -> Change:
        """A department stops the clock (law art. 45) while its task stays open; once only."""
        self.require_open()
        if not task.is_open:
            raise TaskClosed("the task was already decided")
        if self.held_by(task.task_id) is not None:
            return Change(self.case_id, self.version, None)
        event = DomainEvent(
            EventType.CASE_SUSPENDED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "task_id": task.task_id,
                "reason": reason.value,
            },
        )
        return self._change(
            self._suspended(at, reason, task.task_id, detail),
            at,
            [self._note(at, _step_of(task), "clock suspended", detail, task.partner)],
            events=[event],
        )

    def stage_consolidated(self, at: datetime, stage: int, verdict: Verdict, result: StageOutcome) -> Change:
        self.require_open()
        case = self
        if verdict.outcome == "approved":
            case = self._moved(
                CaseStatus.AWAITING_PAYMENT if self.fee_fen else CaseStatus.ISSUING,
                CaseStep.PAYMENT if self.fee_fen else CaseStep.CERTIFICATE,
            )
        elif verdict.outcome == "next_stage":
            case = self.model_copy(update={"current_stage": result.stage_index})
        elif verdict.outcome == "correction":
            case = self.model_copy(
                update={
                    "outstanding": [Deficiency(material="review", problem=i) for i in result.correction_items]
                }
            )
        elif verdict.outcome in ("rejected", "expired") and verdict.reason:
            case = self.model_copy(update={"outcome_reason": verdict.reason})
        entry = self._note(at, CaseStep.REVIEW, f"stage {stage + 1} {verdict.outcome}", verdict.detail)
        return self._change(case, at, [entry])

    def begin_services(self, at: datetime, stage: int, detail: str) -> Change:
        """The services that follow the certificate begin, for its holder."""
        self.require_open()
        if self.certificate_id is None:
            raise Conflict("the services after issuance follow the certificate; none is issued")
        started = self._moved(self.status, CaseStep.POST_ISSUANCE, current_stage=stage)
        return self._change(started, at, [self._note(at, CaseStep.POST_ISSUANCE, "services begin", detail)])

    def services_settled(
        self,
        at: datetime,
        stage: int,
        records: Iterable[ServiceRecord],
        outcome: str,
        detail: str,
        next_stage: int | None = None,
    ) -> Change:
        """Each service after issuance that ended is recorded once, on the case and for the holder,
        and the applicant is told (the event). A refused or expired one leaves the certificate
        as it is: the case goes on, and its outcome names what was not done."""
        self.require_open()
        known = {r.department for r in self.enterprise_services}
        fresh = [r for r in records if r.department not in known]
        update: dict[str, Any] = {"enterprise_services": [*self.enterprise_services, *fresh]}
        undone = [r.summary() for r in fresh if not r.done]
        if undone:
            update["outcome_reason"] = "; ".join([self.outcome_reason or "certificate issued", *undone])
        if outcome == "next_stage":
            update["current_stage"] = next_stage
        if outcome == "services_done":
            step = CaseStep.DELIVERY if self.delivery_required else CaseStep.COMPLETION
            case = self._moved(self.status, step, **update)
        else:
            case = self.model_copy(update=update)
        entries = [
            self._note(at, CaseStep.POST_ISSUANCE, f"service {r.outcome.value}", r.summary()) for r in fresh
        ]
        entries.append(self._note(at, CaseStep.POST_ISSUANCE, f"stage {stage + 1} {outcome}", detail))
        events = [
            DomainEvent(
                EventType.ENTERPRISE_SERVICE_RECORDED,
                {
                    "case_id": self.case_id,
                    "case_number": self.case_number,
                    "credit_code": r.credit_code,
                    "department": r.department,
                    "service": r.service.value,
                    "outcome": r.outcome.value,
                    "reason": mask_personal_data(r.reason) if r.reason else None,
                },
            )
            for r in fresh
        ]
        change = self._change(case, at, entries, events=events)
        return dataclasses.replace(change, records=tuple(fresh))

    def request_payment(self, at: datetime, task: Task) -> Change:
        """The payment order; the applicant's time to pay is not counted against the office."""
        self.require_open()
        amount = int(task.details["amount_fen"])
        waiting = self._moved(CaseStatus.AWAITING_PAYMENT, CaseStep.PAYMENT)._suspended(
            at, SuspensionReason.APPLICANT_PAYMENT, task.task_id
        )
        entry = self._note(
            at,
            CaseStep.PAYMENT,
            "payment requested",
            f"order {task.task_id}: {task.details.get('summary') or f'{amount / 100:.2f} yuan'}, "
            f"due {task.due_on}",
        )
        event = DomainEvent(
            EventType.PAYMENT_REQUESTED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "order_id": task.task_id,
                "amount_fen": amount,
                "due_on": str(task.due_on),
            },
        )
        return self._change(waiting, at, [entry], tasks=[task], events=[event])

    def pay(self, at: datetime, task: Task, answer: dict[str, Any], transaction_id: str) -> Change:
        self.require_open()
        if not task.is_open:
            raise TaskClosed("the order was already confirmed")
        paid = self._moved(CaseStatus.ISSUING, CaseStep.CERTIFICATE)._resumed(at, task.task_id)
        return self._change(
            paid,
            at,
            [self._note(at, CaseStep.PAYMENT, "paid", f"transaction {transaction_id}", task.partner)],
            tasks=[task.answered(answer, at)],
            resumptions=[
                Resumption(task.token, {"order_id": task.task_id, "transaction_id": transaction_id})
            ],
        )

    def issue(
        self,
        at: datetime,
        certificate: Certificate,
        issuer_name: str,
        kind: str,
        name: str,
        registered_credit_code: str | None = None,
        replaces: Certificate | None = None,
    ) -> Change:
        """The result certificate, in the holder's library. A business start-up's licence is held
        by the enterprise under the credit code registration gave it; a transfer's new title by the
        buyer, and the seller's old title is revoked in the same write."""
        self.require_open()
        if self.services_follow:
            next_status, next_step = CaseStatus.ISSUING, CaseStep.POST_ISSUANCE
        else:
            next_status = CaseStatus.AWAITING_DELIVERY if self.delivery_required else CaseStatus.ISSUING
            next_step = CaseStep.DELIVERY if self.delivery_required else CaseStep.COMPLETION
        issued = self._moved(
            next_status,
            next_step,
            certificate_id=certificate.identifier,
            registered_credit_code=registered_credit_code,
        )
        event = DomainEvent(
            EventType.CERTIFICATE_ISSUED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "identifier": certificate.identifier,
                "kind": kind,
                "name": name,
            },
        )
        holder = f" to {certificate.holder_name}" + (
            f" (unified social credit code {registered_credit_code})" if registered_credit_code else ""
        )
        entries = [
            self._note(
                at,
                CaseStep.CERTIFICATE,
                "certificate issued",
                f"{name} {certificate.identifier}{holder}",
                issuer_name,
            )
        ]
        events = [event]
        revoked: list[Certificate] = []
        if replaces is not None:
            # Verification shows the reason to whoever holds the old identifier: it names no party
            # and not the new title; the case's own timeline keeps the link.
            reason = "ownership transferred (转移登记)"
            revoked.append(replaces.revoked(at, reason))
            events.append(revocation_event(revoked[0], "system"))
            entries.append(
                self._note(
                    at,
                    CaseStep.CERTIFICATE,
                    "certificate revoked",
                    f"{replaces.identifier}: {reason} by case {self.case_number}; "
                    f"replaced by {certificate.identifier}",
                )
            )
        change = self._change(issued, at, entries, events=events, certificate=certificate)
        return dataclasses.replace(change, revoked=tuple(revoked))

    def dispatch(self, at: datetime, task: Task) -> Change:
        self.require_open()
        waybill = str(task.details["waybill"])
        shipping = self._moved(CaseStatus.AWAITING_DELIVERY, CaseStep.DELIVERY, waybill=waybill)
        event = DomainEvent(
            EventType.SHIPMENT_DISPATCHED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "order_id": task.task_id,
                "waybill": waybill,
                "certificate_id": self.certificate_id,
            },
        )
        entry = self._note(at, CaseStep.DELIVERY, "shipment dispatched", f"EMS {waybill} (due {task.due_on})")
        return self._change(shipping, at, [entry], tasks=[task], events=[event])

    def shipment_ended(
        self, at: datetime, task: Task, answer: dict[str, Any], status: str, detail: str
    ) -> Change:
        """Signed for (the delivery step goes on) or a final problem (the step fails with
        DeliveryFailed, and the state machine decides whether to send again)."""
        if not task.is_open:
            raise TaskClosed("the shipment is already closed")
        signed = status == "signed_for"
        entry = self._note(
            at, CaseStep.DELIVERY, "signed for" if signed else "delivery problem", detail, task.partner
        )
        if signed:
            event = DomainEvent(
                EventType.SHIPMENT_DELIVERED,
                {"case_id": self.case_id, "order_id": task.task_id, "waybill": task.details.get("waybill")},
            )
            resumption = Resumption(task.token, {"waybill": task.details.get("waybill"), "status": status})
            events: list[DomainEvent] = [event]
        else:
            resumption = Resumption(task.token, error="DeliveryFailed", cause=detail)
            events = []
        return Change(
            self.case_id,
            self.version,
            None,
            (entry,),
            (task.answered(answer, at),),
            tuple(events),
            (resumption,),
        )

    def close(self, at: datetime, status: CaseStatus, reason: str) -> Change:
        """The clock stops and the outcome and figures are recorded. Closing twice changes nothing."""
        if status is CaseStatus.FAILED:
            raise ValueError("a failed case is not closed: it fails (Case.fail)")
        if self.is_closed:
            return Change(self.case_id, self.version, None)
        closed, used = self._stopped(at, status, outcome_reason=self.outcome_reason or reason)
        detail = reason if used is None else f"{reason}; {_days(used)} used"
        event = self._closing_event(status, used, closed.outcome_reason)
        return self._change(
            closed, at, [self._note(at, CaseStep.COMPLETION, CLOSING_EVENT[status], detail)], events=[event]
        )

    def fail(self, at: datetime, failure: Failure) -> Change:
        """A step failed after its retries: the case stops where it is and keeps the failure. It
        is not closed: operations resume it or refuse it, and only that ends it (CaseClosed or
        CaseCompleted). The applicant is told it stopped (CaseFailed), without the cause, which
        is the system's. Failing twice changes nothing."""
        if self.is_closed:
            return Change(self.case_id, self.version, None)
        failed, _ = self._stopped(
            at,
            CaseStatus.FAILED,
            outcome_reason=f"{failure.step} failed: {failure.error}",
            failure=failure,
            failures=[*self.failures, failure],
        )
        event = DomainEvent(
            EventType.CASE_FAILED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "step": failure.step,
                "error": failure.error if ERROR_NAME.fullmatch(failure.error) else "Unknown",
                "promised_due": self.promised_due.isoformat() if self.promised_due else None,
                "reason": FAILED_REASON.format(step=failure.step),
            },
        )
        detail = f"{failure.step}: {failure.error}: {failure.cause}"
        return self._change(
            failed, at, [self._note(at, CaseStep.COMPLETION, "failed", detail)], events=[event]
        )

    def _stopped(self, at: datetime, status: CaseStatus, **update: Any) -> "tuple[Case, int | None]":
        """The case at ``status`` with its clock stopped: suspensions ended, days used counted."""
        today = at.astimezone(CHINA).date()
        ended = [s if s.ended_on else s.model_copy(update={"ended_on": today}) for s in self.suspensions]
        used = working_days_used(self.accepted_on, ended, today) if self.accepted_on else None
        stopped = self._moved(
            status, self.step, suspensions=ended, closed_at=at, working_days_used=used, **update
        )
        return with_clock(stopped, today), used

    def _closing_event(self, status: CaseStatus, used: int | None, reason: str | None) -> DomainEvent:
        """What the applicant is told when the case closes: the outcome, the days used, the reason."""
        return DomainEvent(
            EventType.CASE_COMPLETED if status is CaseStatus.COMPLETED else EventType.CASE_CLOSED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "outcome": CLOSING_EVENT[status],
                "working_days_used": used,
                "promised_due": self.promised_due.isoformat() if self.promised_due else None,
                "reason": reason,
            },
        )

    def withdraw(self, at: datetime, open_tasks: Iterable[Task], reason: str, by: str) -> Change:
        """Closed as withdrawn at once; every open task is cancelled and its waiting step resumed
        with ``CaseWithdrawn``, which the state machine takes to its closing step. A failed case
        may be withdrawn too: its execution has ended, so nothing is resumed."""
        if self.status is CaseStatus.FAILED:
            return self._settled_after_failure(
                at, open_tasks, CaseStatus.WITHDRAWN, reason, "withdrawn", reason, by
            )
        self.require_open()
        closing = self.close(at, CaseStatus.WITHDRAWN, reason)
        noted = dataclasses.replace(
            closing, entries=(self._note(at, self.step, "withdrawn", reason, by), *closing.entries)
        )
        return self._cancelling(noted, at, open_tasks, reason, resume_with="CaseWithdrawn")

    def wait_expired(self, at: datetime, task: Task, detail: str, error: str = "WaitExpired") -> Change:
        """A wait ran past its limit: the task expires, the party holding it and supervision are
        told, and its waiting step fails with ``error`` (``WaitExpired``: the applicant did not
        correct or pay in time and the case closes as withdrawn; ``DeliveryFailed``: the parcel is
        treated as lost and the state machine decides whether to send again)."""
        if not task.is_open:
            raise TaskClosed("the task no longer waits")
        action = "expired" if error == "WaitExpired" else "redispatch"
        overdue = self.task_overdue(at, task, task.expired(at), action, detail)
        return Change(
            self.case_id,
            self.version,
            None,
            overdue.entries,
            overdue.tasks,
            overdue.events,
            (Resumption(task.token, error=error, cause=detail),),
            overdue.notices,
        )

    def resume_after_failure(self, at: datetime, by: str) -> Change:
        """A failed case continues from the step it failed at, in a new execution; its failure
        stays in the history and the case itself is clean again."""
        if self.status is not CaseStatus.FAILED or self.failure is None:
            raise Conflict(f"only a failed case can be resumed; this one is {self.status.value}")
        step = CaseStep(self.failure.step)
        resumed = self._moved(
            RESUMED_STATUS[step],
            step,
            failure=None,
            closed_at=None,
            outcome_reason=None,
            working_days_used=None,
            executions=self.executions + 1,
        )
        # The time the case stood failed was the office's: the clock ran, and runs on.
        detail = f"from {step.value} after {self.failure.error}"
        event = DomainEvent(
            EventType.CASE_RESUMED,
            {"case_id": self.case_id, "case_number": self.case_number, "step": step.value, "by": by},
        )
        return self._change(resumed, at, [self._note(at, step, "resumed", detail, by)], events=[event])

    def refuse_after_failure(self, at: datetime, open_tasks: Iterable[Task], reason: str, by: str) -> Change:
        """Operations decide that a failed case cannot succeed (its seller's title was revoked, a
        department can no longer answer...): it closes as rejected, with the reason the applicant
        is told (行政许可法 art. 38: a refusal states its reasons). Refusing again with the same
        reason changes nothing."""
        text = reason.strip()
        if self.status is CaseStatus.REJECTED and self.outcome_reason == text:
            return Change(self.case_id, self.version, None)
        if self.status is not CaseStatus.FAILED or self.failure is None:
            raise Conflict(f"only a failed case can be refused; this one is {self.status.value}")
        detail = f"{text} (after {self.failure.step} failed: {self.failure.error})"
        return self._settled_after_failure(at, open_tasks, CaseStatus.REJECTED, text, "refused", detail, by)

    def _settled_after_failure(
        self,
        at: datetime,
        open_tasks: Iterable[Task],
        status: CaseStatus,
        reason: str,
        noted: str,
        detail: str,
        by: str,
    ) -> Change:
        """A failed case closed for good, refused or withdrawn: the applicant is told the outcome,
        and every task the failure left open is cancelled, its holder told. The failed execution
        waits for none of them."""
        closed = self._moved(status, self.step, closed_at=at, outcome_reason=reason)
        event = self._closing_event(status, self.working_days_used, reason)
        closing = self._change(closed, at, [self._note(at, self.step, noted, detail, by)], events=[event])
        return self._cancelling(closing, at, open_tasks, reason)

    def _cancelling(
        self,
        closing: Change,
        at: datetime,
        open_tasks: Iterable[Task],
        reason: str,
        resume_with: str | None = None,
    ) -> Change:
        """``closing`` with every open task cancelled, its holder told; with ``resume_with``, each
        task's waiting step is resumed with that error as well."""
        cancelled = [(task, self._cancel(at, task, reason)) for task in open_tasks if task.is_open]
        resumed = (
            [Resumption(task.token, error=resume_with, cause=reason) for task, _ in cancelled]
            if resume_with
            else []
        )
        return dataclasses.replace(
            closing,
            entries=(*closing.entries, *(e for _, c in cancelled for e in c.entries)),
            tasks=(*closing.tasks, *(t for _, c in cancelled for t in c.tasks)),
            events=(*closing.events, *(e for _, c in cancelled for e in c.events)),
            resumptions=(*closing.resumptions, *resumed),
        )

    def alarms(self, at: datetime, due: list[tuple[Limit, AlarmKind]]) -> Change:
        """Raise each due deadline alarm, once: marked on the case, told to supervision."""
        raised = [alarm_key(limit, kind) for limit, kind in due]
        marked = self.model_copy(update={"alarms_raised": [*self.alarms_raised, *raised]})
        entries, events, notices = [], [], []
        for limit, kind in due:
            described = self._describe(limit, kind)
            entries.append(self._note(at, "supervision", f"{limit.value} limit {kind.value}", described))
            events.append(
                DomainEvent(
                    EventType.DEADLINE_WARNING if kind is AlarmKind.WARNING else EventType.CASE_OVERDUE,
                    {
                        "case_id": self.case_id,
                        "case_number": self.case_number,
                        "matter_code": self.application.matter_code,
                        "region_code": self.application.region_code,
                        "limit": limit.value,
                        "limit_working_days": self._limit_days(limit),
                        "due_on": str(self._due(limit)),
                        "step": self.step.value,
                    },
                )
            )
            notices.append(
                Notice(
                    f"ZeroVisit {kind.value}: case {self.case_number} ({limit.value} limit)",
                    f"Case {self.case_number} ({self.application.matter_code}, region "
                    f"{self.application.region_code}): {described}; now at step {self.step.value}.",
                )
            )
        return self._change(marked, at, entries, events=events, notices=notices)

    def recalculated(self, at: datetime, recomputed: "Case", entries: list[TimelineEntry]) -> Change:
        """The same case with its deadlines worked out again (a new year's schedule): nothing but
        the clock may differ."""
        if recomputed.model_dump(exclude=CLOCK_FIELDS) != self.model_dump(exclude=CLOCK_FIELDS):
            raise Conflict("a recalculation may change the deadlines only")
        return self._change(recomputed, at, entries)

    def rescheduled(self, at: datetime) -> Change:
        """Nothing due: the case's index entry moves to its next pending alarm."""
        return self._change(self, at, [])

    def task_due_soon(self, at: datetime, task: Task) -> Change:
        """Most of a task's limit is used: the party that holds it is reminded, once; the task's
        next alarm is its limit's end. A case that failed or closed reminds nobody."""
        self.require_open()
        if not task.is_open or task.due_on is None:
            raise TaskClosed("the task no longer waits")
        overdue_at = task_overdue_at(task.due_on)
        if task.reminded_at is not None:  # reminded before its holder stopped the clock
            return Change(self.case_id, self.version, None, tasks=(task.next_alarm(overdue_at),))
        event = DomainEvent(EventType.TASK_DUE_SOON, self._task_detail(task))
        holder = task.details.get("department_name", task.partner)
        entry = self._note(
            at, self._task_step(task), "reminded", f"{holder}: {task.task_id} due {task.due_on}"
        )
        reminded = task.reminded(at, overdue_at)
        return Change(self.case_id, self.version, None, (entry,), (reminded,), (event,))

    def task_overdue(
        self,
        at: datetime,
        task: Task,
        updated: Task,
        action: str,
        detail: str,
        department: str | None = None,
    ) -> Change:
        """A task passed its limit: the party that holds it and supervision are told."""
        step = self._task_step(task)
        if task.kind is TaskKind.REVIEW:
            event = DomainEvent(
                EventType.REVIEW_OVERDUE,
                {
                    "case_id": self.case_id,
                    "case_number": self.case_number,
                    "task_id": task.task_id,
                    "department": department,
                    "partner_id": task.partner,
                    "escalations": updated.escalations,
                    "new_due_on": str(updated.due_on),
                },
            )
        else:
            event = DomainEvent(EventType.TASK_OVERDUE, self._task_detail(task) | {"action": action})
        holder = task.details.get("department_name", task.partner)
        if task.kind is not TaskKind.REVIEW:
            subject = f"ZeroVisit {task.kind.value} overdue: case {self.case_number}"
        elif action == "escalated":
            subject = f"ZeroVisit escalation: {holder}, case {self.case_number}"
        else:
            subject = f"ZeroVisit final limit passed: {holder}, case {self.case_number}"
        notice = Notice(
            subject,
            f"{detail}. Case {self.case_number} ({self.application.matter_code}, "
            f"region {self.application.region_code}).",
        )
        return Change(
            self.case_id,
            self.version,
            None,
            (self._note(at, step, action, detail),),
            (updated,),
            (event,),
            (),
            (notice,),
        )

    # ------------------------------------------------------------------ inside the aggregate
    def _task_detail(self, task: Task) -> dict[str, Any]:
        """What tells a task's holder about its limit: the task, whose it is, its last day."""
        return {
            "case_id": self.case_id,
            "case_number": self.case_number,
            "task_id": task.task_id,
            "kind": task.kind.value,
            "partner_id": task.partner,
            "due_on": str(task.due_on),
        }

    def _task_step(self, task: Task) -> CaseStep:
        return _step_of(task) if task.kind is TaskKind.REVIEW else self.step

    def _moved(self, status: CaseStatus, step: CaseStep, **fields: Any) -> "Case":
        if status is not self.status and status not in TRANSITIONS.get(self.status, frozenset()) | (
            ALWAYS_ALLOWED if not self.is_closed else frozenset()
        ):
            raise Conflict(f"a case {self.status.value} cannot become {status.value}")
        return self.model_copy(update={"status": status, "step": step, **fields})

    def _suspended(self, at: datetime, reason: SuspensionReason, by: str, note: str = "") -> "Case":
        if self.held_by(by) is not None:
            return self
        started = at.astimezone(CHINA).date()
        suspension = Suspension(reason=reason, note=note, started_on=started, by=by)
        return self.model_copy(update={"suspensions": [*self.suspensions, suspension]})

    def _resumed(self, at: datetime, by: str) -> "Case":
        today = at.astimezone(CHINA).date()
        return self.model_copy(
            update={
                "suspensions": [
                    s.model_copy(update={"ended_on": today}) if s.ended_on is None and s.by == by else s
                    for s in self.suspensions
                ]
            }
        )

    def _cancel(self, at: datetime, task: Task, reason: str) -> Change:
        event = DomainEvent(
            EventType.TASK_CANCELLED,
            {
                "case_id": self.case_id,
                "case_number": self.case_number,
                "task_id": task.task_id,
                "partner_id": task.partner,
                "reason": reason,
            },
        )
        entry = self._note(at, self.step, "task cancelled", f"{task.task_id}: {reason}")
        return Change(self.case_id, self.version, None, (entry,), (task.cancelled(at, reason),), (event,))

    def _change(
        self,
        case: "Case",
        at: datetime,
        entries: Iterable[TimelineEntry],
        tasks: Iterable[Task] = (),
        events: Iterable[DomainEvent] = (),
        resumptions: Iterable[Resumption] = (),
        notices: Iterable[Notice] = (),
        certificate: Certificate | None = None,
    ) -> Change:
        return Change(
            self.case_id,
            self.version,
            with_clock(case, at.astimezone(CHINA).date()),
            tuple(entries),
            tuple(tasks),
            tuple(events),
            tuple(resumptions),
            tuple(notices),
            certificate,
        )

    def _note(
        self, at: datetime, step: str, event: str, detail: str = "", actor: str = "system"
    ) -> TimelineEntry:
        return TimelineEntry(at=at, step=str(step), event=event, detail=detail, actor=actor)

    def _limit_days(self, limit: Limit) -> int | None:
        return self.promised_limit if limit is Limit.PROMISED else self.statutory_limit

    def _due(self, limit: Limit) -> date | None:
        return self.promised_due if limit is Limit.PROMISED else self.statutory_due

    def _describe(self, limit: Limit, kind: AlarmKind) -> str:
        state = f"{self.warning_share:.0%} of the limit used" if kind is AlarmKind.WARNING else "limit passed"
        days = self._limit_days(limit)
        return f"{state}: {_days(days or 0)}, due {self._due(limit)}"


def is_applicant_reason(reason: SuspensionReason) -> bool:
    return reason in APPLICANT_REASONS


def _step_of(task: Task) -> CaseStep:
    return CaseStep.POST_ISSUANCE if task.phase is TaskPhase.POST_ISSUANCE else CaseStep.REVIEW
