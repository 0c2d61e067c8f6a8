"""Parallel review: a stage's department decisions merged into one outcome."""

from enum import StrEnum
from typing import Literal

from pydantic import Field, model_validator

from zerovisit.domain.catalog import Matter, TimeoutPolicy
from zerovisit.domain.model import APPLICANT_REASONS, Frozen, ShortText, SuspensionReason


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    NEEDS_CORRECTION = "needs_correction"
    SUSPEND = "suspend"


class DepartmentDecision(Frozen):
    """A department's answer. ``suspend`` (with its art. 45 reason) stops the case's clock until the
    department's final decision; ``needs_correction`` names the items the applicant must correct."""

    decision: Decision
    comments: str = Field(default="", max_length=2000)
    items: list[ShortText] = Field(default_factory=list, max_length=50)
    reason: SuspensionReason | None = None

    @model_validator(mode="after")
    def _reason_goes_with_suspend(self) -> "DepartmentDecision":
        if (self.decision is Decision.SUSPEND) != (self.reason is not None):
            raise ValueError("reason is required with decision 'suspend' and only then")
        if self.reason in APPLICANT_REASONS:
            raise ValueError("reason: the applicant's own time is not a department's suspension")
        return self


Outcome = Literal["next_stage", "correction", "rejected", "approved", "escalated"]


class StageOutcome(Frozen):
    outcome: Outcome
    stage_index: int
    correction_items: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    silent: list[str] = Field(default_factory=list)


def consolidate(
    matter: Matter,
    stage_index: int,
    decisions: dict[str, DepartmentDecision | None],
    skipped: frozenset[str] | set[str] = frozenset(),
) -> StageOutcome:
    """``decisions`` maps each department of the stage to its decision, or None if it did not
    answer within its limit (then its catalog timeout policy applies)."""
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
    if stage_index + 1 < len(matter.stages):
        return StageOutcome(outcome="next_stage", stage_index=stage_index + 1)
    return StageOutcome(outcome="approved", stage_index=stage_index)
