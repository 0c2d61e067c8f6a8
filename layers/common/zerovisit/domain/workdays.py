"""Chinese working days (State Council holiday schedule, make-up weekends included) and deadlines.

Civil Code arts. 201/203: the start day is not counted, and a limit ending on a rest day moves to the
next working day; counting working days only ever lands on a working day, so the second rule holds
by construction. A year without official data is answered provisionally, never silently: every
Deadline says which calendar data it rests on.
"""

from datetime import date, timedelta
from typing import NamedTuple

import chinese_calendar

from zerovisit.wording import counted

ONE_DAY = timedelta(days=1)
SATURDAY = 5
# Statutory holidays on fixed solar dates (State Council decree 795): New Year's Day, Labour Day
# (2 days), National Day (3 days). The lunar holidays and the make-up swaps need the yearly schedule.
FIXED_DATE_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})


class Deadline(NamedTuple):
    due: date
    provisional: bool
    basis: str


class YearSchedule(NamedTuple):
    holidays: frozenset[date]
    makeup_workdays: frozenset[date]

    def is_workday(self, day: date) -> bool:
        if day in self.makeup_workdays:
            return True
        return day not in self.holidays and day.weekday() < SATURDAY


class WorkCalendar:
    """chinese_calendar's official data, overridden by schedules an operator loads year by year.

    A year neither covers is answered provisionally from weekends and fixed-date holidays.
    """

    def __init__(self) -> None:
        self._loaded: dict[int, YearSchedule] = {}
        # chinese_calendar scans its whole holiday table on every question; its data never changes
        # in a process, so each day and year is asked once.
        self._library_answers: dict[date, bool] = {}
        self._library_years: dict[int, bool] = {}

    def load_year(self, year: int, holidays: set[date], makeup_workdays: set[date]) -> None:
        """Make `year` official with the State Council's schedule for it (replacing any earlier load)."""
        problems = _schedule_problems(year, holidays, makeup_workdays)
        if problems:
            raise ValueError(f"schedule for {year}: " + "; ".join(problems))
        self._loaded[year] = YearSchedule(frozenset(holidays), frozenset(makeup_workdays))

    def forget_year(self, year: int) -> None:
        """Drop an operator-loaded schedule (the year is answered as before the load)."""
        self._loaded.pop(year, None)

    def covers(self, year: int) -> bool:
        """Whether official data exists for `year` (loaded, or in chinese_calendar)."""
        return year in self._loaded or self._library_covers(year)

    def is_workday(self, day: date) -> bool:
        schedule = self._loaded.get(day.year)
        if schedule is not None:
            return schedule.is_workday(day)
        answer = self._library_answers.get(day)
        if answer is None:
            answer = self._library_answers[day] = _library_is_workday(day)
        return answer

    def basis(self, year: int) -> str:
        """Which calendar data the answers for `year` rest on."""
        if year in self._loaded:
            return f"State Council schedule {year} (loaded by operator)"
        if self._library_covers(year):
            return f"State Council schedule {year}"
        return f"provisional: no official schedule for {year}; weekends and fixed-date holidays assumed"

    def _library_covers(self, year: int) -> bool:
        covered = self._library_years.get(year)
        if covered is None:
            covered = self._library_years[year] = _library_has_year(year)
        return covered

    def deadline(self, due: date, first_day_used: date) -> Deadline:
        """A Deadline whose basis names every year from `first_day_used` to `due`."""
        years = range(first_day_used.year, due.year + 1)
        return Deadline(
            due=due,
            provisional=not all(self.covers(year) for year in years),
            basis="; ".join(self.basis(year) for year in years),
        )


_DEFAULT_CALENDAR = WorkCalendar()


def working_days_text(count: int) -> str:
    """'1 working day', '3 working days'."""
    return counted(count, "working day")


def default_calendar() -> WorkCalendar:
    """The process-wide calendar; schedules loaded into it apply to every later computation."""
    return _DEFAULT_CALENDAR


def add_working_days(start: date, n: int, calendar: WorkCalendar | None = None) -> Deadline:
    """The n-th working day after `start` (the start day is not counted).

    For n == 0: `start` itself if it is a working day, else the next working day.
    """
    if n < 0:
        raise ValueError("n must not be negative")
    calendar = calendar if calendar is not None else default_calendar()
    if n == 0:
        return calendar.deadline(next_working_day(start, calendar), first_day_used=start)
    day, counted = start, 0
    while counted < n:
        day += ONE_DAY
        if calendar.is_workday(day):
            counted += 1
    return calendar.deadline(day, first_day_used=start + ONE_DAY)


def next_working_day(day: date, calendar: WorkCalendar | None = None) -> date:
    """`day` if it is a working day, else the first working day after it."""
    calendar = calendar if calendar is not None else default_calendar()
    while not calendar.is_workday(day):
        day += ONE_DAY
    return day


def working_days_between(a: date, b: date, calendar: WorkCalendar | None = None) -> int:
    """Working days in (a, b]: a is not counted, b is. 0 when b <= a."""
    calendar = calendar if calendar is not None else default_calendar()
    return sum(1 for offset in range(1, (b - a).days + 1) if calendar.is_workday(a + timedelta(days=offset)))


def _library_is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return _provisional_is_workday(day)


def _library_has_year(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def _provisional_is_workday(day: date) -> bool:
    return day.weekday() < SATURDAY and (day.month, day.day) not in FIXED_DATE_HOLIDAYS


def _schedule_problems(year: int, holidays: set[date], makeup_workdays: set[date]) -> list[str]:
    problems = [f"{day} is not in {year}" for day in sorted(holidays | makeup_workdays) if day.year != year]
    problems += [
        f"{day} is both a holiday and a make-up workday" for day in sorted(holidays & makeup_workdays)
    ]
    problems += [
        f"make-up workday {day} is not a Saturday or Sunday"
        for day in sorted(makeup_workdays)
        if day.weekday() < SATURDAY
    ]
    return problems
