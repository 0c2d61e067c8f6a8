"""On the local stack: a backlog of due alarms larger than one sweeper invocation's time is worked
through by the function's own asynchronous continuations, and by the schedule when a
continuation is lost; every due case is handled once."""

from datetime import timedelta
from typing import Any

import pytest
from zerovisit.clock import clock
from zerovisit.domain.case import Case
from zerovisit.errors import Conflict
from zerovisit.services import sweeper
from zerovisit.storage import cases, sweeps

from infra.bench.sweep_scale import load_copies
from infra.local.runtime import LocalRuntime
from tests.aws_calls import CallRecorder
from tests.function_uses import USES
from tests.support import application, next_partner_task

pytestmark = pytest.mark.pipeline

COPIES = 40
PAST_THE_LIMIT = timedelta(days=40)
PER_CASE = timedelta(seconds=20)  # each case read uses this much of the invocation's time
ALARMS = ["promised:overdue", "promised:warning", "statutory:overdue", "statutory:warning"]
SWEEPER = "SweeperFunction"


@pytest.fixture
def backlog(runtime: LocalRuntime) -> list[str]:
    """COPIES copies of a case waiting on its department (its case item under new ids), all past
    their limits once the clock is moved."""
    detail = application()
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    next_partner_task(runtime, "ReviewRequested", case_id)  # accepted and waiting; nobody answers
    client = runtime.client("dynamodb")
    key = {"pk": {"S": cases.case_pk(case_id)}, "sk": {"S": cases.CASE_SK}}
    with runtime.exclusive():
        item = client.get_item(TableName=runtime.resources["CasesTable"], Key=key, ConsistentRead=True)[
            "Item"
        ]
        copies = load_copies(runtime, case_id, item, COPIES)
    runtime.fire_due_schedules()  # the schedule counts from the test's clock, whatever ran before
    return copies


@pytest.fixture
def slow_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every case read takes PER_CASE of the domain clock, which the sweeper's remaining time counts."""
    read = cases.get_case
    seen: list[str] = []

    def get_case(case_id: str) -> Case:
        seen.append(case_id)
        clock.advance(PER_CASE)
        return read(case_id)

    monkeypatch.setattr(cases, "get_case", get_case)
    return seen


def sweeper_runs(runtime: LocalRuntime, since: int) -> int:
    return sum(1 for name, _ in runtime.invocations[since:] if name == SWEEPER)


def assert_each_handled_once(copies: list[str], version: int) -> None:
    for case_id in copies:
        case = cases.get_case(case_id)
        assert sorted(case.alarms_raised) == ALARMS, case_id
        assert case.version == version + 1, f"{case_id} written {case.version - version} times"
        alarms = [e for e in cases.timeline(case_id) if e.step == "supervision"]
        assert len(alarms) == len(ALARMS)
    cursor = sweeps.get_cursor()
    assert cursor.position is None  # the pass is over
    assert cursor.owner is None


def test_a_backlog_beyond_one_invocation_is_finished_by_the_functions_own_continuations(
    runtime: LocalRuntime, backlog: list[str], slow_reads: list[str]
) -> None:
    version = cases.get_case(backlog[0]).version
    before = len(runtime.invocations)
    recorder = CallRecorder(runtime)
    with recorder.recording():
        assert runtime.advance(PAST_THE_LIMIT) >= 1  # the schedule fires once for the whole step
    # 300 s an invocation, 20 s a case, stopping with 60 s left: at most 13 cases each
    assert sweeper_runs(runtime, before) >= COPIES // 13 + 1
    assert "lambda:InvokeFunction SweeperFunction" in recorder.uses[SWEEPER]
    assert recorder.uses[SWEEPER] <= USES[SWEEPER]
    assert set(backlog) <= set(slow_reads)
    assert_each_handled_once(backlog, version)


def test_a_lost_continuation_is_made_up_by_the_next_scheduled_sweep(
    runtime: LocalRuntime, backlog: list[str], slow_reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    version = cases.get_case(backlog[0]).version
    read = cases.get_case

    def get_case(case_id: str) -> Case:
        if len(slow_reads) == 1:  # the first invocation runs: its continuation will fail each attempt
            runtime.faults.inject(SWEEPER, error="Lambda.Unknown", times=3)
        return read(case_id)

    monkeypatch.setattr(cases, "get_case", get_case)
    before = len(runtime.invocations)
    runtime.advance(PAST_THE_LIMIT)
    assert sweeper_runs(runtime, before) == 1 + 3  # the first, then the continuation and its 2 retries
    assert [f.function for f in runtime.faults.faulted[-3:]] == [SWEEPER] * 3
    stopped = sweeps.get_cursor()
    assert stopped.position is not None
    assert stopped.owner is None
    handled = [c for c in backlog if cases.get_case(c).alarms_raised]
    assert 0 < len(handled) < COPIES
    runtime.advance(timedelta(minutes=15))  # the schedule goes on from the cursor
    assert_each_handled_once(backlog, version)


def test_an_asynchronous_invoke_answers_at_once_runs_after_its_caller_and_is_retried(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime's Lambda, for any function: InvocationType=Event is accepted (202) before the
    invoked function runs; it runs when the invoking function has returned, and a failure is
    retried twice, as Lambda retries an asynchronous event, then dropped."""
    order: list[str] = []
    target = runtime.resources["CompletionFunction"]

    def caller(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer = runtime.client("lambda").invoke(
            FunctionName=target, InvocationType="Event", Payload=b'{"n": 1}'
        )
        order.append(f"caller got {answer['StatusCode']}")
        return {}

    def invoked(event: dict[str, Any], context: Any) -> dict[str, Any]:
        order.append(f"invoked with {event}")
        raise RuntimeError("fails every time")

    monkeypatch.setitem(runtime._handlers, SWEEPER, caller)
    monkeypatch.setitem(runtime._handlers, "CompletionFunction", invoked)
    runtime.invoke(runtime.resources[SWEEPER], {})
    assert order == ["caller got 202"] + ["invoked with {'n': 1}"] * 3


def test_the_due_index_goes_on_after_a_position_across_its_shards(
    runtime: LocalRuntime, backlog: list[str]
) -> None:
    clock.advance(PAST_THE_LIMIT)
    with runtime.exclusive():
        entries = list(cases.due_items(clock.now()))
        assert set(backlog) <= {case_id for case_id, _, _ in entries}
        assert len({position for _, _, position in entries}) == len(entries)
        for cut in (1, len(entries) // 3, len(entries) // 2, len(entries) - 1):
            assert list(cases.due_items(clock.now(), after=entries[cut - 1][2])) == entries[cut:]
        assert list(cases.due_items(clock.now(), after=entries[-1][2])) == []
        sweeper.sweep(clock.now())  # leaves nothing of this scenario due for the next


def test_the_cursor_is_written_only_at_the_version_read(runtime: LocalRuntime) -> None:
    now = clock.now()
    with runtime.exclusive():
        stored = sweeps.get_cursor()
        claimed = sweeps.put_cursor(stored.claimed("first", now, now + timedelta(minutes=6)))
        with pytest.raises(Conflict):
            sweeps.put_cursor(stored.claimed("second", now, now + timedelta(minutes=6)))
        assert sweeps.get_cursor() == claimed
        released = sweeps.put_cursor(claimed.released(pass_finished=False))
        assert sweeps.get_cursor() == released
    assert released.owner is None
    assert released.position == stored.position
    assert released.version == stored.version + 2
