"""What the API shows of a case: its status, clock and timeline; never its task tokens."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.deadlines import working_days_used
from zerovisit.storage import cases


def case_view(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    today = clock.today()
    used = case.working_days_used
    if used is None and case.accepted_on is not None:
        used = working_days_used(case.accepted_on, case.suspensions, today)
    remaining = (
        max(0, case.promised_limit - (used or 0))
        if case.promised_limit is not None and not case.is_closed
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
        "promised_limit": case.promised_limit,
        "statutory_limit": case.statutory_limit,
        "statutory_days_remaining": (
            max(0, case.statutory_limit - (used or 0))
            if case.statutory_limit is not None and not case.is_closed
            else None
        ),
        "deadline_basis": case.deadline_basis,
        "suspended": any(s.ended_on is None for s in case.suspensions),
        "suspensions": [s.model_dump(mode="json", exclude={"by"}) for s in case.suspensions],
        "alarms_raised": case.alarms_raised,
        "certificate_id": case.certificate_id,
        "waybill": case.waybill,
        "outcome_reason": case.outcome_reason,
        "failure": case.failure.model_dump() if case.failure else None,
        "timeline": [entry.model_dump(mode="json") for entry in cases.timeline(case_id)],
    }
