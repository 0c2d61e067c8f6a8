"""Parallel review: a stage's department decisions merged into one outcome; the services after
issuance settled one by one."""

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from zerovisit.domain.catalog import Matter, Phase, TimeoutPolicy
from zerovisit.domain.enterprise import ServiceKind, ServiceOutcome, ServiceResult, result_problems
from zerovisit.domain.model import APPLICANT_REASONS, Frozen, ShortText, SuspensionReason, TaskPhase


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    NEEDS_CORRECTION = "needs_correction"
    SUSPEND = "suspend"


class InspectionReport(Frozen):
    """What an on-site inspection found, who inspected and when. 行政许可法 art. 34: the substance
    of the materials is verified by at least two officials."""

    findings: str = Field(min_length=1, max_length=2000)
    inspectors: list[ShortText] = Field(min_length=2, max_length=10)
    inspected_on: date


class DepartmentDecision(Frozen):
    """A department's answer. ``suspend`` (with its art. 45 reason) stops the case's clock until the
    department's final decision; ``needs_correction`` names the items the applicant must correct.
    An on-site inspection task answers with its ``inspection``; a service after issuance with
    its ``result`` when it approves (a refusal gives its reason in ``comments``)."""

    decision: Decision
    comments: str = Field(default="", max_length=2000)
    items: list[ShortText] = Field(default_factory=list, max_length=50)
    reason: SuspensionReason | None = None
    result: ServiceResult | None = None
    inspection: InspectionReport | None = None

    @model_validator(mode="after")
    def _reason_goes_with_suspend(self) -> "DepartmentDecision":
        if (self.decision is Decision.SUSPEND) != (self.reason is not None):
            raise ValueError("reason is required with decision 'suspend' and only then")
        if self.reason in APPLICANT_REASONS:
            raise ValueError("reason: the applicant's own time is not a department's suspension")
        if self.result is not None and self.decision is not Decision.APPROVE:
            raise ValueError("result goes with decision 'approve' only")
        if self.inspection is not None and self.decision is Decision.SUSPEND:
            raise ValueError("inspection: a suspension reports no inspection")
        return self


Outcome = Literal["next_stage", "correction", "rejected", "approved", "escalated", "services_done"]


class Settled(Frozen):
    """How one service after issuance ended."""

    department: str
    outcome: ServiceOutcome
    result: ServiceResult | None = None
    reason: str | None = None


class StageOutcome(Frozen):
    outcome: Outcome
    stage_index: int
    correction_items: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    silent: list[str] = Field(default_factory=list)
    settled: list[Settled] = Field(default_factory=list)


def consolidate(
    matter: Matter,
    stage_index: int,
    decisions: Mapping[str, DepartmentDecision | None],
    skipped: frozenset[str] | set[str] = frozenset(),
    region_code: str | None = None,
) -> StageOutcome:
    """``decisions`` maps each department of the stage to its decision, or None if it did not
    answer within its limit (then its catalog timeout policy applies). The next stage is the next
    review stage that runs in the region."""
    stage = matter.stages[stage_index]
    rejections: list[str] = []
    corrections: list[str] = []
    silent: list[str] = []
    for department in stage.departments:
        if department.code in skipped:
            continue  # a valid regional assessment stands in for this evaluation
        decision = decisions.get(department.code)
        if decision is None:
            if department.timeout_policy is TimeoutPolicy.DEEM_APPROVED:
                continue
            silent.append(department.code)
        elif decision.decision is Decision.REJECT:
            rejections.append(f"{department.name}: {decision.comments or 'rejected'}")
        elif decision.decision is Decision.NEEDS_CORRECTION:
            corrections += [f"{department.name}: {item}" for item in decision.items or [decision.comments]]
    if rejections:
        return StageOutcome(outcome="rejected", stage_index=stage_index, reasons=rejections)
    if corrections:
        return StageOutcome(outcome="correction", stage_index=stage_index, correction_items=corrections)
    if silent:
        return StageOutcome(
            outcome="escalated",
            stage_index=stage_index,
            reasons=[f"{code}: no decision" for code in silent],
            silent=silent,
        )
    following = matter.next_stage(stage_index, Phase.REVIEW, region_code)
    if following is not None:
        return StageOutcome(outcome="next_stage", stage_index=following)
    return StageOutcome(outcome="approved", stage_index=stage_index)


