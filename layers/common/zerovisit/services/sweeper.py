"""The scheduled sweep: deadline alarms for cases, and the limit of every task a party holds.

Work is proportional to what is due: the DueAlarms index yields only the cases and tasks whose
next alarm moment has come. Every write is conditioned on the version read, so a sweep racing a
department's decision changes each thing once: the loser skips it, and it stays due for the next.

A backlog larger than one invocation can work through is swept in a pass over several: each
invocation works while its time lasts (keeping a margin), stores the position of the last entry
it took in the sweep cursor, and asks for a continuation; the next scheduled sweep also goes on
from the cursor, so a continuation that never comes loses nothing. Only the holder of the cursor's
lease sweeps; a lease whose holder died ends on its own (domain/sweep.py).
"""

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import uuid4

from zerovisit.clock import CHINA
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import DepartmentReview, TimeoutPolicy
from zerovisit.domain.deadlines import AlarmKind, alarms_due, task_overdue_at
from zerovisit.domain.model import Task, TaskKind, TaskRef
from zerovisit.domain.sweep import SweepCursor
from zerovisit.domain.workdays import add_working_days, working_days_text
from zerovisit.errors import CaseNotFound, Conflict, DependencyUnavailable, TaskClosed
from zerovisit.services.common import matter_of
from zerovisit.services.ports import DueItem, ports

METRIC_OF = {AlarmKind.WARNING: "CasesNearDeadline", AlarmKind.OVERDUE: "OverdueCases"}
# An invocation stops taking entries while this much time is left, or three of its slowest
# entries' worth if that is more, so that it can store its position before Lambda ends it.
SAFETY_FLOOR = timedelta(seconds=10)
SLOWEST_ENTRIES_KEPT = 3
# The position is stored every so many entries as well: an invocation that dies without
# storing it costs the next one a re-read of at most this many entries (each already handled
# entry has left the due range, so none is handled twice).
CHECKPOINT_EVERY = 100
# A lease lasts the invocation's time plus this, so that it never ends under a live holder.
LEASE_GRACE = timedelta(minutes=1)
UNMEASURED_TIME = timedelta(minutes=5)  # the function's timeout


class Invocation(NamedTuple):
    """What the sweep knows of the invocation that runs it; the handler builds it from the Lambda
    context (request id, remaining time, the function's own ARN to continue with)."""

    owner: str
    time_left: Callable[[], timedelta]
    continue_later: Callable[[], None] | None = None

    @classmethod
    def unmeasured(cls) -> "Invocation":
        """A sweep outside Lambda (a test, an operator): never short of time, with no continuation."""
        return cls(owner=f"unmeasured-{uuid4().hex}", time_left=lambda: UNMEASURED_TIME)


def sweep(now: datetime, invocation: Invocation | None = None) -> dict[str, int]:
    """Raise every alarm that has come due; end or escalate every overdue wait, from where the pass
    under way stands, while the invocation's time lasts. Returns counts."""
    invocation = invocation or Invocation.unmeasured()
    cursor = _claim(now, invocation)
    if cursor is None:
        return {"busy": 1}  # another invocation holds the lease and sweeps
    run = _Run(cursor, invocation)
    finished = False
    try:
        finished = run.work(now)
    finally:
        run.release(finished)  # on an error too: the next invocation goes on after the failed entry
    counts = run.counts
    counts.update(pass_finished=int(finished), taken_in_pass=run.taken_in_pass)
    if not finished and not counts["lease_lost"]:
        counts.update(_continue(invocation))
    return dict(counts)


def _claim(now: datetime, invocation: Invocation) -> SweepCursor | None:
    cursor = ports().cases.sweep_cursor()
    if cursor.held_by_another(invocation.owner, now):
        return None
    until = now + invocation.time_left() + LEASE_GRACE
    try:
        return ports().cases.save_sweep_cursor(cursor.claimed(invocation.owner, now, until))
    except Conflict:
        return None  # another invocation claimed it between the read and the write


