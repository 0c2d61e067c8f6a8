"""A backlog of due alarms larger than one invocation can work through, over in-memory ports: the
sweep stops in time, stores where it stood, and the next invocation goes on from there; crashes,
a lost continuation and two sweeps at once lose nothing and handle nothing twice."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from uuid import uuid4

import pytest
from zerovisit.clock import clock
from zerovisit.domain.case import Case
from zerovisit.domain.sweep import SweepCursor
from zerovisit.errors import DependencyUnavailable
from zerovisit.services import acceptance, intake, prereview, sweeper

from tests.fakes import FakeCases
from tests.support import application

PAST_THE_LIMIT = timedelta(days=40)
PER_CASE = timedelta(seconds=20)  # what each case read costs the invocation, on the domain clock
TIMEOUT = timedelta(seconds=300)
BACKLOG = 30
# 300 s, 20 s a case, stopping with three cases' worth (60 s) left: 13 cases an invocation
PER_INVOCATION = 13
ALARMS = ["promised:overdue", "promised:warning", "statutory:overdue", "statutory:warning"]


@pytest.fixture
def backlog(cases: FakeCases, monkeypatch: pytest.MonkeyPatch) -> dict[str, Case]:
    """BACKLOG accepted cases left past their limits, each case read taking PER_CASE of the clock."""
    for _ in range(BACKLOG):
        case_id = intake.take_in(application(submitted_at="2026-02-13T09:30:00+08:00")).case_id
        prereview.check_materials(case_id)
        acceptance.accept(case_id)
    clock.set(clock.now() + PAST_THE_LIMIT, frozen=True)  # it moves only as the work takes time
    read = cases.get

    def slow_get(case_id: str) -> Case:
        clock.advance(PER_CASE)
        return read(case_id)

    monkeypatch.setattr(cases, "get", slow_get)
    return dict(cases.cases)


def after_each_read(
    cases: FakeCases, monkeypatch: pytest.MonkeyPatch, hook: Callable[[int, str], object]
) -> None:
    """``hook(n, case_id)`` runs after the n-th case read, before the sweep has the case."""
    read = cases.get
    reads: list[str] = []

    def get(case_id: str) -> Case:
        case = read(case_id)
        reads.append(case_id)
        hook(len(reads), case_id)
        return case

    monkeypatch.setattr(cases, "get", get)


@dataclass
class Lambda:
    """Invocations of the sweeper as Lambda makes them: each its own request id and the function's
    timeout on the domain clock; a continuation is queued and run by ``run``."""

    queued: list[str] = field(default_factory=list)
    results: list[dict[str, int]] = field(default_factory=list)

    def invocation(self, timeout: timedelta = TIMEOUT) -> sweeper.Invocation:
        started = clock.now()
        return sweeper.Invocation(
            owner=str(uuid4()),
            time_left=lambda: started + timeout - clock.now(),
            continue_later=lambda: self.queued.append("continue"),
        )

    def sweep(self) -> dict[str, int]:
        result = sweeper.sweep(clock.now(), self.invocation())
        self.results.append(result)
        return result

    def run(self) -> int:
        """One scheduled sweep and every continuation it leads to; returns the invocations."""
        self.sweep()
        while self.queued:
            self.queued.pop()
            self.sweep()
        return len(self.results)


def assert_each_handled_once(cases: FakeCases, before: dict[str, Case]) -> None:
    for case_id, case in before.items():
        after = cases.cases[case_id]
        assert after.version == case.version + 1, f"{case_id} written {after.version - case.version} times"
        assert sorted(after.alarms_raised) == ALARMS
        alarms = [e for e in cases.timelines[case_id] if e.step == "supervision"]
        assert len(alarms) == len(ALARMS)
    overdue = [m.case_id for m in cases.published("CaseOverdue")]
    assert sorted(overdue) == sorted(c for c in before for a in ALARMS if a.endswith("overdue"))
    assert list(cases.due(clock.now())) == []


def test_a_backlog_longer_than_one_invocation_is_finished_by_its_continuations(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    aws = Lambda()
    assert aws.run() == 3
    first, second, last = aws.results
    assert first["items_read"] == second["items_read"] == PER_INVOCATION
    assert first["stopped_for_time"] == first["continued"] == 1
    assert last["items_read"] == BACKLOG - 2 * PER_INVOCATION
    assert last["pass_finished"] == 1
    assert "continued" not in last
    assert last["taken_in_pass"] == BACKLOG
    assert_each_handled_once(cases, backlog)
    assert cases.cursor == SweepCursor(version=cases.cursor.version)  # the pass is over, nobody holds it


def test_between_invocations_the_cursor_holds_the_position_and_no_lease(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    aws = Lambda()
    aws.sweep()
    stored = cases.cursor
    assert stored.owner is None
    assert stored.lease_until is None
    assert stored.taken_in_pass == PER_INVOCATION
    taken = sorted(backlog)[:PER_INVOCATION]
    assert stored.position == f"{taken[-1]}#"
    assert all(cases.cases[c].alarms_raised for c in taken)
    assert not any(cases.cases[c].alarms_raised for c in sorted(backlog)[PER_INVOCATION:])


def test_a_lost_continuation_loses_nothing_the_next_schedule_goes_on(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    aws = Lambda()
    aws.sweep()
    aws.queued.clear()  # Lambda never ran it
    clock.advance(timedelta(minutes=15))
    assert aws.run() == 3
    assert [r["items_read"] for r in aws.results] == [PER_INVOCATION, PER_INVOCATION, 4]
    assert_each_handled_once(cases, backlog)


def test_a_continuation_that_cannot_be_queued_is_left_to_the_schedule(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    def refused() -> None:
        raise DependencyUnavailable("could not queue the invocation")

    started = clock.now()
    invocation = sweeper.Invocation("request-1", lambda: started + TIMEOUT - clock.now(), refused)
    result = sweeper.sweep(clock.now(), invocation)
    assert result["left_for_next_sweep"] == 1
    assert "continued" not in result
    assert cases.cursor.owner is None
    assert cases.cursor.taken_in_pass == PER_INVOCATION
    aws = Lambda()
    aws.run()
    assert_each_handled_once(cases, backlog)


def test_a_sweep_that_raises_midway_gives_up_its_lease_and_the_next_goes_on_after_the_entry(
    cases: FakeCases, backlog: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = sorted(backlog)[7]

    def fail_once(n: int, case_id: str) -> None:
        if n == 8:
            raise DependencyUnavailable("case storage unavailable")

    after_each_read(cases, monkeypatch, fail_once)
    aws = Lambda()
    with pytest.raises(DependencyUnavailable):
        aws.sweep()
    assert cases.cursor.owner is None  # released on the way out
    assert cases.cursor.position == f"{failing}#"
    assert aws.run() == 2  # the rest of the pass: the failed entry stays due for the next pass
    assert not cases.cases[failing].alarms_raised
    assert aws.results[-1]["pass_finished"] == 1
    clock.advance(timedelta(minutes=15))
    aws.results.clear()
    assert aws.run() == 1
    assert aws.results[0]["items_read"] == 1  # a new pass: only the entry that failed is still due
    assert_each_handled_once(cases, backlog)


class Killed(BaseException):
    """The process ends here (a timeout, out of memory): nothing after it runs."""


def test_a_sweep_that_dies_keeps_its_lease_until_it_ends_then_the_next_resumes_from_the_checkpoint(
    cases: FakeCases, backlog: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeper, "CHECKPOINT_EVERY", 5)

    def die(n: int, case_id: str) -> None:
        if n == 12:
            cases.before_cursor_save = dead
            raise Killed

    def dead(cursor: SweepCursor) -> Any:
        raise Killed  # a dead process stores nothing more

    after_each_read(cases, monkeypatch, die)
    aws = Lambda()
    with pytest.raises(Killed):
        aws.sweep()
    cases.before_cursor_save = None
    holder = cases.cursor
    assert holder.owner is not None
    assert holder.taken_in_pass == 10  # the last checkpoint
    assert holder.position == f"{sorted(backlog)[9]}#"
    assert aws.sweep() == {"busy": 1}  # its lease has not ended: nobody sweeps meanwhile
    assert holder.lease_until is not None
    clock.set(holder.lease_until + timedelta(seconds=1))
    aws.results.clear()
    aws.run()
    # the 11th was handled before the death and has left the due range; the 12th was not
    assert sum(r.get("items_read", 0) for r in aws.results) == BACKLOG - 11
    assert_each_handled_once(cases, backlog)


def test_a_holder_paused_past_its_lease_loses_it_and_stops_without_writing_again(
    cases: FakeCases, backlog: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeper, "CHECKPOINT_EVERY", 5)
    rival = Lambda()

    def stall(n: int, case_id: str) -> None:
        if n == 3:  # the holder stalls past its lease; another sweep takes over meanwhile
            assert cases.cursor.lease_until is not None
            clock.set(cases.cursor.lease_until + timedelta(seconds=1))
            rival.run()

    after_each_read(cases, monkeypatch, stall)
    holder = Lambda()
    result = holder.sweep()
    # its write of the case it held lost to the rival's; then its time was up, and its lease gone
    assert result["skipped"] == result["stopped_for_time"] == result["lease_lost"] == 1
    assert result["items_read"] == 3
    assert "continued" not in result
    assert holder.queued == []
    assert rival.results[0]["items_read"] >= 1
    assert all("busy" not in r for r in rival.results)
    assert cases.cursor.owner is None
    assert cases.cursor.position is None  # the rival finished the pass
    assert_each_handled_once(cases, backlog)


def test_a_sweep_while_another_holds_the_lease_sweeps_nothing(
    cases: FakeCases, backlog: dict[str, Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    second = Lambda()
    after_each_read(cases, monkeypatch, lambda n, case_id: n == 1 and second.sweep())
    first = Lambda()
    first.run()
    assert second.results == [{"busy": 1}]
    assert sum(r["items_read"] for r in first.results) == BACKLOG
    assert_each_handled_once(cases, backlog)


def test_a_claim_that_loses_the_race_for_the_cursor_sweeps_nothing(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    rival = SweepCursor().claimed("rival", clock.now(), clock.now() + timedelta(minutes=6))

    def rival_first(cursor: SweepCursor) -> None:
        cases.before_cursor_save = None
        cases.save_sweep_cursor(rival)

    cases.before_cursor_save = rival_first
    assert Lambda().sweep() == {"busy": 1}
    assert cases.cursor.owner == "rival"
    assert all(cases.cases[c].version == case.version for c, case in backlog.items())


def test_a_sweep_with_no_time_left_takes_nothing_and_keeps_the_position(
    cases: FakeCases, backlog: dict[str, Case]
) -> None:
    counts = sweeper.sweep(clock.now(), Lambda().invocation(timeout=timedelta(seconds=5)))
    assert counts["stopped_for_time"] == 1
    assert "items_read" not in counts
    assert cases.cursor.position is None
    assert cases.cursor.invocations_in_pass == 1
    assert all(cases.cases[c].version == case.version for c, case in backlog.items())
