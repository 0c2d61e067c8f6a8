"""Pre-review and corrections: one notice naming every deficiency, then wait for the applicant."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Matter
from zerovisit.domain.deadlines import task_first_alarm
from zerovisit.domain.model import Deficiency, SubmittedMaterial, Task, TaskKind
from zerovisit.domain.prereview import (
    apply_correction,
    held_on,
    holders,
    may_ask_for_correction,
    review_materials,
)
from zerovisit.errors import TaskClosed
from zerovisit.services.common import apply, due_after, matter_of, note, reopen, seconds_until_end_of
from zerovisit.services.ports import ports

APPLICANT = "applicant"


def check_materials(case_id: str) -> dict[str, Any]:
    def decide(case: Case) -> Change:
        matter = matter_of(case)
        held = [
            held_on(c, clock.today())
            for holder in sorted(holders(case.application, matter))
            for c in ports().certificates.library(holder)
        ]
        deficiencies, reused = review_materials(case.application, matter, held)
        entries = []
        if reused:
            entries.append(
                note(
                    "pre_review",
                    "certificates reused",
                    ", ".join(f"{m} <- {c}" for m, c in sorted(reused.items())),
                )
            )
        if deficiencies:
            entries.append(
                note("pre_review", "materials deficient", "; ".join(d.problem for d in deficiencies))
            )
        else:
            entries.append(note("pre_review", "materials complete"))
        uncorrectable = [d.problem for d in deficiencies if not d.correctable]
        if uncorrectable:
            entries.append(note("pre_review", "not correctable", "; ".join(uncorrectable)))
        elif deficiencies and not _may_correct(case, matter, deficiencies):
            entries.append(
                note("pre_review", "no further correction round", f"after {case.correction_round} rounds")
            )
        return case.check_materials(clock.now(), deficiencies, reused, entries)

    case, _ = apply(case_id, decide)
    matter = matter_of(case)
    return {
        "complete": not case.outstanding,
        "may_correct": bool(case.outstanding) and _may_correct(case, matter, case.outstanding),
        "correction_timeout_seconds": seconds_until_end_of(due_after(matter.correction_limit_working_days)),
    }


def _may_correct(case: Case, matter: Matter, deficiencies: list[Deficiency]) -> bool:
    return may_ask_for_correction(case.correction_round, matter.waits.max_correction_rounds, deficiencies)


def await_correction(case_id: str, source: str, token: str, round_: str | None = None) -> dict[str, Any]:
    """Open the correction task and send the one-time notice, both in one write. A retried call
    gives the open task the new token; the notice went out with the first write."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    still_open, earlier = reopen(case, tasks, lambda t: t.kind is TaskKind.CORRECTION, token, round_)
    if still_open is not None:
        return {"task_id": still_open.task_id}
    matter = matter_of(case)
    due = due_after(matter.correction_limit_working_days)
    task = Task(
        task_id=f"{case_id}.COR{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.CORRECTION,
        partner=APPLICANT,
        created_at=clock.now(),
        due_on=due,
        next_alarm_at=task_first_alarm(clock.now(), due),
        token=token,
        details={"source": source, "items": [d.problem for d in case.outstanding], "round": round_},
    )
    apply(case_id, lambda current: current.request_correction(clock.now(), task, source), case)
    return {"task_id": task.task_id}


def submit_correction(case_id: str, materials: list[SubmittedMaterial]) -> dict[str, Any]:
    """The applicant's corrected materials answer the open correction task and resume the case."""
    codes = [m.code for m in materials]

    def decide(case: Case) -> Change:
        open_task = next(
            (t for t in ports().cases.tasks(case_id) if t.kind is TaskKind.CORRECTION and t.is_open), None
        )
        if open_task is None:
            raise TaskClosed("the case is not waiting for a correction")
        return case.correct(clock.now(), open_task, apply_correction(case.application, materials), codes)

    _, change = apply(case_id, decide)
    return {"case_id": case_id, "task_id": change.tasks[0].task_id, "status": "resumed"}
