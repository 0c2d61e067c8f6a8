"""The cases table's stream reaches the relay function as AWS's event source mapping delivers it."""

import json
import threading
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest
from zerovisit.clock import clock
from zerovisit.domain.outbox import event

from infra.local.runtime import REGION, LocalRuntime
from tests.conftest import OutboundEvents

PROBE = "OutboxProbe"  # a detail type no rule of the stack routes: only the test's subscriber sees it


@pytest.fixture
def cases(dynamodb: Any) -> Any:
    return dynamodb


@pytest.fixture(autouse=True)
def no_faults_left(runtime: LocalRuntime) -> Iterator[None]:
    runtime.drain()  # records earlier tests' writes left queued are not this test's
    yield
    runtime.faults.clear()
    runtime.drain()


def outbox_item(case_id: str, sequence: int = 1) -> tuple[dict[str, Any], str]:
    message_id = f"{case_id}-{sequence}"
    message = event(message_id, case_id, PROBE, {"case_id": case_id, "sequence": sequence}, clock.now())
    item = {
        "pk": {"S": f"CASE#{case_id}"},
        "sk": {"S": f"OUTBOX#{case_id}#{sequence}#0"},
        "kind": {"S": "outbox"},
        "body": {"S": message.model_dump_json()},
    }
    return item, message_id


def write_outbox(runtime: LocalRuntime, cases: Any, case_id: str, count: int = 1) -> list[str]:
    ids = []
    for sequence in range(1, count + 1):
        item, message_id = outbox_item(case_id, sequence)
        cases.put_item(TableName=runtime.resources["CasesTable"], Item=item)
        ids.append(message_id)
    return ids


def relay_calls(runtime: LocalRuntime, since: int) -> int:
    return sum(1 for name, _ in runtime.invocations[since:] if name == "RelayFunction")


def published(outbound: OutboundEvents, message_id: str) -> int:
    return len(outbound.of(PROBE, event_id=message_id))


