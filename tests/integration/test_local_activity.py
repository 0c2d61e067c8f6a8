"""What a driver of the local runtime waits for: a delivery to a queue, an execution's end."""

import json
import threading
import time
from datetime import timedelta
from typing import Any

import boto3
import jsonpath_ng.ext
import pytest

from infra.local import partners
from infra.local.partners import PartnerSimulator
from infra.local.runtime import Activity, LocalRuntime
from infra.local.seams import then

BOUND = 10.0  # seconds: a wait this long means nothing woke it


def timed_wait(activity: Activity, seen: int, timeout: float) -> tuple[int, float]:
    started = time.monotonic()
    counted = activity.wait_after(seen, timeout)
    return counted, time.monotonic() - started


def test_a_wait_ends_at_once_when_something_was_noted_since_the_count_was_read() -> None:
    activity = Activity()
    seen = activity.count
    activity.note()  # between the caller's look and its wait

    counted, waited = timed_wait(activity, seen, BOUND)

    assert counted == seen + 1
    assert waited < BOUND / 2


def test_a_blocked_wait_is_woken_by_another_threads_note() -> None:
    activity = Activity()
    seen = activity.count
    results: list[tuple[int, float]] = []
    waiter = threading.Thread(target=lambda: results.append(timed_wait(activity, seen, BOUND)))
    waiter.start()
    while not activity._changed._waiters:  # type: ignore[attr-defined]  # until the waiter blocks
        time.sleep(0.001)
    activity.note()
    waiter.join()

    [(counted, waited)] = results
    assert counted == seen + 1
    assert waited < BOUND / 2


def test_a_wait_with_nothing_noted_lasts_its_timeout() -> None:
    activity = Activity()

    counted, waited = timed_wait(activity, activity.count, 0.05)

    assert counted == 0
    assert waited >= 0.05


def test_a_delivery_to_a_queue_is_noted_and_its_input_paths_parsed_once(runtime: LocalRuntime) -> None:
    sqs, events = runtime.client("sqs"), runtime.client("events")
    url = sqs.create_queue(QueueName="test-activity")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["CaseEventBusName"]
    events.put_rule(Name="test-activity", EventBusName=bus, EventPattern='{"source": ["test.activity"]}')
    events.put_targets(Rule="test-activity", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    try:
        before = runtime.activity.count
        runtime.put_event("test.activity", "Noted", {"number": 1})
        parsed = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
        runtime.put_event("test.activity", "Noted", {"number": 2})
        again = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
        delivered = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    finally:
        events.remove_targets(Rule="test-activity", EventBusName=bus, Ids=["q"])
        events.delete_rule(Name="test-activity", EventBusName=bus)
        sqs.delete_queue(QueueUrl=url)

    assert runtime.activity.count >= before + 2  # an execution of an earlier test may end meanwhile
    assert again.misses == parsed.misses
    assert again.hits >= parsed.hits + 8  # the eight paths of EventBridge's default input
    assert sorted(json.loads(m["Body"])["detail"]["number"] for m in delivered) == [1, 2]


class ReactingRuntime:
    """Stands in for the runtime: the execution reacts (notes activity) at each of its first looks,
    ends after ``looks`` of them, and records at which look the clock was moved on."""

    def __init__(self, reacting: int, looks: int) -> None:
        self.outputs = {"PartnerTaskQueueUrl": "https://sqs.example/partner-tasks"}
        self.activity = Activity()
        self.reacting, self.looks = reacting, looks
        self.looked = 0
        self.advanced_at: list[int] = []

    def execution_status(self, case_id: str) -> str:
        self.looked += 1
        if self.looked <= self.reacting:
            self.activity.note()
        return "SUCCEEDED" if self.looked >= self.looks else "RUNNING"

    def advance(self, delta: timedelta) -> int:
        self.advanced_at.append(self.looked)
        return 0


def test_the_clock_stands_while_the_execution_still_reacts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(partners, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: None)  # no queue is read
    fake: Any = ReactingRuntime(reacting=5, looks=9)
    simulator = PartnerSimulator(fake)
    monkeypatch.setattr(simulator, "answer_pending", list)  # nothing for the partners to answer

    status = simulator.run_until_closed("CASE", timeout_seconds=BOUND, clock_step=timedelta(hours=4))

    assert status == "SUCCEEDED"
    # looks 1-5 find the execution reacting; the wait after look 6 is the first that sees nothing
    assert fake.advanced_at == [7, 8]


def test_the_end_of_an_execution_is_noted_even_when_moto_fails_to_record_it() -> None:
    activity = Activity()

    def terminated() -> None:
        raise RuntimeWarning("Execution ended with unsupported ProgramState type")

    ended = then(terminated, activity.note)

    with pytest.raises(RuntimeWarning):
        ended()
    assert activity.count == 1
