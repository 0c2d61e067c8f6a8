"""Pre-review and corrections: one notice naming every deficiency, then wait for the applicant."""

from typing import Any

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.model import CaseStatus, SubmittedMaterial, SuspensionReason, Task, TaskKind, TaskStatus
from zerovisit.domain.prereview import apply_correction, holders, may_ask_for_correction, review_materials
from zerovisit.errors import TaskClosed
from zerovisit.services.common import due_after, matter_of, note, reopen, seconds_until_end_of
from zerovisit.services.statutory_clock import held_by, resume, suspend
from zerovisit.storage import cases, certificates

APPLICANT = "applicant"


def check_materials(case_id: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    matter = matter_of(case)
    held = [c for holder in sorted(holders(case.application, matter)) for c in certificates.library(holder)]
    deficiencies, reused = review_materials(case.application, matter, held)
    correction_due = due_after(matter.correction_limit_working_days)
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
        entries.append(note("pre_review", "materials deficient", "; ".join(d.problem for d in deficiencies)))
    else:
        entries.append(note("pre_review", "materials complete"))
    may_correct = bool(deficiencies) and may_ask_for_correction(
        case.correction_round, matter.waits.max_correction_rounds
    )
    if deficiencies and not may_correct:
        entries.append(
            note("pre_review", "no further correction round", f"after {case.correction_round} rounds")
        )
    cases.save_case(
        case.model_copy(
            update={"outstanding": deficiencies, "reused_certificates": reused, "step": "pre_review"}
        ),
        entries,
    )
    return {
        "complete": not deficiencies,
        "may_correct": may_correct,
        "correction_timeout_seconds": seconds_until_end_of(correction_due),
    }


def await_correction(case_id: str, source: str, token: str) -> dict[str, Any]:
    """Record the correction task with its token and send the one-time notice. Retried calls
    refresh the open task's token rather than opening a second one."""
    case = cases.get_case(case_id)
    matter = matter_of(case)
    still_open, earlier = reopen(case_id, lambda t: t.kind is TaskKind.CORRECTION, token)
    items = [d.problem for d in case.outstanding]
    due = due_after(matter.correction_limit_working_days)
    if still_open is not None:
        return {"task_id": still_open.task_id}
    task = Task(
        task_id=f"{case_id}.COR{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.CORRECTION,
        partner="applicant",
        created_at=clock.now(),
        due_on=due,
        token=token,
        details={"source": source, "items": items},
    )
    rounds = case.correction_round + (1 if source == "pre_review" else 0)
    waiting = case.model_copy(
        update={"status": CaseStatus.AWAITING_CORRECTION, "step": "correction", "correction_round": rounds}
    )
    entries = [note("correction", "correction requested", "; ".join(items))]
    if case.accepted_on is not None:
        # After acceptance, time waiting for the applicant is not counted (law art. 45).
        waiting = suspend(waiting, SuspensionReason.APPLICANT_CORRECTION, APPLICANT)
        entries.append(note("correction", "clock suspended", "waiting for the applicant's corrections"))
    cases.save_case(with_clock(waiting, clock.today()), entries, new_tasks=[task])
    aws.publish(
        "CorrectionRequested",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "task_id": task.task_id,
            "source": source,
            "items": items,
            "due_on": due.isoformat(),
        },
    )
    return {"task_id": task.task_id}


def submit_correction(case_id: str, materials: list[SubmittedMaterial]) -> dict[str, Any]:
    """The applicant's corrected materials answer the open correction task and resume the case."""
    case = cases.get_case(case_id)
    open_task = next(
        (t for t in cases.tasks(case_id) if t.kind is TaskKind.CORRECTION and t.status is TaskStatus.OPEN),
        None,
    )
    if open_task is None:
        raise TaskClosed("the case is not waiting for a correction")
    corrected = apply_correction(case.application, materials)
    answered = open_task.answered({"materials": [m.code for m in materials]}, clock.now())
    status = CaseStatus.SUBMITTED if open_task.details.get("source") == "pre_review" else CaseStatus.IN_REVIEW
    entries = [note("correction", "correction submitted", ", ".join(m.code for m in materials), APPLICANT)]
    if held_by(case, APPLICANT) is not None:
        entries.append(note("correction", "clock resumed", "corrections received"))
    resumed = resume(case, APPLICANT).model_copy(update={"application": corrected, "status": status})
    cases.save_case(with_clock(resumed, clock.today()), entries, answered_task=answered)
    aws.resume_task(open_task.token, {"corrected": [m.code for m in materials]})
    return {"case_id": case_id, "task_id": open_task.task_id, "status": "resumed"}
