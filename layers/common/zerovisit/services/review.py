"""Parallel review: one task per department, decisions by callback, one merged outcome per stage."""

from datetime import date, timedelta
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.deadlines import start_of
from zerovisit.domain.model import Task, TaskKind, TaskStatus
from zerovisit.domain.review import Decision, DepartmentDecision, consolidate
from zerovisit.services.common import (
    answer_task,
    apply,
    covered,
    due_after,
    is_complex,
    matter_of,
    reopen,
    seconds_until_end_of,
    stage_plan,
)
from zerovisit.services.ports import ports


def dispatch(
    case_id: str, stage: int, department: dict[str, Any], token: str, round_: str | None = None
) -> dict[str, Any]:
    """Open the department's review task for this round and tell the department, in one write; a
    retried call gives the open task the new token."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    code = department["code"]
    prefix = f"{case_id}.R{stage + 1}-{code}-"
    still_open, earlier = reopen(case, tasks, lambda t: t.task_id.startswith(prefix), token, round_)
    if still_open is not None:
        return {"task_id": still_open.task_id}
    due = date.fromisoformat(department["due_on"])
    task = Task(
        task_id=f"{prefix}{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.REVIEW,
        partner=department["partner_id"],
        stage=stage,
        created_at=clock.now(),
        due_on=due,
        next_alarm_at=start_of(due + timedelta(days=1)),
        token=token,
        details={"department": code, "department_name": department["name"], "round": round_},
    )
    rejected = any(
        t.kind is TaskKind.REVIEW
        and t.stage == stage
        and t.status is TaskStatus.ANSWERED
        and (t.answer or {}).get("decision") == "reject"
        for t in tasks
    )
    apply(case_id, lambda current: current.open_review(clock.now(), task, department["name"], rejected), case)
    return {"task_id": task.task_id}


def decide(task_id: str, partner: str, decision: DepartmentDecision) -> dict[str, Any]:
    """A department's decision. The same decision again returns the first answer; a different
    decision on a closed task is refused. A rejection ends the stage at once."""
    if decision.decision is Decision.SUSPEND:
        return suspend_review(task_id, partner, decision)
    answer = decision.model_dump(mode="json", exclude={"reason"})

    def record(case: Case, task: Task) -> Change:
        name = department_name(task)
        detail = f"{name}: {decision.decision.value}" + (
            f" ({decision.comments})" if decision.comments else ""
        )
        rejected = decision.decision is Decision.REJECT
        stage_tasks = (
            [
                t
                for t in ports().cases.tasks(case.case_id)
                if t.kind is TaskKind.REVIEW and t.stage == task.stage
            ]
            if rejected
            else []
        )
        return case.record_decision(
            clock.now(),
            task,
            answer,
            decision.decision.value,
            detail,
            stage_tasks,
            rejection_reason=f"{name}: {decision.comments or 'rejected'}" if rejected else None,
        )

    task = answer_task(task_id, partner, TaskKind.REVIEW, answer, record)
    return {"task_id": task.task_id, "status": "recorded", "decision": task.answer}


def department_name(task: Task) -> str:
    return str(task.details.get("department_name", task.partner))


def suspend_review(task_id: str, partner: str, decision: DepartmentDecision) -> dict[str, Any]:
    """The department stops the clock (law art. 45) while its task stays open; a repeated call
    changes nothing."""
    assert decision.reason is not None
    reason = decision.reason
    marker = {"suspended": reason.value}

    def stop_clock(case: Case, task: Task) -> Change:
        detail = f"{department_name(task)}: {reason.value}" + (
            f" ({decision.comments})" if decision.comments else ""
        )
        return case.suspend_for(clock.now(), task, reason, detail)

    # A suspension leaves the task open: the callback path is shared, the answer is not recorded.
    answer_task(task_id, partner, TaskKind.REVIEW, marker, stop_clock)
    return {"task_id": task_id, "status": "suspended", "reason": reason.value}


def consolidate_stage(case_id: str, stage: int) -> dict[str, Any]:
    case, tasks = ports().cases.case_and_tasks(case_id)
    matter = matter_of(case)
    latest: dict[str, Task] = {}
    for task in sorted(tasks, key=lambda t: t.created_at):
        if task.kind is TaskKind.REVIEW and task.stage == stage:
            latest[str(task.details.get("department"))] = task
    expired = sorted(code for code, task in latest.items() if task.status is TaskStatus.EXPIRED)
    decisions = {
        code: DepartmentDecision.model_validate(task.answer)
        if task.status is TaskStatus.ANSWERED and task.answer is not None
        else None
        for code, task in latest.items()
    }
    skipped = covered(case, matter)
    result = consolidate(matter, stage, decisions, skipped=set(skipped))
    outcome: str = result.outcome
    reason = None
    if case.is_closed:
        outcome, detail = "withdrawn", f"the case is {case.status.value}"
    elif outcome == "rejected":
        detail = reason = "; ".join(result.reasons)
    elif expired and outcome == "escalated":
        outcome = "expired"
        detail = reason = "no decision within the final limit: " + ", ".join(expired)
    elif outcome == "correction":
        detail = "; ".join(result.correction_items)
    elif outcome == "next_stage":
        detail = f"stage {stage + 1} approved; stage {result.stage_index + 1} follows"
    elif outcome == "approved":
        detail = "every stage approved"
    else:
        detail = "; ".join(result.reasons)
    if outcome != "withdrawn":
        apply(
            case_id,
            lambda current: current.stage_consolidated(
                clock.now(),
                stage,
                outcome,
                detail,
                next_stage=result.stage_index,
                correction_items=result.correction_items,
                reason=reason,
            ),
            case,
        )
    stage_to_run = result.stage_index if outcome in ("next_stage", "correction", "escalated") else None
    only = set(result.silent) if outcome == "escalated" else None
    return {
        "outcome": outcome,
        "reason": reason or detail,
        "stage": stage_plan(
            matter,
            stage_to_run,
            only,
            skipped,
            complex_project=is_complex(case),
            region_code=case.application.region_code,
        )
        if stage_to_run is not None
        else {},
        "correction_timeout_seconds": seconds_until_end_of(due_after(matter.correction_limit_working_days)),
    }
