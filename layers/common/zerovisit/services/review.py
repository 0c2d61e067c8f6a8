"""Parallel review: one task per department, decisions by callback, one merged outcome per stage.
The services after issuance (seal, tax, bank account) run on the same tasks and callbacks; each
is settled on its own and recorded for the enterprise."""

from datetime import date
from typing import Any

from zerovisit.clock import CHINA, clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Matter, Phase
from zerovisit.domain.deadlines import task_first_alarm
from zerovisit.domain.enterprise import ServiceKind, ServiceRecord
from zerovisit.domain.model import Task, TaskKind, TaskPhase, TaskStatus
from zerovisit.domain.review import (
    Decision,
    DepartmentDecision,
    StageOutcome,
    answer_problems,
    consolidate,
    settle_services,
)
from zerovisit.errors import InvalidInput
from zerovisit.services.common import (
    answer_task,
    apply,
    due_after,
    matter_of,
    reopen,
    seconds_until_end_of,
    task_ref,
)
from zerovisit.services.ports import Keep, ports


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
    phase = TaskPhase(department.get("phase") or TaskPhase.REVIEW)
    details = {
        "department": code,
        "department_name": department["name"],
        "round": round_,
        "phase": phase.value,
    }
    details |= {key: department[key] for key in ("service", "inspection") if key in department}
    task = Task(
        task_id=f"{prefix}{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.REVIEW,
        partner=department["partner_id"],
        stage=stage,
        created_at=clock.now(),
        due_on=due,
        next_alarm_at=task_first_alarm(clock.now(), due),
        token=token,
        details=details,
    )
    # a service after issuance goes out whatever another one answered
    rejected = phase is not TaskPhase.POST_ISSUANCE and any(
        t.kind is TaskKind.REVIEW
        and t.stage == stage
        and t.status is TaskStatus.ANSWERED
        and (t.answer or {}).get("decision") == "reject"
        for t in tasks
    )
    apply(case_id, lambda current: current.open_review(clock.now(), task, department["name"], rejected), case)
    return {"task_id": task.task_id}


