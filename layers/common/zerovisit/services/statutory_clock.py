"""Suspending and resuming a case's statutory clock (law art. 45), and recomputing deadlines."""

from collections.abc import Callable

from zerovisit.clock import clock
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.model import Case, Suspension, SuspensionReason, Task, TimelineEntry
from zerovisit.errors import Conflict
from zerovisit.storage import cases

ATTEMPTS = 3


def change_case(
    case_id: str,
    change: Callable[[Case], tuple[Case, list[TimelineEntry]]],
    answered_task: Task | None = None,
) -> Case:
    """Read, change and write the case (with a task's answer, if given), again on a lost race
    (two departments answering at once). A task answered meanwhile is a TaskClosed conflict."""
    for attempt in range(ATTEMPTS):
        case = cases.get_case(case_id)
        changed, entries = change(case)
        try:
            return cases.save_case(with_clock(changed, clock.today()), entries, answered_task=answered_task)
        except Conflict:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def suspend(case: Case, reason: SuspensionReason, by: str, note: str = "") -> Case:
    """The case with a new open suspension (unless ``by`` already holds one open)."""
    if any(s.ended_on is None and s.by == by for s in case.suspensions):
        return case
    suspension = Suspension(reason=reason, note=note, started_on=clock.today(), by=by)
    return case.model_copy(update={"suspensions": [*case.suspensions, suspension]})


def resume(case: Case, by: str) -> Case:
    """The case with ``by``'s open suspension ended today."""
    today = clock.today()
    return case.model_copy(
        update={
            "suspensions": [
                s.model_copy(update={"ended_on": today}) if s.ended_on is None and s.by == by else s
                for s in case.suspensions
            ]
        }
    )


def held_by(case: Case, by: str) -> Suspension | None:
    return next((s for s in case.suspensions if s.ended_on is None and s.by == by), None)
