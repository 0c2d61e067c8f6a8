"""Holiday schedules an operator loads for years the calendar library does not cover yet.

They live in the catalog table under ``CALENDAR#<year>``; functions read them into the process
calendar when they start and again every few minutes, by key, for the years that need them.
"""

import json
import time
from datetime import date

from zerovisit.clock import clock
from zerovisit.domain.workdays import WorkCalendar, default_calendar
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CatalogItem

REFRESH_SECONDS = 600
YEARS_AHEAD = 2
_last_refresh = -float("inf")


def key(year: int) -> str:
    return f"CALENDAR#{year}"


def put_schedule(year: int, holidays: set[date], makeup_workdays: set[date]) -> None:
    WorkCalendar().load_year(year, holidays, makeup_workdays)  # validates before anything is written
    body = {
        "year": year,
        "holidays": sorted(map(str, holidays)),
        "makeup_workdays": sorted(map(str, makeup_workdays)),
    }
    with storage_errors():
        CatalogItem(key(year), body=json.dumps(body)).save()


def refresh(calendar: WorkCalendar | None = None, force: bool = False) -> list[int]:
    """Load stored schedules for the years the calendar does not cover, from this year to two years
    ahead; at most every REFRESH_SECONDS unless forced. Returns the years loaded."""
    global _last_refresh
    if not force and time.monotonic() - _last_refresh < REFRESH_SECONDS:
        return []
    _last_refresh = time.monotonic()
    calendar = calendar or default_calendar()
    this_year = clock.today().year
    wanted = [year for year in range(this_year, this_year + YEARS_AHEAD + 1) if not calendar.covers(year)]
    loaded = []
    with storage_errors():
        for item in CatalogItem.batch_get([key(year) for year in wanted]):
            body = json.loads(item.body)
            calendar.load_year(
                int(body["year"]),
                {date.fromisoformat(d) for d in body["holidays"]},
                {date.fromisoformat(d) for d in body["makeup_workdays"]},
            )
            loaded.append(int(body["year"]))
    return sorted(loaded)
