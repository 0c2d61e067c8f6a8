"""An operator loads a year's official schedule; provisional deadlines are recomputed with it."""

from datetime import date
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.case import Case
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.model import TimelineEntry
from zerovisit.domain.workdays import default_calendar
from zerovisit.services.common import note
from zerovisit.services.statutory_clock import change_case
from zerovisit.storage import calendar, cases


def load_schedule(year: int, holidays: set[date], makeup_workdays: set[date]) -> dict[str, Any]:
    calendar.put_schedule(year, holidays, makeup_workdays)
    default_calendar().load_year(year, holidays, makeup_workdays)
    recomputed = recompute_provisional(date(year, 1, 1))
    return {"year": year, "recomputed": recomputed}


def recompute_provisional(from_day: date) -> list[str]:
    """Recompute every open case with a provisional deadline on or after ``from_day``, promised or
    statutory. The index orders open cases by the promised date only, and a statutory date can lie
    a year or more after it (suspensions move it), so every open case is read: an operator loads a
    schedule once a year."""
    changed = []
    for case_id in list(cases.open_cases_due_from(date.min.isoformat())):
        if reaches(cases.get_case(case_id), from_day):
            change_case(case_id, _recomputed)
            changed.append(case_id)
    return changed


def reaches(case: Case, from_day: date) -> bool:
    """Whether a provisional deadline of the case falls on or after the day."""
    dates = [d for d in (case.promised_due, case.statutory_due) if d is not None]
    return case.deadline_provisional and any(d >= from_day for d in dates)


def _recomputed(case: Case) -> tuple[Case, list[TimelineEntry]]:
    updated = with_clock(case, clock.today())
    detail = (
        f"promised due {case.promised_due} -> {updated.promised_due}, "
        f"statutory due {case.statutory_due} -> {updated.statutory_due}; {updated.deadline_basis}"
    )
    return updated, [note("clock", "deadline recomputed", detail)]
