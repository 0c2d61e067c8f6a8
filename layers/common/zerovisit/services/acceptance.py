"""Acceptance (受理): case number, the statutory clock, the review plan."""

from typing import Any

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.model import CaseStatus
from zerovisit.domain.workdays import add_working_days
from zerovisit.services.common import matter_of, note, stage_plan
from zerovisit.storage import cases


def accept(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    matter = matter_of(case)
    if case.case_number is None:
        now = clock.now()
        today = clock.today()
        serial = cases.next_number(f"CASE#{case.application.region_code}#{today.year}", now)
        promised = add_working_days(today, matter.promised_working_days)
        statutory = add_working_days(today, matter.statutory_working_days)
        case = cases.save_case(
            case.model_copy(
                update={
                    "case_number": f"{case.application.region_code}{today:%Y}{serial:07d}",
                    "status": CaseStatus.IN_REVIEW,
                    "step": "review",
                    "accepted_at": now,
                    "accepted_on": today,
                    "promised_due": promised.due,
                    "statutory_due": statutory.due,
                    "deadline_provisional": promised.provisional or statutory.provisional,
                    "deadline_basis": statutory.basis,
                    "current_stage": 0,
                    "outstanding": [],
                }
            ),
            [
                note(
                    "acceptance",
                    "accepted",
                    f"case {today:%Y}-{serial}: due {promised.due} (promised {matter.promised_working_days} "
                    f"working days), statutory {statutory.due}",
                )
            ],
        )
        aws.publish(
            "CaseAccepted",
            {
                "case_id": case_id,
                "case_number": case.case_number,
                "matter_code": matter.code,
                "promised_due": promised.due.isoformat(),
                "statutory_due": statutory.due.isoformat(),
            },
        )
    return {
        "case_number": case.case_number,
        "fee_fen": matter.fee_fen,
        "delivery_required": matter.certificate.paper_original,
        "review": {"outcome": "next_stage", "stage": stage_plan(matter, 0)},
    }
