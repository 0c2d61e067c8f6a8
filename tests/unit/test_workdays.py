from datetime import date, timedelta

import chinese_calendar
import holidays
import pytest
from zerovisit.domain.workdays import (
    Deadline,
    WorkCalendar,
    add_working_days,
    default_calendar,
    working_days_between,
    working_days_text,
)

OFFICIAL_2026 = "State Council schedule 2026"
PROVISIONAL_2027 = "provisional: no official schedule for 2027; weekends and fixed-date holidays assumed"

# An illustrative 2027 Spring Festival schedule (not the real one, which is not published yet).
HOLIDAYS_2027 = {date(2027, 2, 5), *(date(2027, 2, day) for day in range(8, 13))}
MAKEUP_WORKDAYS_2027 = {date(2027, 2, 20)}


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        (date(2026, 2, 13), 3, date(2026, 2, 25)),  # REFERENCE.md: make-up Saturday, then Spring Festival
        (date(2026, 9, 30), 5, date(2026, 10, 13)),  # REFERENCE.md: National Day, make-up Saturday 10-10
        (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the make-up Saturday is a working day
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # would end on Mid-Autumn Friday: moves past the weekend
        (date(2026, 3, 6), 1, date(2026, 3, 9)),  # Friday start: the weekend is skipped
        (date(2026, 3, 7), 3, date(2026, 3, 11)),  # a rest-day start: counting begins the next day
    ],
)
def test_add_working_days(start: date, n: int, due: date) -> None:
    assert add_working_days(start, n) == Deadline(due, provisional=False, basis=OFFICIAL_2026)


@pytest.mark.parametrize(
    ("start", "due"),
    [
        (date(2026, 3, 9), date(2026, 3, 9)),  # a working Monday stays
        (date(2026, 2, 14), date(2026, 2, 14)),  # a make-up Saturday stays
        (date(2026, 3, 7), date(2026, 3, 9)),  # Saturday moves to Monday
        (date(2026, 10, 1), date(2026, 10, 8)),  # a limit ending in the National Day week moves past it
    ],
)
def test_zero_working_days_is_the_start_or_the_next_working_day(start: date, due: date) -> None:
    assert add_working_days(start, 0).due == due


def test_negative_working_days_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_working_days(date(2026, 3, 9), -1)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2026, 2, 13), date(2026, 2, 25), 3),
        (date(2026, 9, 30), date(2026, 10, 13), 5),
        (date(2026, 2, 13), date(2026, 2, 14), 1),  # b counted: the make-up Saturday
        (date(2026, 3, 9), date(2026, 3, 9), 0),
        (date(2026, 3, 13), date(2026, 3, 9), 0),  # b before a
        (date(2026, 10, 1), date(2026, 10, 7), 0),  # National Day week
        (date(2026, 1, 1), date(2026, 12, 31), 248),
    ],
)
def test_working_days_between(a: date, b: date, expected: int) -> None:
    assert working_days_between(a, b) == expected


@pytest.mark.parametrize(
    "start", [date(2026, 1, 30), date(2026, 2, 14), date(2026, 9, 19), date(2026, 12, 1)]
)
@pytest.mark.parametrize("n", [1, 3, 5, 20])
def test_working_days_between_inverts_add_working_days(start: date, n: int) -> None:
    assert working_days_between(start, add_working_days(start, n).due) == n


def test_a_2026_year_end_is_official_and_a_2027_deadline_is_provisional() -> None:
    calendar = WorkCalendar()

    assert calendar.covers(2026)
    assert not calendar.covers(2027)
    assert add_working_days(date(2027, 9, 30), 1, calendar) == Deadline(
        date(2027, 10, 4), provisional=True, basis=PROVISIONAL_2027
    )  # Friday 10-01 is a fixed-date holiday even without a schedule


def test_a_deadline_crossing_into_2027_is_provisional_and_names_both_years() -> None:
    deadline = add_working_days(date(2026, 12, 30), 3, WorkCalendar())

    assert deadline == Deadline(
        date(2027, 1, 5), provisional=True, basis=f"{OFFICIAL_2026}; {PROVISIONAL_2027}"
    )