def decide(
    task_id: str, partner: str, decision: DepartmentDecision, keep: Keep | None = None
) -> dict[str, Any]:
    """A department's decision. The same decision again returns the first answer; a different
    decision on a closed task is refused. A rejection ends the stage at once. ``keep``: the
    route's answer, written with the decision."""
    if decision.decision is Decision.SUSPEND:
        return suspend_review(task_id, partner, decision, keep)
    answer = decision.model_dump(mode="json", exclude={"reason"}, exclude_none=True)
    ref = task_ref(task_id)
    result = {"task_id": ref.task_id, "status": "recorded", "decision": answer}

    def record(case: Case, task: Task, tasks: list[Task]) -> Change:
        check_answer(case, task, decision)
        name = department_name(task)
        detail = f"{name}: {decision.decision.value}" + (
            f" ({decision.comments})" if decision.comments else ""
        )
        if decision.inspection is not None:
            report = decision.inspection
            detail += (
                f"; inspected {report.inspected_on} by {', '.join(report.inspectors)}: {report.findings}"
            )
        # a refused service after issuance ends only itself: the certificate stands
        rejected = decision.decision is Decision.REJECT and task.phase is not TaskPhase.POST_ISSUANCE
        stage_tasks = (
            [t for t in tasks if t.kind is TaskKind.REVIEW and t.stage == task.stage] if rejected else []
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

    answer_task(ref, partner, TaskKind.REVIEW, answer, record, kept=keep(result) if keep else None)
    return result


def department_name(task: Task) -> str:
    return str(task.details.get("department_name", task.partner))


def check_answer(case: Case, task: Task, decision: DepartmentDecision) -> None:
    """InvalidInput naming every problem with the answer for what the task is; nothing is written."""
    service = task.details.get("service")
    problems = answer_problems(
        decision,
        task.phase,
        ServiceKind(service) if service else None,
        case.registered_credit_code,
        task.created_at.astimezone(CHINA).date(),
        clock.today(),
    )
    if problems:
        raise InvalidInput(problems)


def suspend_review(
    task_id: str, partner: str, decision: DepartmentDecision, keep: Keep | None = None
) -> dict[str, Any]:
    """The department stops the clock (law art. 45) while its task stays open; a repeated call
    changes nothing. ``keep``: the route's answer, written with the suspension."""
    assert decision.reason is not None
    reason = decision.reason
    marker = {"suspended": reason.value}
    result = {"task_id": task_id, "status": "suspended", "reason": reason.value}

    def stop_clock(case: Case, task: Task, _: list[Task]) -> Change:
        check_answer(case, task, decision)
        detail = f"{department_name(task)}: {reason.value}" + (
            f" ({decision.comments})" if decision.comments else ""
        )
        return case.suspend_for(clock.now(), task, reason, detail)

    # A suspension leaves the task open: the callback path is shared, the answer is not recorded.
    answer_task(
        task_ref(task_id), partner, TaskKind.REVIEW, marker, stop_clock, kept=keep(result) if keep else None
    )
    return result


def consolidate_stage(case_id: str, stage: int) -> dict[str, Any]:
    case, tasks = ports().cases.case_and_tasks(case_id)
    matter = matter_of(case)
    latest = _latest_tasks(tasks, stage)
    expired = sorted(code for code, task in latest.items() if task.status is TaskStatus.EXPIRED)
    decisions = {
        code: DepartmentDecision.model_validate(task.answer)
        if task.status is TaskStatus.ANSWERED and task.answer is not None
        else None
        for code, task in latest.items()
    }
    if matter.stages[stage].phase is Phase.POST_ISSUANCE:
        return _settle(case, matter, stage, latest, settle_services(matter, stage, decisions, set(expired)))
    skipped = case.covered(matter, clock.now())
    result = consolidate(
        matter, stage, decisions, skipped=set(skipped), region_code=case.application.region_code
    )
    verdict = case.review_verdict(stage, result, expired)
    if verdict.outcome != "withdrawn":
        apply(case_id, lambda current: current.stage_consolidated(clock.now(), stage, verdict, result), case)
    outcome = verdict.outcome
    stage_to_run = result.stage_index if outcome in ("next_stage", "correction", "escalated") else None
    only = set(result.silent) if outcome == "escalated" else None
    return _plan(case, matter, outcome, verdict.reason or verdict.detail, stage_to_run, only, skipped)


def _latest_tasks(tasks: list[Task], stage: int) -> dict[str, Task]:
    """The newest task of each department of the stage."""
    latest: dict[str, Task] = {}
    for task in sorted(tasks, key=lambda t: t.created_at):
        if task.kind is TaskKind.REVIEW and task.stage == stage:
            latest[str(task.details.get("department"))] = task
    return latest


def _plan(
    case: Case,
    matter: Matter,
    outcome: str,
    reason: str,
    stage: int | None,
    only: set[str] | None = None,
    skipped: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the state machine's review loop reads: the outcome and the stage to run next, if any."""
    return {
        "outcome": outcome,
        "reason": reason,
        "stage": case.stage_plan(matter, stage, clock.now(), only, skipped or {})
        if stage is not None
        else {},
        "correction_timeout_seconds": seconds_until_end_of(due_after(matter.correction_limit_working_days)),
    }


def begin_services(case_id: str) -> dict[str, Any]:
    """After the certificate: the first stage of services for its holder (the enterprise under its
    credit code), or ``services_done`` where the matter has none. A resumed case asks only the
    departments of its stage that have not answered."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    matter = matter_of(case)
    begun = case.current_stage is not None and matter.stages[case.current_stage].phase is Phase.POST_ISSUANCE
    if begun:
        stage: int | None = case.current_stage
    else:
        stage = matter.next_stage(None, Phase.POST_ISSUANCE, case.application.region_code)
        if stage is None:
            return _plan(case, matter, "services_done", "no service follows the certificate", None)
        names = ", ".join(d.name for d in matter.stages[stage].departments)
        enterprise = case.application.enterprise
        holder = enterprise.name if enterprise else case.application.applicant.name
        detail = (
            f"{names} for {holder} (unified social credit code {case.registered_credit_code}), "
            f"holder of {matter.certificate.name} {case.certificate_id}"
        )
        first = stage
        case, _ = apply(case_id, lambda current: current.begin_services(clock.now(), first, detail), case)
    assert stage is not None
    ended = {
        code: True
        for code, task in _latest_tasks(tasks, stage).items()
        if task.status in (TaskStatus.ANSWERED, TaskStatus.EXPIRED)
    }
    return _plan(case, matter, "next_stage", "", stage, skipped=ended)


def _settle(
    case: Case, matter: Matter, stage: int, latest: dict[str, Task], result: StageOutcome
) -> dict[str, Any]:
    """Record each service that ended, for the enterprise and on the case, then go on: ask the
    silent departments again, run the next stage after issuance, or finish."""
    if case.is_closed:
        return _plan(case, matter, "withdrawn", f"the case is {case.status.value}", None)
    departments = {d.code: d for d in matter.stages[stage].departments}
    now = clock.now()
    records = []
    for settled in result.settled:
        department = departments[settled.department]
        assert department.service is not None
        task = latest.get(settled.department)
        records.append(
            ServiceRecord(
                credit_code=case.registered_credit_code or "",
                case_id=case.case_id,
                case_number=case.case_number,
                department=department.code,
                department_name=department.name,
                service=department.service,
                outcome=settled.outcome,
                result=settled.result,
                reason=settled.reason,
                task_id=task.task_id if task else None,
                recorded_at=now,
            )
        )
    if result.outcome == "escalated":
        detail = "; ".join(result.reasons)
    elif result.outcome == "next_stage":
        detail = f"stage {stage + 1} settled; stage {result.stage_index + 1} follows"
    else:
        detail = "every service after issuance settled"
    apply(
        case.case_id,
        lambda current: current.services_settled(
            now, stage, records, result.outcome, detail, result.stage_index
        ),
        case,
    )
    if result.outcome == "escalated":
        return _plan(case, matter, "escalated", detail, stage, only=set(result.silent))
    if result.outcome == "next_stage":
        return _plan(case, matter, "next_stage", detail, result.stage_index)
    return _plan(case, matter, "services_done", detail, None)
