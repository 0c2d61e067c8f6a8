"""The scheduled sweep: deadline alarms for cases, and department limits for review tasks.

Work is proportional to what is due: the DueAlarms index yields only the cases and tasks whose
next alarm moment has come. Each alarm is raised once per case and limit: it is marked on the
case under a version condition before anyone is told, and a lost race means another sweep did it.
"""

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from zerovisit.adapters import aws, supervision
from zerovisit.clock import CHINA
from zerovisit.domain.catalog import DepartmentReview, TimeoutPolicy
from zerovisit.domain.deadlines import AlarmKind, Limit, alarm_key, alarms_due, start_of, with_clock
from zerovisit.domain.model import Case, Task, TaskStatus
from zerovisit.domain.workdays import add_working_days, working_days_text
from zerovisit.errors import CaseNotFound, Conflict
from zerovisit.services.common import is_complex, matter_of, note
from zerovisit.services.review import resume_again
from zerovisit.services.statutory_clock import held_by
from zerovisit.storage import cases

METRIC_OF = {AlarmKind.WARNING: "CasesNearDeadline", AlarmKind.OVERDUE: "OverdueCases"}


def sweep(now: datetime) -> dict[str, int]:
    """Raise every alarm that has come due; apply department timeout policies. Returns counts."""
    counts: Counter[str] = Counter()
    for pk, sk in list(cases.due_alarm_keys(now)):
        counts["items_read"] += 1
        case_id = pk.removeprefix("CASE#")
        try:
            if sk == cases.CASE_SK:
                counts.update(_case_alarms(case_id, now))
            elif sk.startswith("TASK#"):
                counts.update(_department_limit(case_id, sk.removeprefix("TASK#"), now))
        except (Conflict, CaseNotFound):
            counts["skipped"] += 1  # changed meanwhile; the next sweep sees its new state
    return dict(counts)


def _case_alarms(case_id: str, now: datetime) -> Counter[str]:
    case = cases.get_case(case_id)
    today = now.astimezone(CHINA).date()
    due = alarms_due(case, now)
    if not due:
        cases.save_case(with_clock(case, today))  # moves the index entry to the next pending alarm
        return Counter(rescheduled=1)
    raised = [alarm_key(limit, kind) for limit, kind in due]
    entries = [
        note("supervision", f"{limit.value} limit {kind.value}", _describe(case, limit, kind))
        for limit, kind in due
    ]
    marked = cases.save_case(
        with_clock(case.model_copy(update={"alarms_raised": [*case.alarms_raised, *raised]}), today), entries
    )
    for limit, kind in due:
        _tell(marked, limit, kind)
    return Counter({f"{kind.value}_alarms": 1 for _, kind in due})


def _describe(case: Case, limit: Limit, kind: AlarmKind) -> str:
    due = case.promised_due if limit is Limit.PROMISED else case.statutory_due
    days = case.promised_limit if limit is Limit.PROMISED else case.statutory_limit
    state = "80% of the limit used" if kind is AlarmKind.WARNING else "limit passed"
    return f"{state}: {working_days_text(days or 0)}, due {due}"


def _tell(case: Case, limit: Limit, kind: AlarmKind) -> None:
    detail: dict[str, Any] = {
        "case_id": case.case_id,
        "case_number": case.case_number,
        "matter_code": case.application.matter_code,
        "region_code": case.application.region_code,
        "limit": limit.value,
        "limit_working_days": case.promised_limit if limit is Limit.PROMISED else case.statutory_limit,
        "due_on": str(case.promised_due if limit is Limit.PROMISED else case.statutory_due),
        "step": case.step,
    }
    aws.publish("DeadlineWarning" if kind is AlarmKind.WARNING else "CaseOverdue", detail)
    supervision.notify(
        f"ZeroVisit {kind.value}: case {case.case_number} ({limit.value} limit)",
        f"Case {case.case_number} ({case.application.matter_code}, region {case.application.region_code}): "
        f"{_describe(case, limit, kind)}; now at step {case.step}.",
    )
    supervision.count(
        METRIC_OF[kind],
        {
            "matter": case.application.matter_code,
            "region": case.application.region_code,
            "limit": limit.value,
        },
    )


def _department_limit(case_id: str, task_id: str, now: datetime) -> Counter[str]:
    task = cases.get_task(case_id, task_id)
    if task.status is not TaskStatus.OPEN or task.next_alarm_at is None or task.next_alarm_at > now:
        return Counter(skipped=1)
    case = cases.get_case(case_id)
    if held_by(case, task.task_id) is not None:
        # The department itself stopped the clock (inspection, expert review...): its limit waits too.
        later = task.model_copy(update={"next_alarm_at": now + timedelta(days=1)})
        cases.append_timeline(case_id, [], [later])
        return Counter(rescheduled=1)
    department = _department(case, task)
    if department.timeout_policy is TimeoutPolicy.DEEM_APPROVED:
        return _deem_approved(case, task, department, now)
    return _escalate(case, task, department, now)


def _department(case: Case, task: Task) -> DepartmentReview:
    matter = matter_of(case)
    code = task.details.get("department")
    return next(d for s in matter.stages for d in s.departments if d.code == code)


def _deem_approved(case: Case, task: Task, department: DepartmentReview, now: datetime) -> Counter[str]:
    comments = (
        f"deemed approved: no decision within {working_days_text(department.limit_for(is_complex(case)))}"
    )
    answer = {"decision": "approve", "comments": comments, "items": []}
    answered = task.answered(answer, now)
    cases.answer_task(answered, note("review", "deemed approved", f"{department.name}: {comments}"))
    resume_again(task.token, {"task_id": task.task_id, "decision": "approve"})
    return Counter(deemed_approved=1)


def _escalate(case: Case, task: Task, department: DepartmentReview, now: datetime) -> Counter[str]:
    """Alarm, then keep waiting with a new limit of the same length."""
    new_due = add_working_days(now.astimezone(CHINA).date(), department.limit_for(is_complex(case))).due
    escalated = task.model_copy(
        update={
            "escalations": task.escalations + 1,
            "due_on": new_due,
            "next_alarm_at": start_of(new_due + timedelta(days=1)),
        }
    )
    detail = (
        f"{department.name}: no decision by {task.due_on}; "
        f"escalation {escalated.escalations}, new limit {new_due}"
    )
    cases.append_timeline(case.case_id, [note("review", "escalated", detail)], [escalated])
    aws.publish(
        "ReviewOverdue",
        {
            "case_id": case.case_id,
            "case_number": case.case_number,
            "task_id": task.task_id,
            "department": department.code,
            "partner_id": department.partner_id,
            "escalations": escalated.escalations,
            "new_due_on": str(new_due),
        },
    )
    supervision.notify(
        f"ZeroVisit escalation: {department.name}, case {case.case_number}",
        f"{detail}. Case {case.case_number} "
        f"({case.application.matter_code}, region {case.application.region_code}).",
    )
    supervision.count(
        "OverdueReviews", {"matter": case.application.matter_code, "department": department.code}
    )
    return Counter(escalated=1)
