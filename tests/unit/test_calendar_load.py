"""Loading a year's schedule recomputes every open case with a provisional date in that year,
whether the promised date or only the statutory one falls in it."""

from datetime import date, datetime

import pytest
from zerovisit.clock import clock
from zerovisit.domain.application import parse_application
from zerovisit.domain.case import Case
from zerovisit.domain.deadlines import with_clock
from zerovisit.domain.model import CaseStatus, TimelineEntry
from zerovisit.domain.workdays import default_calendar
from zerovisit.observability import cold_start
from zerovisit.services.calendar import load_schedule
from zerovisit.storage import cases

from tests.support import application
from tests.unit.test_cli import catalog_and_cases_tables, catalog_table, environment

__all__ = ["catalog_and_cases_tables", "catalog_table", "environment"]  # fixtures used here
ACCEPTED = datetime.fromisoformat("2026-11-27T10:00:00+08:00")
SPRING_FESTIVAL_2027 = {date(2027, 2, day) for day in range(5, 13)}


@pytest.fixture
def tables(catalog_and_cases_tables: None) -> None:
    cold_start()
    clock.set(ACCEPTED)


def open_case(promised_limit: int, statutory_limit: int, status: CaseStatus = CaseStatus.IN_REVIEW) -> Case:
    detail = application()
    case = with_clock(
        Case(
            case_id=detail["application_id"],
            application=parse_application(detail),
            status=status,
            accepted_on=ACCEPTED.date(),
            promised_limit=promised_limit,
            statutory_limit=statutory_limit,
        ),
        ACCEPTED.date(),
    )
    assert cases.create_case(case, TimelineEntry(at=ACCEPTED, step="acceptance", event="accepted"))
    return case


def test_a_case_whose_only_provisional_date_is_statutory_is_recomputed(tables: None) -> None:
    statutory_only = open_case(promised_limit=3, statutory_limit=60)
    both = open_case(promised_limit=50, statutory_limit=60)
    official = open_case(promised_limit=3, statutory_limit=20)
    assert statutory_only.promised_due == date(2026, 12, 2)
    assert statutory_only.statutory_due is not None
    assert statutory_only.statutory_due.year == 2027
    assert statutory_only.deadline_provisional
    assert both.deadline_provisional
    assert not official.deadline_provisional

    result = load_schedule(2027, {date(2027, 1, 1), *SPRING_FESTIVAL_2027}, {date(2027, 2, 20)})

    assert sorted(result["recomputed"]) == sorted([statutory_only.case_id, both.case_id])
    for before in (statutory_only, both):
        after = cases.get_case(before.case_id)
        assert after.deadline_provisional is False
        assert after.statutory_due is not None
        assert before.statutory_due is not None
        assert after.statutory_due > before.statutory_due  # the Spring Festival week is not worked
        assert ("clock", "deadline recomputed") in [(e.step, e.event) for e in cases.timeline(before.case_id)]
    assert cases.get_case(official.case_id).version == 1  # not touched


def test_a_closed_case_is_left_alone(tables: None) -> None:
    closed = open_case(promised_limit=3, statutory_limit=60, status=CaseStatus.COMPLETED)

    result = load_schedule(2027, {date(2027, 1, 1)}, set())

    assert closed.case_id not in result["recomputed"]
    assert default_calendar().covers(2027)
