"""An operator loads a year's official schedule; provisional deadlines are recomputed with it."""

from datetime import date
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.workdays import default_calendar
from zerovisit.errors import Conflict
from zerovisit.services.common import note
from zerovisit.storage import calendar, cases


def load_schedule(year: int, holidays: set[date], makeup_workdays: set[date]) -> dict[str, Any]:
    calendar.put_schedule(year, holidays, makeup_workdays)
    default_calendar().load_year(year, holidays, makeup_workdays)
    recomputed = recompute_provisional(date(year, 1, 1))
    return {"year": year, "recomputed": recomputed}


def recompute_provisional(from_day: date) -> list[str]:
    """Recompute open cases whose deadline reaches ``from_day`` or later and was provisional."""
    changed = []
    for case_id in list(cases.open_cases_due_from(from_day.isoformat())):
        case = cases.get_case(case_id)
        if not case.deadline_provisional:
            continue
        updated = with_clock(case, clock.today())
        detail = (
            f"promised due {case.promised_due} -> {updated.promised_due}, "
            f"statutory due {case.statutory_due} -> {updated.statutory_due}; {updated.deadline_basis}"
        )
        try:
            cases.save_case(updated, [note("clock", "deadline recomputed", detail)])
        except Conflict:
            continue  # changed meanwhile: its next write recomputes with the loaded schedule
        changed.append(case_id)
    return changed
