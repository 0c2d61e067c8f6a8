"""What the API shows of a case: its status, clock and timeline; never its task tokens."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.workdays import working_days_between
from zerovisit.storage import cases


def case_view(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    used = case.working_days_used
    if used is None and case.accepted_on is not None:
        used = working_days_between(case.accepted_on, clock.today())
    remaining = (
        working_days_between(clock.today(), case.promised_due)
        if case.promised_due is not None and not case.is_closed
        else None
    )
    return {
        "case_id": case.case_id,
        "case_number": case.case_number,
        "matter_code": case.application.matter_code,
        "status": case.status.value,
        "step": case.step,
        "accepted_on": case.accepted_on.isoformat() if case.accepted_on else None,
        "promised_due": case.promised_due.isoformat() if case.promised_due else None,
        "statutory_due": case.statutory_due.isoformat() if case.statutory_due else None,
        "deadline_provisional": case.deadline_provisional,
        "working_days_used": used,
        "working_days_remaining": remaining,
        "certificate_id": case.certificate_id,
        "waybill": case.waybill,
        "outcome_reason": case.outcome_reason,
        "failure": case.failure.model_dump() if case.failure else None,
        "timeline": [entry.model_dump(mode="json") for entry in cases.timeline(case_id)],
    }
