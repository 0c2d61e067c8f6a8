"""Acceptance (受理): case number, the statutory clock, the review plan; and resuming a failed case."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Phase
from zerovisit.domain.model import CaseStep, TaskKind, TaskStatus
from zerovisit.errors import CaseNotFound
from zerovisit.services.common import apply, matter_of, note
from zerovisit.services.ports import ports


def accept(case_id: str) -> dict[str, Any]:
    case = ports().cases.get(case_id)
    case.require_open()
    matter = matter_of(case)
    if case.case_number is None:
        region = matter.region(case.application.region_code)
        if region is None:
            raise CaseNotFound(
                f"matter {matter.code} is no longer offered in region {case.application.region_code}"
            )
        today = clock.today()
        serial = ports().cases.next_number(f"CASE#{case.application.region_code}#{today.year}")
        number = f"{case.application.region_code}{today:%Y}{serial:07d}"

        def decide(current: Case) -> Change:
            if current.case_number is not None:
                return Change(current.case_id, current.version, None)
            skipped = [
                note(
                    "acceptance",
                    "evaluation skipped",
                    f"{code}: covered by {a.name}, valid until {a.valid_until}",
                )
                for code, a in sorted(current.covered(matter, clock.now()).items())
            ]
            return current.accept(
                clock.now(),
                number,
                region.promised_working_days,
                matter.statutory.working_days,
                skipped,
                matter.code,
                matter.waits.warning_share,
            )

        case, _ = apply(case_id, decide, case)
    return {
        "case_number": case.case_number,
        "fee_fen": case.fee_fen,
        "delivery_required": case.delivery_required,
        "services_follow": case.services_follow,
        "review": {
            "outcome": "next_stage",
            "stage": case.stage_plan(
                matter,
                matter.next_stage(None, Phase.REVIEW, case.application.region_code) or 0,
                clock.now(),
                skipped=case.covered(matter, clock.now()),
            ),
        },
    }


def resume_plan(case_id: str) -> dict[str, Any]:
    """Where a resumed execution continues: the step the case failed at. A review resumes with
    only the departments of the current stage that have not approved: none is asked again."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    matter = matter_of(case)
    plan: dict[str, Any] = {
        "step": case.step.value,
        "case_number": case.case_number,
        "fee_fen": case.fee_fen,
        "delivery_required": case.delivery_required,
        "services_follow": case.services_follow,
        "review": {"outcome": "none", "stage": {}},
    }
    if case.step is CaseStep.REVIEW:
        stage = case.current_stage or 0
        approved = {
            str(t.details.get("department"))
            for t in tasks
            if t.kind is TaskKind.REVIEW
            and t.stage == stage
            and t.status is TaskStatus.ANSWERED
            and (t.answer or {}).get("decision") == "approve"
        }
        skipped = {**case.covered(matter, clock.now()), **dict.fromkeys(approved, True)}
        plan["review"] = {
            "outcome": "next_stage",
            "stage": case.stage_plan(matter, stage, clock.now(), skipped=skipped),
        }
    return plan
