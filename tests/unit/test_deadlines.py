"""The statutory clock: limits in working days, suspensions, alarm moments."""

from datetime import date, datetime
from typing import Any

import pytest
from zerovisit.clock import CHINA
from zerovisit.domain.application import parse_application
from zerovisit.domain.case import Case
from zerovisit.domain.deadlines import (
    AlarmKind,
    Limit,
    alarm_moments,
    alarms_due,
    due,
    suspended_working_days,
    with_clock,
    working_days_used,
)
from zerovisit.domain.model import CaseStatus, Suspension, SuspensionReason

from tests.support import application

FRIDAY = date(2026, 2, 13)


def suspension(start: date, end: date | None) -> Suspension:
    return Suspension(reason=SuspensionReason.EXPERT_REVIEW, started_on=start, ended_on=end)


def accepted_case(accepted_on: date, promised: int = 3, statutory: int = 20, **changes: Any) -> Case:
    """A case as storage would load it: built whole, never changed past the aggregate's methods."""
    fields: dict[str, Any] = {
        "case_id": "C-000001",
        "application": parse_application(application()),
        "status": CaseStatus.IN_REVIEW,
        "accepted_on": accepted_on,
        "promised_limit": promised,
        "statutory_limit": statutory,
    }
    return Case.model_validate(fields | changes)


def test_the_worked_examples() -> None:
    assert due(FRIDAY, 3, [], FRIDAY).due == date(2026, 2, 25)
    assert due(date(2026, 9, 30), 5, [], date(2026, 9, 30)).due == date(2026, 10, 13)


def test_a_suspension_of_four_working_days_moves_the_deadline_by_four_working_days() -> None:
    # (02-13, 02-26] holds 02-14 (make-up Saturday), 02-24, 02-25, 02-26: four working days.
    four = [suspension(FRIDAY, date(2026, 2, 26))]

    assert suspended_working_days(four, date(2026, 3, 1)) == 4
    assert due(FRIDAY, 3, four, date(2026, 3, 1)).due == due(FRIDAY, 7, [], FRIDAY).due == date(2026, 3, 2)
    assert working_days_used(FRIDAY, four, date(2026, 2, 27)) == 1


def test_two_departments_suspending_the_same_days_move_the_deadline_once() -> None:
    # (03-02, 03-05] holds three working days, suspended by two departments at once
    same_days = [
        suspension(date(2026, 3, 2), date(2026, 3, 5)),
        suspension(date(2026, 3, 2), date(2026, 3, 5)),
    ]
    overlapping = [
        suspension(date(2026, 3, 2), date(2026, 3, 4)),
        suspension(date(2026, 3, 3), date(2026, 3, 5)),
    ]
    one = [suspension(date(2026, 3, 2), date(2026, 3, 5))]
    today = date(2026, 3, 9)

    assert suspended_working_days(same_days, today) == suspended_working_days(one, today) == 3
    assert suspended_working_days(overlapping, today) == 3
    assert due(FRIDAY, 3, same_days, today).due == due(FRIDAY, 3, one, today).due
    apart = [suspension(date(2026, 3, 2), date(2026, 3, 3)), suspension(date(2026, 3, 4), date(2026, 3, 5))]
    assert suspended_working_days(apart, today) == 2


def test_an_open_suspension_counts_up_to_today() -> None:
    assert suspended_working_days([suspension(FRIDAY, None)], date(2026, 2, 24)) == 2


def test_alarm_moments_for_a_five_day_limit() -> None:
    moments = alarm_moments(date(2026, 9, 30), {Limit.PROMISED: 5}, [], date(2026, 9, 30))
    assert moments[(Limit.PROMISED, AlarmKind.WARNING)] == datetime(2026, 10, 12, tzinfo=CHINA)
    assert moments[(Limit.PROMISED, AlarmKind.OVERDUE)] == datetime(2026, 10, 14, tzinfo=CHINA)


def test_with_clock_sets_due_dates_and_the_next_alarm() -> None:
    case = with_clock(accepted_case(FRIDAY), FRIDAY)
    assert case.promised_due == date(2026, 2, 25)
    assert case.next_alarm_at == datetime(2026, 2, 25, tzinfo=CHINA)  # 80% of 3 is the third day
    assert case.deadline_provisional is False


def test_a_suspended_or_closed_case_has_no_pending_alarm() -> None:
    suspended = accepted_case(FRIDAY, suspensions=[suspension(FRIDAY, None)])
    closed = accepted_case(FRIDAY, status=CaseStatus.COMPLETED)
    assert with_clock(suspended, FRIDAY).next_alarm_at is None
    assert with_clock(closed, FRIDAY).next_alarm_at is None
    assert alarms_due(suspended, datetime(2026, 3, 30, tzinfo=CHINA)) == []


def test_alarms_due_skips_those_already_raised() -> None:
    late = datetime(2026, 2, 26, 1, tzinfo=CHINA)
    case = accepted_case(FRIDAY)
    assert alarms_due(case, late) == [
        (Limit.PROMISED, AlarmKind.WARNING),
        (Limit.PROMISED, AlarmKind.OVERDUE),
    ]
    raised = case.model_copy(update={"alarms_raised": ["promised:warning"]})
    assert alarms_due(raised, late) == [(Limit.PROMISED, AlarmKind.OVERDUE)]
    assert alarms_due(case, datetime(2026, 2, 24, 23, 59, tzinfo=CHINA)) == []


@pytest.mark.parametrize(("limit", "warning_day"), [(3, 3), (5, 4), (50, 40)])
def test_the_warning_comes_at_eighty_percent(limit: int, warning_day: int) -> None:
    moments = alarm_moments(FRIDAY, {Limit.PROMISED: limit}, [], FRIDAY)
    expected = due(FRIDAY, warning_day, [], FRIDAY).due
    assert moments[(Limit.PROMISED, AlarmKind.WARNING)].date() == expected
