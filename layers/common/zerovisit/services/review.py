"""Parallel review: one task per department, decisions by callback, one merged outcome per stage."""

import contextlib
from datetime import date, timedelta
from typing import Any

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.deadlines import start_of
from zerovisit.domain.model import Case, CaseStatus, Deficiency, Task, TaskKind, TaskStatus, TimelineEntry
from zerovisit.domain.review import Decision, DepartmentDecision, consolidate
from zerovisit.errors import NotPermitted, TaskClosed
from zerovisit.services.common import (
    covered,
    due_after,
    is_complex,
    matter_of,
    note,
    reopen,
    seconds_until_end_of,
    stage_plan,
)
from zerovisit.services.statutory_clock import change_case, held_by, resume, suspend
from zerovisit.storage import cases


def dispatch(case_id: str, stage: int, department: dict[str, Any], token: str) -> dict[str, Any]:
    """Open (or, on a retried call, refresh) the department's review task for this round."""
    code = department["code"]
    prefix = f"{case_id}.R{stage + 1}-{code}-"
    still_open, earlier = reopen(case_id, lambda t: t.task_id.startswith(prefix), token)
    if still_open is not None:
        return {"task_id": still_open.task_id}
    task = Task(
        task_id=f"{prefix}{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.REVIEW,
        partner=department["partner_id"],
        stage=stage,
        created_at=clock.now(),
        due_on=date.fromisoformat(department["due_on"]),
        next_alarm_at=start_of(date.fromisoformat(department["due_on"]) + timedelta(days=1)),
        token=token,
        details={"department": code, "department_name": department["name"]},
    )
    cases.append_timeline(
        case_id,
        [note("review", "review requested", f"stage {stage + 1}: {department['name']}, due {task.due_on}")],
        [task],
    )
    case = cases.get_case(case_id)
    aws.publish(
        "ReviewRequested",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "matter_code": case.application.matter_code,
            "task_id": task.task_id,
            "department": code,
            "partner_id": task.partner,
            "stage": stage + 1,
            "due_on": department["due_on"],
        },
    )
    return {"task_id": task.task_id}


def resume_again(token: str, output: dict[str, Any]) -> None:
    """A repeated callback re-sends its answer in case the first send did not reach the
    execution; an execution that already moved on answers TaskClosed, which is expected."""
    with contextlib.suppress(TaskClosed):
        aws.resume_task(token, output)


def decide(task_id: str, case_id: str, partner: str, decision: DepartmentDecision) -> dict[str, Any]:
    """A department's decision. Repeating the same decision returns the first answer; a different
    decision on an answered task is refused."""
    task = cases.get_task(case_id, task_id)
    if task.kind is not TaskKind.REVIEW or task.partner != partner:
        raise NotPermitted("this task is not assigned to the calling partner")
    if decision.decision is Decision.SUSPEND:
        return suspend_review(task, partner, decision)
    answer = decision.model_dump(mode="json", exclude={"reason"})
    if task.status is TaskStatus.ANSWERED:
        if not task.same_answer(answer):
            raise TaskClosed("the task was already decided")
        resume_again(task.token, {"task_id": task_id, "decision": decision.decision.value})
        return {"task_id": task_id, "status": "recorded", "decision": task.answer}
    answered = task.answered(answer, clock.now())
    detail = f"{task.details.get('department_name', task.partner)}: {decision.decision.value}"
    if decision.comments:
        detail += f" ({decision.comments})"

    def record(case: Case) -> tuple[Case, list[TimelineEntry]]:
        entries = [note("review", "decided", detail, task.partner)]
        if held_by(case, task_id) is not None:
            entries.insert(0, note("review", "clock resumed", f"suspension by {department_name(task)} ended"))
        return resume(case, task_id), entries

    case = change_case(case_id, record, answered_task=answered)
    aws.resume_task(task.token, {"task_id": task_id, "decision": decision.decision.value})
    aws.publish(
        "ReviewDecided",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "stage": (task.stage or 0) + 1,
            "task_id": task_id,
            "department": task.details.get("department"),
            "decision": decision.decision.value,
        },
    )
    return {"task_id": task_id, "status": "recorded", "decision": answer}


def department_name(task: Task) -> str:
    return str(task.details.get("department_name", task.partner))


def suspend_review(task: Task, partner: str, decision: DepartmentDecision) -> dict[str, Any]:
    """The department stops the clock (law art. 45) while its task stays open; a repeated call
    changes nothing."""
    if task.status is TaskStatus.ANSWERED:
        raise TaskClosed("the task was already decided")
    assert decision.reason is not None
    reason = decision.reason

    def stop_clock(case: Case) -> tuple[Case, list[TimelineEntry]]:
        if held_by(case, task.task_id) is not None:
            return case, []
        detail = f"{department_name(task)}: {reason.value}" + (
            f" ({decision.comments})" if decision.comments else ""
        )
        return suspend(case, reason, task.task_id, decision.comments), [
            note("review", "clock suspended", detail, partner)
        ]

    case = change_case(task.case_id, stop_clock)
    aws.publish(
        "CaseSuspended",
        {
            "case_id": task.case_id,
            "case_number": case.case_number,
            "task_id": task.task_id,
            "reason": reason.value,
        },
    )
    return {"task_id": task.task_id, "status": "suspended", "reason": reason.value}


def consolidate_stage(case_id: str, stage: int) -> dict[str, Any]:
    case = cases.get_case(case_id)
    matter = matter_of(case)
    latest: dict[str, Task] = {}
    for task in sorted(cases.tasks(case_id), key=lambda t: t.created_at):
        if task.kind is TaskKind.REVIEW and task.stage == stage:
            latest[str(task.details.get("department"))] = task
    decisions = {
        code: DepartmentDecision.model_validate(task.answer) if task.answer is not None else None
        for code, task in latest.items()
    }
    skipped = covered(case, matter)
    result = consolidate(matter, stage, decisions, skipped=set(skipped))
    update: dict[str, Any] = {}
    if result.outcome == "rejected":
        detail = "; ".join(result.reasons)
        update = {"outcome_reason": detail}
    elif result.outcome == "correction":
        detail = "; ".join(result.correction_items)
        update = {"outstanding": [Deficiency(material="review", problem=i) for i in result.correction_items]}
    elif result.outcome == "next_stage":
        detail = f"stage {stage + 1} approved; stage {result.stage_index + 1} follows"
        update = {"current_stage": result.stage_index}
    elif result.outcome == "approved":
        detail = "every stage approved"
        update = {
            "step": "payment" if case.fee_fen else "certificate",
            "status": CaseStatus.AWAITING_PAYMENT if case.fee_fen else CaseStatus.ISSUING,
        }
    else:
        detail = "; ".join(result.reasons)
    cases.save_case(
        case.model_copy(update=update), [note("review", f"stage {stage + 1} {result.outcome}", detail)]
    )
    stage_to_run = result.stage_index if result.outcome in ("next_stage", "correction", "escalated") else None
    only = set(result.silent) if result.outcome == "escalated" else None
    return {
        "outcome": result.outcome,
        "stage": stage_plan(matter, stage_to_run, only, skipped, complex_project=is_complex(case))
        if stage_to_run is not None
        else {},
        "correction_timeout_seconds": seconds_until_end_of(due_after(matter.correction_limit_working_days)),
    }
