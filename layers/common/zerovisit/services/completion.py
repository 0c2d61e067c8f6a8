"""Closing a case: the clock stops and the outcome, figures and any failure are recorded."""

import json
from typing import Any, Literal

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.deadlines import with_clock, working_days_used
from zerovisit.domain.model import CaseStatus, Failure
from zerovisit.domain.workdays import working_days_text
from zerovisit.services.common import note
from zerovisit.storage import cases

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
    case = cases.get_case(case_id)
    if case.is_closed:
        return {"status": case.status.value}
    today = clock.today()
    case = case.model_copy(
        update={
            "suspensions": [
                s if s.ended_on else s.model_copy(update={"ended_on": today}) for s in case.suspensions
            ]
        }
    )
    used = working_days_used(case.accepted_on, case.suspensions, today) if case.accepted_on else None
    update: dict[str, Any] = {
        "status": STATUS_OF[outcome],
        "closed_at": clock.now(),
        "working_days_used": used,
        "outcome_reason": case.outcome_reason or reason,
    }
    detail = reason
    if outcome == "failed":
        message = failure_message(reason)
        update["failure"] = Failure(step=case.step, error=error or "Unknown", cause=message)
        update["outcome_reason"] = f"{case.step} failed: {error}"
        detail = f"{case.step}: {error}: {message}"
    elif used is not None:
        detail = f"{reason}; {working_days_text(used)} used"
    closed = cases.save_case(
        with_clock(case.model_copy(update=update), today), [note("completion", outcome, detail)]
    )
    aws.publish(
        "CaseCompleted" if outcome == "completed" else "CaseClosed",
        {
            "case_id": case_id,
            "case_number": closed.case_number,
            "outcome": outcome,
            "working_days_used": used,
            "promised_due": closed.promised_due.isoformat() if closed.promised_due else None,
            "reason": closed.outcome_reason,
        },
    )
    return {"status": closed.status.value}
