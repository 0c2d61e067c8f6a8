"""What a driver of the local runtime waits for: a delivery to a queue, an execution's end."""

import json
import threading

import jsonpath_ng.ext

from infra.local.runtime import Activity, LocalRuntime


def test_a_wait_ends_at_once_when_something_was_noted_since_the_count_was_read() -> None:
    activity = Activity()
    seen = activity.count
    activity.note()  # between the caller's look and its wait

    assert activity.wait_after(seen, timeout=3600) == seen + 1


def test_a_wait_ends_when_another_thread_notes_something() -> None:
    activity = Activity()
    seen = activity.count
    started = threading.Event()

    def note_once_waiting() -> None:
        started.wait()
        activity.note()

    noter = threading.Thread(target=note_once_waiting)
    noter.start()
    started.set()
    counted = activity.wait_after(seen, timeout=3600)
    noter.join()

    assert counted == seen + 1


def test_a_wait_with_nothing_noted_ends_at_its_timeout() -> None:
    activity = Activity()

    assert activity.wait_after(activity.count, timeout=0.01) == 0


def test_a_delivery_to_a_queue_is_noted_and_its_input_paths_parsed_once(runtime: LocalRuntime) -> None:
    sqs, events = runtime.client("sqs"), runtime.client("events")
    url = sqs.create_queue(QueueName="test-activity")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["CaseEventBusName"]
    events.put_rule(Name="test-activity", EventBusName=bus, EventPattern='{"source": ["test.activity"]}')
    events.put_targets(Rule="test-activity", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    before = runtime.activity.count
    runtime.put_event("test.activity", "Noted", {"number": 1})
    parsed = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
    runtime.put_event("test.activity", "Noted", {"number": 2})
    again = jsonpath_ng.ext.parse.cache_info()  # type: ignore[attr-defined]
    delivered = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])

    assert runtime.activity.count == before + 2
    assert again.misses == parsed.misses
    assert again.hits >= parsed.hits + 8  # the eight paths of EventBridge's default input
    assert sorted(json.loads(m["Body"])["detail"]["number"] for m in delivered) == [1, 2]