def drain_queue(runtime: LocalRuntime, logical_id: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    bodies = []
    while messages := sqs.receive_message(QueueUrl=runtime.queue_url(logical_id), MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=runtime.queue_url(logical_id), ReceiptHandle=message["ReceiptHandle"])
    return bodies


def test_an_outbox_item_ends_as_one_event_on_the_bus(
    runtime: LocalRuntime, cases: Any, outbound: OutboundEvents
) -> None:
    [message_id] = write_outbox(runtime, cases, f"stream-{uuid4().hex[:8]}")

    assert runtime.drain() == 1
    assert published(outbound, message_id) == 1


def test_the_relay_gets_the_record_shape_aws_sends(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    case_id = f"shape-{uuid4().hex[:8]}"
    item, _ = outbox_item(case_id)
    cases.put_item(TableName=runtime.resources["CasesTable"], Item=item)
    runtime.drain()

    [batch] = seen
    [record] = batch["Records"]
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert (record["eventName"], record["eventSource"], record["awsRegion"]) == (
        "INSERT",
        "aws:dynamodb",
        REGION,
    )
    assert record["eventSourceARN"].startswith(f"arn:aws:dynamodb:{REGION}:")
    assert "/stream/" in record["eventSourceARN"]
    stream = record["dynamodb"]
    assert stream["Keys"] == {"pk": item["pk"], "sk": item["sk"]}
    assert stream["NewImage"] == item
    assert stream["StreamViewType"] == "NEW_IMAGE"
    assert "OldImage" not in stream
    assert stream["SequenceNumber"].isdigit()
    assert isinstance(stream["ApproximateCreationDateTime"], int)
    assert stream["SizeBytes"] > 0


def test_only_outbox_inserts_pass_the_filter(runtime: LocalRuntime, cases: Any) -> None:
    table = runtime.resources["CasesTable"]
    case_id = f"filter-{uuid4().hex[:8]}"
    before = len(runtime.invocations)
    cases.put_item(
        TableName=table, Item={"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}, "kind": {"S": "case"}}
    )
    item, _ = outbox_item(case_id)
    cases.put_item(TableName=table, Item=item)
    runtime.drain()
    cases.put_item(TableName=table, Item={**item, "note": {"S": "modified"}})  # MODIFY
    cases.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})  # REMOVE

    runtime.drain()

    assert relay_calls(runtime, before) == 1


def test_batches_hold_at_most_the_batch_size_in_sequence_order(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    batches: list[list[tuple[str, str]]] = []
    probe = f"batch-{uuid4().hex[:8]}"

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append(
            [(r["dynamodb"]["SequenceNumber"], r["dynamodb"]["Keys"]["pk"]["S"]) for r in event["Records"]]
        )
        return {"batchItemFailures": []}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    write_outbox(runtime, cases, probe, count=25)
    runtime.drain()

    # another scenario's record may share a batch; the probe's 25 come in batches of at most 10
    assert all(len(b) <= 10 for b in batches)
    ours = [int(s) for b in batches for s, pk in b if pk == f"CASE#{probe}"]
    assert len(ours) == 25
    assert len(batches) >= 3
    assert ours == sorted(ours)


def test_a_drain_waits_for_the_delivery_another_thread_has_begun(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    delivered: list[str] = []
    entered, release = threading.Event(), threading.Event()

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not entered.is_set():
            entered.set()
            assert release.wait(timeout=60)
        delivered.extend(r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"])
        return {"batchItemFailures": []}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    first, second = f"busy-{uuid4().hex[:8]}", f"after-{uuid4().hex[:8]}"
    write_outbox(runtime, cases, first)
    other = threading.Thread(target=runtime.drain)
    other.start()
    assert entered.wait(timeout=60)  # the other thread holds the stream, its relay not yet returned
    write_outbox(runtime, cases, second, count=3)
    threading.Timer(0.05, release.set).start()

    runtime.drain()
    seen_on_return = list(delivered)

    release.set()
    other.join(timeout=60)
    assert seen_on_return.count(f"CASE#{first}") == 1
    assert seen_on_return.count(f"CASE#{second}") == 3


def test_a_partial_batch_response_retries_from_the_first_failed_record(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    batches: list[list[str]] = []

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        batches.append(sequence)
        if len(batches) == 1:  # records 4 and 7 fail the first time
            return {"batchItemFailures": [{"itemIdentifier": sequence[6]}, {"itemIdentifier": sequence[3]}]}
        return {"batchItemFailures": []}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    write_outbox(runtime, cases, f"partial-{uuid4().hex[:8]}", count=10)
    runtime.drain()

    assert len(batches) == 2
    assert batches[1] == batches[0][3:]


def test_an_unknown_item_identifier_fails_the_whole_batch(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    batches: list[list[str]] = []

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        batches.append([r["dynamodb"]["SequenceNumber"] for r in event["Records"]])
        return {"batchItemFailures": [{"itemIdentifier": ""}]} if len(batches) == 1 else {}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    write_outbox(runtime, cases, f"unknown-{uuid4().hex[:8]}", count=3)
    runtime.drain()

    assert len(batches) == 2
    assert batches[1] == batches[0]


def test_a_function_error_splits_the_batch_in_two(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any
) -> None:
    sizes: list[int] = []

    def relay(event: dict[str, Any], context: Any) -> dict[str, Any]:
        sizes.append(len(event["Records"]))
        if len(sizes) == 1:
            raise RuntimeError("the whole batch fails once")
        return {}

    monkeypatch.setitem(runtime._handlers, "RelayFunction", relay)
    write_outbox(runtime, cases, f"bisect-{uuid4().hex[:8]}", count=10)
    runtime.drain()

    assert sizes == [10, 5, 5]


def test_a_relay_that_fails_three_times_then_succeeds_delivers_once(
    runtime: LocalRuntime, cases: Any, outbound: OutboundEvents
) -> None:
    runtime.faults.inject("RelayFunction", error="Lambda.Unknown", times=3)
    before = len(runtime.invocations)
    [message_id] = write_outbox(runtime, cases, f"retry-{uuid4().hex[:8]}")

    runtime.drain()

    assert relay_calls(runtime, before) == 4
    assert published(outbound, message_id) == 1
    assert drain_queue(runtime, "OutboxDeadLetterQueue") == []


def test_a_relay_that_always_fails_ends_in_the_outbox_dead_letter_queue(
    runtime: LocalRuntime, cases: Any, outbound: OutboundEvents
) -> None:
    runtime.faults.inject("RelayFunction", error="Sandbox.Timedout", times=None)
    before = len(runtime.invocations)
    [message_id] = write_outbox(runtime, cases, f"dead-{uuid4().hex[:8]}")

    runtime.drain()
    runtime.faults.clear()

    assert relay_calls(runtime, before) == 11  # the first attempt and MaximumRetryAttempts: 10
    assert published(outbound, message_id) == 0
    [record] = drain_queue(runtime, "OutboxDeadLetterQueue")
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 11
    assert record["requestContext"]["functionArn"].endswith(runtime.resources["RelayFunction"])
    assert record["responseContext"]["functionError"] == "Unhandled"
    info = record["DDBStreamBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"]
    assert "/stream/" in info["streamArn"]


def test_a_cancelled_transaction_sends_no_record(runtime: LocalRuntime, cases: Any) -> None:
    table = runtime.resources["CasesTable"]
    case_id = f"cancel-{uuid4().hex[:8]}"
    item, _ = outbox_item(case_id)
    before = len(runtime.invocations)

    with pytest.raises(cases.exceptions.TransactionCanceledException):
        cases.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": item}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": f"CASE#{case_id}"}, "sk": {"S": "CASE"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    runtime.drain()

    assert relay_calls(runtime, before) == 0


def test_a_write_inside_a_function_is_delivered_when_the_function_returns(
    runtime: LocalRuntime, cases: Any, monkeypatch: Any, outbound: OutboundEvents
) -> None:
    """The relay runs after the writing function returned, never inside it."""
    case_id = f"inside-{uuid4().hex[:8]}"
    item, message_id = outbox_item(case_id)
    relay_ran_during_write: list[bool] = []

    def writer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        cases.put_item(TableName=runtime.resources["CasesTable"], Item=item)
        relay_ran_during_write.append(published(outbound, message_id) > 0)
        return {}

    monkeypatch.setitem(runtime._handlers, "SweeperFunction", writer)
    runtime.invoke("SweeperFunction", {})

    assert relay_ran_during_write == [False]
    assert published(outbound, message_id) == 1
