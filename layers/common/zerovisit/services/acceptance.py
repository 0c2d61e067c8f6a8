"""Acceptance (受理): case number, the statutory clock, the review plan."""

from typing import Any

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.model import CaseStatus
from zerovisit.domain.workdays import working_days_text
from zerovisit.errors import CaseNotFound
from zerovisit.services.common import covered, is_complex, matter_of, note, stage_plan
from zerovisit.storage import cases


def accept(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    matter = matter_of(case)
    if case.case_number is None:
        region = matter.region(case.application.region_code)
        if region is None:
            raise CaseNotFound(
                f"matter {matter.code} is no longer offered in region {case.application.region_code}"
            )
        now = clock.now()
        today = clock.today()
        serial = cases.next_number(f"CASE#{case.application.region_code}#{today.year}", now)
        accepted = with_clock(
            case.model_copy(
                update={
                    "case_number": f"{case.application.region_code}{today:%Y}{serial:07d}",
                    "status": CaseStatus.IN_REVIEW,
                    "step": "review",
                    "accepted_at": now,
                    "accepted_on": today,
                    "promised_limit": region.promised_working_days,
                    "statutory_limit": matter.statutory.working_days,
                    "current_stage": 0,
                    "outstanding": [],
                }
            ),
            today,
        )
        provisional = f"; provisional ({accepted.deadline_basis})" if accepted.deadline_provisional else ""
        skipped = [
            note(
                "acceptance",
                "evaluation skipped",
                f"{code}: covered by {a.name}, valid until {a.valid_until}",
            )
            for code, a in sorted(covered(case, matter).items())
        ]
        case = cases.save_case(
            accepted,
            [
                note(
                    "acceptance",
                    "accepted",
                    f"case {accepted.case_number}: due {accepted.promised_due} (promised "
                    f"{working_days_text(region.promised_working_days)}), "
                    f"statutory {accepted.statutory_due}{provisional}",
                ),
                *skipped,
            ],
        )
        aws.publish(
            "CaseAccepted",
            {
                "case_id": case_id,
                "case_number": case.case_number,
                "matter_code": matter.code,
                "promised_due": str(case.promised_due),
                "statutory_due": str(case.statutory_due),
            },
        )
    return {
        "case_number": case.case_number,
        "fee_fen": matter.fee_fen,
        "delivery_required": matter.certificate.paper_original,
        "review": {
            "outcome": "next_stage",
            "stage": stage_plan(matter, 0, skipped=covered(case, matter), complex_project=is_complex(case)),
        },
    }