class _Run:
    """One invocation's share of a pass: the entries it takes and where it stands."""

    def __init__(self, cursor: SweepCursor, invocation: Invocation) -> None:
        self.cursor = cursor
        self.invocation = invocation
        self.position = cursor.position
        self.unsaved = 0
        self.taken_in_pass = cursor.taken_in_pass
        self.slowest = timedelta()
        self.counts: Counter[str] = Counter()

    def work(self, now: datetime) -> bool:
        """Take due entries until the pass ends (True), or time or the lease runs out (False)."""
        for item in ports().cases.due(now, after=self.position):
            left = self.invocation.time_left()
            if left < max(SAFETY_FLOOR, SLOWEST_ENTRIES_KEPT * self.slowest):
                self.counts["stopped_for_time"] = 1
                return False
            self.position = item.position
            self.unsaved += 1
            self.counts.update(_take(item, now))
            self.slowest = max(self.slowest, left - self.invocation.time_left())
            if self.unsaved >= CHECKPOINT_EVERY and not self._store():
                return False
        return True

    def release(self, finished: bool) -> None:
        if not self.counts["lease_lost"]:
            self._store(finished)

    def _store(self, finished: bool | None = None) -> bool:
        """Store the position reached, and give up the lease once ``finished`` is given (True:
        the pass is done); False if the lease was lost meanwhile."""
        cursor = self.cursor.advanced(self.position, self.unsaved)
        self.taken_in_pass = cursor.taken_in_pass
        if finished is not None:
            cursor = cursor.released(finished)
        try:
            self.cursor = ports().cases.save_sweep_cursor(cursor)
        except Conflict:
            self.counts["lease_lost"] = 1  # it ran out and another sweep took over: stop at once
            return False
        self.unsaved = 0
        return True


def _continue(invocation: Invocation) -> Counter[str]:
    if invocation.continue_later is None:
        return Counter(left_for_next_sweep=1)
    try:
        invocation.continue_later()
    except DependencyUnavailable:
        return Counter(left_for_next_sweep=1)  # the next scheduled sweep goes on from the cursor
    return Counter(continued=1)


def _take(item: DueItem, now: datetime) -> Counter[str]:
    counts = Counter(items_read=1)
    try:
        if item.task is None:
            counts.update(_case_alarms(item.case_id, now))
        else:
            counts.update(_task_limit(item.task, now))
    except (Conflict, CaseNotFound, TaskClosed):
        counts["skipped"] += 1  # changed meanwhile; the next pass sees its new state
    return counts


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
    if case.is_closed:  # failed, waiting for operations: its tasks neither remind, escalate nor expire
        return _look_again_tomorrow(case, task, now)
    if task.due_on is not None and now < task_overdue_at(task.due_on) and not _clock_stopped(case, task):
        ports().cases.save(case.task_due_soon(now, task))  # most of its limit used: remind the holder
        return Counter(reminders=1)
    if task.kind is TaskKind.REVIEW:
        return _department_limit(case, task, now)
    if task.kind is TaskKind.DELIVERY:
        detail = f"EMS shipment {task.details.get('waybill')} not signed for by {task.due_on}"
        ports().cases.save(case.wait_expired(now, task, detail, error="DeliveryFailed"))
        return Counter(shipments_overdue=1)
    waited = "corrections" if task.kind is TaskKind.CORRECTION else "payment"
    ports().cases.save(case.wait_expired(now, task, f"no {waited} by {task.due_on}"))
    return Counter({f"{task.kind.value}_expired": 1})


def _clock_stopped(case: Case, task: Task) -> bool:
    """The department itself stopped the clock (inspection, expert review...): its limit waits
    too; an on-site inspection whose time the law leaves out keeps its own limit. The applicant's
    time (a correction, a fee) also stops the office's clock, but the wait's own limit runs on."""
    if task.kind is not TaskKind.REVIEW:
        return False
    stopped_by_law = (task.details.get("inspection") or {}).get("time_counted") is False
    return case.held_by(task.task_id) is not None and not stopped_by_law


def _look_again_tomorrow(case: Case, task: Task, now: datetime) -> Counter[str]:
    """A task whose limit waits: its index entry moves a day on, so that each sweep meanwhile does
    not read it again."""
    ports().cases.save(
        Change(case.case_id, case.version, None, tasks=(task.next_alarm(now + timedelta(days=1)),))
    )
    return Counter(rescheduled=1)


def _department_limit(case: Case, task: Task, now: datetime) -> Counter[str]:
    if _clock_stopped(case, task):
        return _look_again_tomorrow(case, task, now)
    matter = matter_of(case)
    department = next(
        d for s in matter.stages for d in s.departments if d.code == task.details.get("department")
    )
    limit = matter.department_limit(department, case.application.region_code, case.is_complex)
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
    return _escalate(case, task, department, department.final_limit_after_escalation(case.is_complex), now)


def _escalate(
    case: Case, task: Task, department: DepartmentReview, limit: int, now: datetime
) -> Counter[str]:
    """Alarm to the department and supervision, then keep waiting until the final limit."""
    new_due = add_working_days(now.astimezone(CHINA).date(), limit).due
    escalated = task.escalated(new_due, task_overdue_at(new_due))
    detail = (
        f"{department.name}: no decision by {task.due_on}; "
        f"escalation {escalated.escalations}, new limit {new_due}"
    )
    ports().cases.save(case.task_overdue(now, task, escalated, "escalated", detail, department.code))
    ports().gateway.count(
        "OverdueReviews", {"matter": case.application.matter_code, "department": department.code}
    )
    return Counter(escalated=1)
