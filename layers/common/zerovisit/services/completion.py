"""Closing a case: the clock stops and the outcome and figures are recorded; or the case fails,
keeping the failure, for operations to resume or refuse."""

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
    """Close or fail once: a case already closed (withdrawn meanwhile, or a retried call) stays as
    it is."""

    def decide(case: Case) -> Change:
        now = clock.now()
        if outcome == "failed":
            cause = failure_message(reason)
            return case.fail(
                now, Failure(step=case.step.value, error=error or "Unknown", cause=cause, at=now)
            )
        return case.close(now, STATUS_OF[outcome], reason)

    closed, _ = apply(case_id, decide)
    return {"status": closed.status.value}
