"""Concurrent writers against the local stack's DynamoDB, through the runtime.

Each DynamoDB request is atomic (as in DynamoDB), so conditional writes hold under threads. With
``runtime.concurrently()`` handlers overlap as Lambda runs them, so a blind read-modify-write
loses an update; run one at a time (the default) the same handlers never can, which is what the
default hides.
"""

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError

from infra.local.runtime import LocalRuntime

THREADS = 8
HANDLER = "SweeperFunction"  # replaced by the test's own handler
BARRIER_SECONDS = 10.0  # a bound on waiting for the other thread, never reached when handlers overlap


@pytest.fixture(autouse=True)
def frequent_thread_switches() -> Iterator[None]:
    """Switch threads every microsecond, so that unguarded interleavings show up within a few trials."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def in_threads(count: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            work(n)
        except BaseException as e:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def key(pk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": "COUNTER"}}


def read_version(dynamodb: Any, table: str, pk: str) -> int:
    item = dynamodb.get_item(TableName=table, Key=key(pk), ConsistentRead=True)["Item"]
    return int(item["version"]["N"])


def write_version(dynamodb: Any, table: str, pk: str, version: int, expected: int | None) -> bool:
    """Write ``version``; with ``expected``, only over that version. True when written."""
    condition = {} if expected is None else {"ConditionExpression": "version = :expected"}
    values = {":new": {"N": str(version)}} | ({} if expected is None else {":expected": {"N": str(expected)}})
    try:
        dynamodb.update_item(
            TableName=table,
            Key=key(pk),
            UpdateExpression="SET version = :new",
            ExpressionAttributeValues=values,
            **condition,
        )
    except dynamodb.exceptions.ConditionalCheckFailedException:
        return False
    return True


def test_a_conditional_put_on_one_key_from_many_threads_has_exactly_one_winner(
    runtime: LocalRuntime, dynamodb: Any, table: str
) -> None:
    winners_per_trial = []
    for _ in range(30):
        pk = f"RACE#{uuid4().hex}"
        barrier = threading.Barrier(THREADS)
        winners: list[int] = []

        def put(
            n: int, pk: str = pk, barrier: threading.Barrier = barrier, winners: list[int] = winners
        ) -> None:
            barrier.wait(BARRIER_SECONDS)
            try:
                dynamodb.put_item(
                    TableName=table,
                    Item={**key(pk), "writer": {"N": str(n)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                winners.append(n)
            except ClientError as e:  # matched by code: each thread's error class may come from any client
                if e.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

        in_threads(THREADS, put)
        winners_per_trial.append(len(winners))

    assert set(winners_per_trial) == {1}


def test_versioned_updates_from_many_threads_lose_nothing(
    runtime: LocalRuntime, dynamodb: Any, table: str
) -> None:
    pk = f"COUNT#{uuid4().hex}"
    dynamodb.put_item(TableName=table, Item={**key(pk), "version": {"N": "0"}})
    increments = 15

    def increment(n: int) -> None:
        done = 0
        for _ in range(increments * THREADS * 4):  # bounded: a writer can lose each round to the others
            current = read_version(dynamodb, table, pk)
            if write_version(dynamodb, table, pk, current + 1, expected=current):
                done += 1
                if done == increments:
                    return
        raise AssertionError(f"writer {n} did not finish its increments")

    in_threads(THREADS, increment)

    assert read_version(dynamodb, table, pk) == THREADS * increments


def read_then_write(runtime: LocalRuntime, dynamodb: Any, table: str, guarded: bool) -> Callable[..., Any]:
    """A handler that reads the version, waits for the other invocation to have read too when both
    run at once, and writes version + 1 (with a condition on what it read when ``guarded``)."""
    barrier = threading.Barrier(2)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        current = read_version(dynamodb, table, event["pk"])
        if runtime.concurrent:
            barrier.wait(BARRIER_SECONDS)
        written = write_version(dynamodb, table, event["pk"], current + 1, current if guarded else None)
        return {"written": written}

    return handler


def run_twice(
    runtime: LocalRuntime, dynamodb: Any, table: str, guarded: bool, monkeypatch: Any
) -> tuple[int, int]:
    """Two invocations at once; returns the final version and how many wrote."""
    pk = f"HANDLER#{uuid4().hex}"
    dynamodb.put_item(TableName=table, Item={**key(pk), "version": {"N": "0"}})
    monkeypatch.setitem(runtime._handlers, HANDLER, read_then_write(runtime, dynamodb, table, guarded))
    results: list[Any] = []
    in_threads(2, lambda n: results.append(runtime.invoke(HANDLER, {"pk": pk})))
    assert [failed for _, failed in results] == [False, False]
    return read_version(dynamodb, table, pk), sum(1 for payload, _ in results if payload["written"])


def test_concurrent_handlers_with_a_blind_write_lose_an_update(
    runtime: LocalRuntime, dynamodb: Any, table: str, monkeypatch: Any
) -> None:
    with runtime.concurrently():
        version, wrote = run_twice(runtime, dynamodb, table, guarded=False, monkeypatch=monkeypatch)

    assert (version, wrote) == (1, 2)  # two writes, one increment: the lost update


def test_concurrent_handlers_with_a_conditional_write_have_exactly_one_winner(
    runtime: LocalRuntime, dynamodb: Any, table: str, monkeypatch: Any
) -> None:
    with runtime.concurrently():
        version, wrote = run_twice(runtime, dynamodb, table, guarded=True, monkeypatch=monkeypatch)

    assert (version, wrote) == (1, 1)


def test_handlers_one_at_a_time_hide_the_lost_update(
    runtime: LocalRuntime, dynamodb: Any, table: str, monkeypatch: Any
) -> None:
    """The default runtime serialises handlers: the same blind write never loses an update, so a
    race between handlers is only caught with ``concurrently()``."""
    version, wrote = run_twice(runtime, dynamodb, table, guarded=False, monkeypatch=monkeypatch)

    assert (version, wrote) == (2, 2)
