"""The statutory clock of a case: limits in working days, suspensions, and when alarms fall due.

Law art. 45: hearings, inspections, testing, appraisal and expert review are not counted, nor is
time waiting for the applicant's corrections. Working days used are the working days since
acceptance (acceptance day not counted) minus the suspended working days, and every suspended
working day moves the deadline by one working day.
"""

import math
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from zerovisit.clock import CHINA
from zerovisit.domain.model import CLOSED_STATUSES, Suspension
from zerovisit.domain.workdays import Deadline, WorkCalendar, add_working_days, working_days_between

if TYPE_CHECKING:
    from zerovisit.domain.case import Case

WARNING_SHARE = 0.8


class Limit(StrEnum):
    PROMISED = "promised"
    STATUTORY = "statutory"


class AlarmKind(StrEnum):
    WARNING = "warning"
    OVERDUE = "overdue"


def suspended_intervals(suspensions: list[Suspension], today: date) -> list[tuple[date, date]]:
    """The suspensions as disjoint intervals (started_on, ended_on], an open one up to today:
    two departments suspending the same days stop the clock once."""
    merged: list[tuple[date, date]] = []
    for start, end in sorted((s.started_on, s.ended_on or today) for s in suspensions):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def suspended_working_days(
    suspensions: list[Suspension], today: date, calendar: WorkCalendar | None = None
) -> int:
    """Working days inside the union of the suspensions."""
    return sum(
        working_days_between(start, end, calendar) for start, end in suspended_intervals(suspensions, today)
    )


def working_days_used(
    accepted_on: date, suspensions: list[Suspension], today: date, calendar: WorkCalendar | None = None
) -> int:
    elapsed = working_days_between(accepted_on, today, calendar)
    return max(0, elapsed - suspended_working_days(suspensions, today, calendar))


def due(
    accepted_on: date,
    limit_days: int,
    suspensions: list[Suspension],
    today: date,
    calendar: WorkCalendar | None = None,
) -> Deadline:
    """The limit's last day, moved by every suspended working day so far."""
    return add_working_days(
        accepted_on, limit_days + suspended_working_days(suspensions, today, calendar), calendar
    )


def is_suspended(suspensions: list[Suspension]) -> bool:
    return any(s.ended_on is None for s in suspensions)


def alarm_moments(
    accepted_on: date,
    limits: dict[Limit, int],
    suspensions: list[Suspension],
    today: date,
    calendar: WorkCalendar | None = None,
    warning_share: float = WARNING_SHARE,
) -> dict[tuple[Limit, AlarmKind], datetime]:
    """When each alarm falls due: the warning at the start of the working day on which 80% of the
    limit is used, the overdue alarm when the limit's last day has ended."""
    extra = suspended_working_days(suspensions, today, calendar)
    moments: dict[tuple[Limit, AlarmKind], datetime] = {}
    for limit, days in limits.items():
        warning_day = add_working_days(accepted_on, math.ceil(days * warning_share) + extra, calendar).due
        last_day = add_working_days(accepted_on, days + extra, calendar).due
        moments[(limit, AlarmKind.WARNING)] = start_of(warning_day)
        moments[(limit, AlarmKind.OVERDUE)] = start_of(last_day + timedelta(days=1))
    return moments


def start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA)


def end_of_day(day: date) -> datetime:
    """The moment ``day`` ends in China: the start of the next day."""
    return start_of(day + timedelta(days=1))


def task_overdue_at(due_on: date) -> datetime:
    """A task's limit has passed once its last day has ended."""
    return end_of_day(due_on)


def task_first_alarm(opened: datetime, due_on: date, calendar: WorkCalendar | None = None) -> datetime:
    """A task's first alarm: the start of the working day on which 80 % of its working days are
    used, when its holder is reminded; its limit's end for a limit too short to remind before."""
    opened_on = opened.astimezone(CHINA).date()
    days = working_days_between(opened_on, due_on, calendar)
    reminder = start_of(add_working_days(opened_on, math.ceil(days * WARNING_SHARE), calendar).due)
    overdue = task_overdue_at(due_on)
    return reminder if opened < reminder < overdue else overdue


def alarm_key(limit: Limit, kind: AlarmKind) -> str:
    return f"{limit.value}:{kind.value}"


def with_clock(case: "Case", today: date, calendar: WorkCalendar | None = None) -> "Case":
    """The case with its due dates and next pending alarm worked out from its limits and suspensions.
    A closed or suspended case has no pending alarm: the clock does not run."""
    if case.accepted_on is None or case.promised_limit is None or case.statutory_limit is None:
        return case
    promised = due(case.accepted_on, case.promised_limit, case.suspensions, today, calendar)
    statutory = due(case.accepted_on, case.statutory_limit, case.suspensions, today, calendar)
    pending = [
        moment
        for (limit, kind), moment in alarm_moments(
            case.accepted_on,
            {Limit.PROMISED: case.promised_limit, Limit.STATUTORY: case.statutory_limit},
            case.suspensions,
            today,
            calendar,
            case.warning_share,
        ).items()
        if alarm_key(limit, kind) not in case.alarms_raised
    ]
    running = case.status not in CLOSED_STATUSES and not is_suspended(case.suspensions)
    return case.model_copy(
        update={
            "promised_due": promised.due,
            "statutory_due": statutory.due,
            "deadline_provisional": promised.provisional or statutory.provisional,
            "deadline_basis": statutory.basis,
            "next_alarm_at": min(pending) if pending and running else None,
        }
    )


def alarms_due(
    case: "Case", now: datetime, calendar: WorkCalendar | None = None
) -> list[tuple[Limit, AlarmKind]]:
    """The alarms of a running case whose moment has come and that were not raised before."""
    if case.accepted_on is None or case.promised_limit is None or case.statutory_limit is None:
        return []
    if case.status in CLOSED_STATUSES or is_suspended(case.suspensions):
        return []
    today = now.astimezone(CHINA).date()
    moments = alarm_moments(
        case.accepted_on,
        {Limit.PROMISED: case.promised_limit, Limit.STATUTORY: case.statutory_limit},
        case.suspensions,
        today,
        calendar,
        case.warning_share,
    )
    return [
        key
        for key, moment in sorted(moments.items(), key=lambda kv: kv[1])
        if moment <= now and alarm_key(*key) not in case.alarms_raised
    ]
