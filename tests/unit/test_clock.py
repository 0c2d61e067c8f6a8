from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from zerovisit.clock import CHINA, Clock, clock

TOLERANCE = timedelta(seconds=5)
MOMENT = datetime(2026, 2, 13, 9, 30, tzinfo=CHINA)


def close_to(actual: datetime, expected: datetime) -> bool:
    return timedelta() <= actual - expected < TOLERANCE


def test_a_new_clock_reads_the_system_time() -> None:
    before = datetime.now(UTC)

    now = Clock().now()

    assert close_to(now, before)
    assert now.utcoffset() == timedelta()


def test_set_moves_the_clock_and_time_keeps_flowing() -> None:
    subject = Clock()

    subject.set(MOMENT)
    first = subject.now()
    second = subject.now()

    assert close_to(first, MOMENT)
    assert second >= first
    assert first.utcoffset() == timedelta()


@pytest.mark.parametrize(
    "moment", [datetime(2020, 1, 1, tzinfo=UTC), datetime(2035, 6, 30, 23, 59, tzinfo=CHINA)]
)
def test_set_works_in_the_past_and_the_future(moment: datetime) -> None:
    subject = Clock()

    subject.set(moment)

    assert close_to(subject.now(), moment)


def test_advance_moves_the_clock_forward() -> None:
    subject = Clock()
    subject.set(MOMENT)

    subject.advance(timedelta(days=3, hours=2))

    assert close_to(subject.now(), MOMENT + timedelta(days=3, hours=2))


def test_advances_add_up() -> None:
    subject = Clock()
    subject.set(MOMENT)

    for _ in range(4):
        subject.advance(timedelta(hours=6))

    assert close_to(subject.now(), MOMENT + timedelta(days=1))


def test_reset_returns_to_the_system_time() -> None:
    subject = Clock()
    subject.set(MOMENT, frozen=True)
    subject.advance(timedelta(days=400))

    subject.reset()
    before = datetime.now(UTC)

    assert close_to(subject.now(), before)
    assert subject.now().utcoffset() == timedelta()


def test_frozen_clock_stands_still() -> None:
    subject = Clock()

    subject.set(MOMENT, frozen=True)

    assert subject.now() == MOMENT
    assert subject.now() == subject.now() == MOMENT


def test_frozen_clock_advances_exactly() -> None:
    subject = Clock()
    subject.set(MOMENT, frozen=True)

    subject.advance(timedelta(minutes=90))

    assert subject.now() == MOMENT + timedelta(minutes=90)
    assert subject.now() == MOMENT + timedelta(minutes=90)


def test_setting_without_frozen_unfreezes() -> None:
    subject = Clock()
    subject.set(MOMENT, frozen=True)
    subject.advance(timedelta(days=2))

    later = MOMENT + timedelta(days=10)
    subject.set(later)

    assert close_to(subject.now(), later)


def test_frozen_clock_still_reads_in_utc() -> None:
    subject = Clock()
    subject.set(MOMENT, frozen=True)

    assert subject.now().utcoffset() == timedelta()
    assert subject.now().isoformat() == "2026-02-13T01:30:00+00:00"


@pytest.mark.parametrize(
    ("moment", "china_date"),
    [
        ("2026-02-13T17:00:00+00:00", date(2026, 2, 14)),
        ("2026-02-13T15:59:59+00:00", date(2026, 2, 13)),
        ("2026-02-13T16:00:00+00:00", date(2026, 2, 14)),
        ("2026-02-14T00:30:00+08:00", date(2026, 2, 14)),
        ("2026-02-13T23:30:00-05:00", date(2026, 2, 14)),
        ("2026-12-31T16:00:00+00:00", date(2027, 1, 1)),
        ("2026-02-13T01:30:00+00:00", date(2026, 2, 13)),
    ],
)
def test_today_is_the_china_date(moment: str, china_date: date) -> None:
    subject = Clock()
    subject.set(datetime.fromisoformat(moment), frozen=True)

    assert subject.today() == china_date


def test_today_differs_from_the_utc_date_in_the_china_morning() -> None:
    subject = Clock()
    subject.set(datetime(2026, 2, 13, 17, 0, tzinfo=UTC), frozen=True)

    assert subject.now().date() == date(2026, 2, 13)
    assert subject.today() == date(2026, 2, 14)


def test_today_follows_advance() -> None:
    subject = Clock()
    subject.set(datetime(2026, 2, 13, 15, 0, tzinfo=UTC), frozen=True)
    assert subject.today() == date(2026, 2, 13)

    subject.advance(timedelta(hours=1))

    assert subject.today() == date(2026, 2, 14)


@pytest.mark.parametrize("frozen", [False, True])
def test_naive_datetimes_are_refused(frozen: bool) -> None:
    subject = Clock()
    subject.set(MOMENT, frozen=True)

    with pytest.raises(ValueError, match="timezone-aware"):
        subject.set(datetime(2026, 3, 1, 9, 0), frozen=frozen)

    assert subject.now() == MOMENT


def test_the_domain_clock_can_be_set_and_advanced() -> None:
    clock.set(datetime(2026, 9, 30, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    clock.advance(timedelta(days=1))

    assert clock.today() == date(2026, 10, 1)
    assert close_to(clock.now(), datetime(2026, 10, 1, 1, 0, tzinfo=UTC))
