"""Closing a case: the clock stops and the outcome, figures and any failure are recorded."""

import json
from typing import Any, Literal

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.model import CaseStatus, Failure
from zerovisit.services.common import apply

Outcome = Literal["completed", "rejected", "not_accepted", "withdrawn", "failed"]

STATUS_OF: dict[str, CaseStatus] = {
    "completed": CaseStatus.COMPLETED,
    "rejected": CaseStatus.REJECTED,
    "not_accepted": CaseStatus.NOT_ACCEPTED,
    "withdrawn": CaseStatus.WITHDRAWN,
    "failed": CaseStatus.FAILED,
}


def failure_message(cause: str) -> str:
    """Step Functions passes a Lambda error's cause as JSON with a stack trace: keep the message."""
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause[:500]
    if isinstance(parsed, dict):
        return str(parsed.get("errorMessage") or parsed.get("Cause") or "")[:500]
    return cause[:500]


def close(case_id: str, outcome: Outcome, reason: str, error: str | None = None) -> dict[str, Any]:
    """Close once: a case already closed (withdrawn meanwhile, or a retried call) stays as it is."""

    def decide(case: Case) -> Change:
        failure = None
        if outcome == "failed":
            failure = Failure(
                step=case.step.value, error=error or "Unknown", cause=failure_message(reason), at=clock.now()
            )
        return case.close(clock.now(), STATUS_OF[outcome], reason, failure)

    closed, _ = apply(case_id, decide)
    return {"status": closed.status.value}
