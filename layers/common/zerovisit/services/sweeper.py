"""The scheduled sweep: deadline alarms for cases, and the limit of every task a party holds.

Work is proportional to what is due: the DueAlarms index yields only the cases and tasks whose
next alarm moment has come. Every write is conditioned on the version read, so two sweeps at once,
or a sweep racing a department's decision, change each thing once: the loser skips it.
"""

from collections import Counter
from datetime import datetime, timedelta

from zerovisit.clock import CHINA
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import DepartmentReview, TimeoutPolicy
from zerovisit.domain.deadlines import AlarmKind, alarms_due, start_of
from zerovisit.domain.model import Task, TaskKind, TaskRef
from zerovisit.domain.workdays import add_working_days, working_days_text
from zerovisit.errors import CaseNotFound, Conflict, TaskClosed
from zerovisit.services.common import is_complex, matter_of
from zerovisit.services.ports import ports

METRIC_OF = {AlarmKind.WARNING: "CasesNearDeadline", AlarmKind.OVERDUE: "OverdueCases"}


def sweep(now: datetime) -> dict[str, int]:
    """Raise every alarm that has come due; end or escalate every overdue wait. Returns counts."""
    counts: Counter[str] = Counter()
    for item in list(ports().cases.due(now)):
        counts["items_read"] += 1
        try:
            if item.task is None:
                counts.update(_case_alarms(item.case_id, now))
            else:
                counts.update(_task_limit(item.task, now))
        except (Conflict, CaseNotFound, TaskClosed):
            counts["skipped"] += 1  # changed meanwhile; the next sweep sees its new state
    return dict(counts)


def _case_alarms(case_id: str, now: datetime) -> Counter[str]:
    case = ports().cases.get(case_id)
    due = alarms_due(case, now)
    if not due:
        ports().cases.save(case.rescheduled(now))  # moves the index entry to the next pending alarm
        return Counter(rescheduled=1)
    ports().cases.save(case.alarms(now, due))
    for limit, kind in due:
        ports().gateway.count(
            METRIC_OF[kind],
            {
                "matter": case.application.matter_code,
                "region": case.application.region_code,
                "limit": limit.value,
            },
        )
    return Counter({f"{kind.value}_alarms": 1 for _, kind in due})


def _task_limit(ref: TaskRef, now: datetime) -> Counter[str]:
    task = ports().cases.task(ref)
    if not task.is_open or task.next_alarm_at is None or task.next_alarm_at > now:
        return Counter(skipped=1)
    case = ports().cases.get(ref.case_id)
    if task.kind is TaskKind.REVIEW:
        return _department_limit(case, task, now)
    if task.kind is TaskKind.DELIVERY:
        detail = f"EMS shipment {task.details.get('waybill')} not signed for by {task.due_on}"
        ports().cases.save(case.wait_expired(now, task, detail, error="DeliveryFailed"))
        return Counter(shipments_overdue=1)
    waited = "corrections" if task.kind is TaskKind.CORRECTION else "payment"
    ports().cases.save(case.wait_expired(now, task, f"no {waited} by {task.due_on}"))
    return Counter({f"{task.kind.value}_expired": 1})


def _department_limit(case: Case, task: Task, now: datetime) -> Counter[str]:
    stopped_by_law = (task.details.get("inspection") or {}).get("time_counted") is False
    if case.held_by(task.task_id) is not None and not stopped_by_law:
        # The department itself stopped the clock (inspection, expert review...): its limit waits too;
        # an on-site inspection whose time the law leaves out keeps its own limit.
        ports().cases.save(
            Change(case.case_id, case.version, None, tasks=(task.next_alarm(now + timedelta(days=1)),))
        )
        return Counter(rescheduled=1)
    matter = matter_of(case)
    department = next(
        d for s in matter.stages for d in s.departments if d.code == task.details.get("department")
    )
    limit = matter.department_limit(department, case.application.region_code, is_complex(case))
    if department.timeout_policy is TimeoutPolicy.DEEM_APPROVED:
        comments = f"deemed approved: no decision within {working_days_text(limit)}"
        answer = {"decision": "approve", "comments": comments, "items": []}
        ports().cases.save(
            case.record_decision(
                now, task, answer, "approve", f"{department.name}: {comments}", recorded_as="deemed approved"
            )
        )
        return Counter(deemed_approved=1)
    if task.escalations >= 1:
        detail = f"{department.name}: no decision by {task.due_on}, the final limit after escalation"
        ports().cases.save(case.wait_expired(now, task, detail))
        return Counter(reviews_expired=1)
    return _escalate(case, task, department, department.final_limit_after_escalation(is_complex(case)), now)


def _escalate(
    case: Case, task: Task, department: DepartmentReview, limit: int, now: datetime
) -> Counter[str]:
    """Alarm to the department and supervision, then keep waiting until the final limit."""
    new_due = add_working_days(now.astimezone(CHINA).date(), limit).due
    escalated = task.escalated(new_due, start_of(new_due + timedelta(days=1)))
    detail = (
        f"{department.name}: no decision by {task.due_on}; "
        f"escalation {escalated.escalations}, new limit {new_due}"
    )
    ports().cases.save(case.task_overdue(now, task, escalated, "escalated", detail, department.code))
    ports().gateway.count(
        "OverdueReviews", {"matter": case.application.matter_code, "department": department.code}
    )
    return Counter(escalated=1)