def settle_services(
    matter: Matter,
    stage_index: int,
    decisions: Mapping[str, DepartmentDecision | None],
    expired: frozenset[str] | set[str] = frozenset(),
    region_code: str | None = None,
) -> StageOutcome:
    """A stage after issuance: each service ends on its own, and none undoes the certificate.
    A result completes it, a rejection refuses it with its reason; silence follows the catalog's
    timeout policy (deemed completed, or escalated), and past the final limit it expired. The
    departments still silent are asked again; otherwise the next stage after issuance, or done."""
    settled: list[Settled] = []
    silent: list[str] = []
    for department in matter.stages[stage_index].departments:
        code = department.code
        decision = decisions.get(code)
        if decision is None and code in expired:
            reason = "no answer within the final limit after escalation"
            settled.append(Settled(department=code, outcome=ServiceOutcome.EXPIRED, reason=reason))
        elif decision is None and department.timeout_policy is TimeoutPolicy.DEEM_APPROVED:
            reason = "deemed completed: no answer within its limit"
            settled.append(Settled(department=code, outcome=ServiceOutcome.DEEMED_COMPLETED, reason=reason))
        elif decision is None:
            silent.append(code)
        elif decision.decision is not Decision.APPROVE:
            reason = decision.comments or "refused"
            settled.append(Settled(department=code, outcome=ServiceOutcome.REFUSED, reason=reason))
        elif decision.result is None:  # approved by the timeout policy, without a result
            reason = decision.comments or "deemed completed"
            settled.append(Settled(department=code, outcome=ServiceOutcome.DEEMED_COMPLETED, reason=reason))
        else:
            settled.append(Settled(department=code, outcome=ServiceOutcome.COMPLETED, result=decision.result))
    if silent:
        return StageOutcome(
            outcome="escalated",
            stage_index=stage_index,
            reasons=[f"{code}: no answer" for code in silent],
            silent=silent,
            settled=settled,
        )
    following = matter.next_stage(stage_index, Phase.POST_ISSUANCE, region_code)
    if following is not None:
        return StageOutcome(outcome="next_stage", stage_index=following, settled=settled)
    return StageOutcome(outcome="services_done", stage_index=stage_index, settled=settled)


def answer_problems(
    decision: DepartmentDecision,
    phase: TaskPhase,
    service: ServiceKind | None,
    credit_code: str | None,
    opened_on: date,
    today: date,
) -> list[str]:
    """Every problem with a department's answer for what its task is: a review, an on-site
    inspection (its report), or a service after issuance (its result, or its reason)."""
    problems: list[str] = []
    if phase is TaskPhase.POST_ISSUANCE and service is not None:
        if decision.decision not in (Decision.APPROVE, Decision.REJECT):
            problems.append(
                "decision: a service after issuance is approved with its result or rejected with its reason"
            )
        elif decision.decision is Decision.REJECT and not decision.comments.strip():
            problems.append("comments: a refusal gives its reason")
        elif decision.decision is Decision.APPROVE:
            problems += result_problems(service, decision.result, credit_code)
    elif decision.result is not None:
        problems.append("result: only a service after issuance answers with a result")
    if phase is not TaskPhase.ONSITE_INSPECTION:
        if decision.inspection is not None:
            problems.append("inspection: only an on-site inspection task reports one")
    elif decision.decision is not Decision.SUSPEND:
        report = decision.inspection
        if report is None:
            problems.append(
                "inspection: an on-site inspection answers with its findings, inspectors and date"
            )
        elif not opened_on <= report.inspected_on <= today:
            problems.append(
                f"inspection.inspected_on: must lie between the task's opening ({opened_on}) "
                f"and today ({today})"
            )
    return problems