def test_a_year_before_the_library_data_is_provisional() -> None:
    calendar = WorkCalendar()

    assert not calendar.covers(2003)
    assert add_working_days(date(2003, 6, 2), 1, calendar).provisional


def test_loading_a_2027_schedule_makes_it_official_and_moves_the_deadline() -> None:
    calendar = WorkCalendar()
    assert add_working_days(date(2027, 2, 4), 3, calendar).due == date(2027, 2, 9)

    calendar.load_year(2027, HOLIDAYS_2027, MAKEUP_WORKDAYS_2027)

    assert calendar.covers(2027)
    assert add_working_days(date(2027, 2, 4), 3, calendar) == Deadline(
        date(2027, 2, 17), provisional=False, basis="State Council schedule 2027 (loaded by operator)"
    )
    assert add_working_days(date(2027, 2, 18), 2, calendar).due == date(2027, 2, 20)  # make-up Saturday
    assert add_working_days(date(2026, 12, 30), 3, calendar).provisional is False


def test_loading_a_year_does_not_touch_the_default_calendar() -> None:
    WorkCalendar().load_year(2027, HOLIDAYS_2027, MAKEUP_WORKDAYS_2027)

    assert default_calendar() is default_calendar()
    assert not default_calendar().covers(2027)


@pytest.mark.parametrize(
    ("holiday_dates", "makeup_dates", "message"),
    [
        ({date(2028, 1, 1)}, set(), "2028-01-01 is not in 2027"),
        ({date(2027, 2, 20)}, {date(2027, 2, 20)}, "both a holiday and a make-up workday"),
        (set(), {date(2027, 2, 17)}, "make-up workday 2027-02-17 is not a Saturday or Sunday"),
    ],
)
def test_loading_an_inconsistent_schedule_is_refused(
    holiday_dates: set[date], makeup_dates: set[date], message: str
) -> None:
    calendar = WorkCalendar()

    with pytest.raises(ValueError, match=message):
        calendar.load_year(2027, holiday_dates, makeup_dates)
    assert not calendar.covers(2027)


def test_chinese_calendar_agrees_with_the_holidays_package_2018_to_2026() -> None:
    # holidays 0.109 lists make-up working weekends in `weekend_workdays`; `is_working_day` uses them.
    reference = holidays.country_holidays("CN", years=range(2018, 2027))
    assert date(2026, 2, 14) in reference.weekend_workdays

    day, mismatches = date(2018, 1, 1), []
    while day.year <= 2026:
        if bool(chinese_calendar.is_workday(day)) != reference.is_working_day(day):
            mismatches.append(day.isoformat())
        day += timedelta(days=1)

    assert mismatches == []


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 working days"), (1, "1 working day"), (2, "2 working days")]
)
def test_working_days_are_counted_in_words_with_the_right_plural(count: int, text: str) -> None:
    assert working_days_text(count) == text


def test_the_library_is_asked_once_per_day_and_a_loaded_year_still_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """chinese_calendar scans its whole holiday table on each question: the calendar keeps answers."""
    asked: list[date] = []
    library_is_workday = chinese_calendar.is_workday

    def counting(day: date) -> bool:
        asked.append(day)
        return bool(library_is_workday(day))

    calendar = WorkCalendar()
    monkeypatch.setattr(chinese_calendar, "is_workday", counting)
    first = add_working_days(date(2026, 9, 30), 50, calendar)
    again = add_working_days(date(2026, 9, 30), 50, calendar)

    working_days = (date(2026, 9, 30) + timedelta(days=n) for n in range(1, 92))  # to 2026-12-30
    assert first == again
    assert first.due == [day for day in working_days if library_is_workday(day)][49]
    counted = {
        date(2026, 9, 30) + timedelta(days=n) for n in range(1, (first.due - date(2026, 9, 30)).days + 1)
    }
    coverage = date(2026, 1, 1)  # how the calendar learns the library has 2026
    assert sorted(asked) == sorted(counted | {coverage})  # each day once, though counted twice

    loaded_holiday = first.due  # illustrative: the operator's schedule replaces the library's
    calendar.load_year(2026, {loaded_holiday}, set())
    assert not calendar.is_workday(loaded_holiday)
    calendar.forget_year(2026)
    assert calendar.is_workday(loaded_holiday)
