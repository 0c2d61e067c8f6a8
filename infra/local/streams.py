"""DynamoDB stream records delivered to Lambda, as an event source mapping does it in AWS.

moto 5.2.5 sends every stream record to every mapped function from inside the write that made
it (the handler that wrote is still running), ignores the mapping's filter, batch size, retries
and on-failure destination, and drops the records whatever the function answered. Here a write
only queues its record (records of a cancelled transaction never queue); ``drain()`` delivers:

- only records that match one of the mapping's filters (the others are skipped, as in AWS);
- in sequence order, at most ``BatchSize`` records per invocation;
- a function error retries the batch, split in two first when ``BisectBatchOnFunctionError``;
- with ``ReportBatchItemFailures``, the records before the first reported failure are done and
  the retry starts at it; an item identifier not in the batch fails the whole batch;
- after ``MaximumRetryAttempts`` retries the batch is skipped, and an invocation record in
  AWS's shape goes to the ``OnFailure`` destination (SQS or SNS). AWS's -1 (retry until the
  record expires) retries at most ``UNBOUNDED_RETRIES`` times here: there is no expiry locally.

Records are not kept in moto's shard after queueing (moto itself drops them once sent), so
moto's DynamoDB Streams API reads no records.
"""

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from moto.awslambda.models import EventSourceMapping
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamShard
from moto.events.models import EventPattern
from zerovisit.clock import clock

Invoke = Callable[[str, dict[str, Any]], tuple[Any, bool]]
Send = Callable[[str, dict[str, Any]], None]
UNBOUNDED_RETRIES = 10_000
DELIVERY_WAIT_SECONDS = 120
SHARD_ID = "shardId-00000001541626099285-f35f62ef"


@dataclass
class Mapping:
    function_arn: str
    stream_arn: str
    batch_size: int
    maximum_retries: int
    bisect: bool
    report_failures: bool
    filters: list[EventPattern]
    on_failure: str | None
    pending: deque[dict[str, Any]] = field(default_factory=deque)

    @classmethod
    def of(cls, esm: EventSourceMapping) -> "Mapping":
        retries = esm.max_retry_attempts
        filters = (esm.filter_criteria or {}).get("Filters", [])
        return cls(
            function_arn=esm.function_arn,
            stream_arn=esm.event_source_arn,
            batch_size=esm.batch_size,
            maximum_retries=UNBOUNDED_RETRIES if retries is None or int(retries) < 0 else int(retries),
            bisect=bool(esm.bisect_on_error),
            report_failures="ReportBatchItemFailures" in (esm.function_response_types or []),
            filters=[EventPattern.load(f["Pattern"]) for f in filters],
            on_failure=((esm.destination_config or {}).get("OnFailure") or {}).get("Destination"),
        )

    def wants(self, record: dict[str, Any]) -> bool:
        return not self.filters or any(f.matches_event(record) for f in self.filters)  # type: ignore[arg-type]


@dataclass
class Attempt:
    records: list[dict[str, Any]]
    retries: int = 0


class StreamDelivery:
    def __init__(self, invoke: Invoke, send_on_failure: Send) -> None:
        self._invoke = invoke
        self._send_on_failure = send_on_failure
        self._mappings: dict[str, Mapping] = {}
        self._sequence = itertools.count(1100000000017454423009)
        self._queue_lock = threading.Lock()
        self._delivering = threading.Lock()
        self.transaction_buffer: Callable[[], list[Any] | None] = lambda: None

    # ------------------------------------------------------------------ the write side (moto's seam)
    def record(self, shard: StreamShard, old: Item | None, new: Item | None) -> None:
        """Replaces ``StreamShard.add``: the record, queued for each mapping that wants it."""
        table = shard.table
        mappings = [self._mapping(esm) for esm in table.lambda_event_source_mappings.values()]
        if not mappings or not table.stream_specification:
            return
        record = self._stream_record(shard, mappings[0].stream_arn, old, new)
        wanted = [(mapping, record) for mapping in mappings if mapping.wants(record)]
        buffer = self.transaction_buffer()
        if buffer is not None:
            buffer.extend(wanted)
        else:
            self.enqueue(wanted)

    def enqueue(self, wanted: list[tuple[Mapping, dict[str, Any]]]) -> None:
        with self._queue_lock:
            for mapping, record in wanted:
                mapping.pending.append(record)

    def _mapping(self, esm: EventSourceMapping) -> Mapping:
        with self._queue_lock:
            if esm.uuid not in self._mappings:
                self._mappings[esm.uuid] = Mapping.of(esm)
            return self._mappings[esm.uuid]

    def _stream_record(
        self, shard: StreamShard, stream_arn: str, old: Item | None, new: Item | None
    ) -> dict[str, Any]:
        table = shard.table
        view = table.stream_specification["StreamViewType"]  # type: ignore[index]
        current = new if new is not None else old
        assert current is not None
        keys = {table.hash_key_attr: current.hash_key.to_json()}
        if table.range_key_attr is not None:
            keys[table.range_key_attr] = current.range_key.to_json()  # type: ignore[union-attr]
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": int(clock.now().timestamp()),
            "Keys": keys,
            "SequenceNumber": str(next(self._sequence)),
            "StreamViewType": view,
        }
        if view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES") and new is not None:
            dynamodb["NewImage"] = new.to_json()["Attributes"]
        if view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES") and old is not None:
            dynamodb["OldImage"] = old.to_json()["Attributes"]
        dynamodb["SizeBytes"] = len(json.dumps(dynamodb).encode())
        return {
            "eventID": uuid4().hex,
            "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": table.region_name,
            "dynamodb": dynamodb,
            "eventSourceARN": stream_arn,
        }

    # ------------------------------------------------------------------ the delivery side
    def pending(self) -> int:
        with self._queue_lock:
            return sum(len(m.pending) for m in self._mappings.values())

    def discard(self) -> int:
        """Drop every queued record, undelivered (a bench measuring a writer without its readers);
        returns how many there were."""
        with self._queue_lock:
            dropped = sum(len(m.pending) for m in self._mappings.values())
            for mapping in self._mappings.values():
                mapping.pending.clear()
        return dropped

    def drain(self, wait: bool = False) -> int:
        """Deliver every queued record; returns the invocations made. A function's thread that
        finds another delivering leaves its records to it (one poller per shard, as in AWS); with
        ``wait`` (a test or an operator, outside any function) it waits for that delivery to end,
        so that when it returns every record queued before the call has been delivered."""
        invocations = 0
        while wait or self.pending():
            if not self._delivering.acquire(timeout=DELIVERY_WAIT_SECONDS if wait else 0):
                if wait:
                    raise TimeoutError(f"another thread kept the stream for {DELIVERY_WAIT_SECONDS} s")
                return invocations
            wait = False
            try:
                for mapping, batch in self._batches():
                    invocations += self._deliver(mapping, Attempt(batch))
            finally:
                self._delivering.release()
        return invocations

    def _batches(self) -> Iterator[tuple[Mapping, list[dict[str, Any]]]]:
        while True:
            with self._queue_lock:
                mapping = next((m for m in self._mappings.values() if m.pending), None)
                if mapping is None:
                    return
                size = min(mapping.batch_size, len(mapping.pending))
                batch = [mapping.pending.popleft() for _ in range(size)]
            yield mapping, batch

    def _deliver(self, mapping: Mapping, first: Attempt) -> int:
        attempts = deque([first])
        invocations = 0
        while attempts:
            attempt = attempts.popleft()
            payload, function_error = self._invoke(mapping.function_arn, {"Records": attempt.records})
            invocations += 1
            failed_from = None if function_error else self._first_failure(mapping, attempt, payload)
            if not function_error and failed_from is None:
                continue
            retries = attempt.retries + 1
            if retries > mapping.maximum_retries:
                self._give_up(mapping, attempt, retries, function_error)
                continue
            if failed_from is not None:
                attempts.appendleft(Attempt(attempt.records[failed_from:], retries))
            elif mapping.bisect and len(attempt.records) > 1:
                half = len(attempt.records) // 2
                attempts.appendleft(Attempt(attempt.records[half:], retries))
                attempts.appendleft(Attempt(attempt.records[:half], retries))
            else:
                attempts.appendleft(Attempt(attempt.records, retries))
        return invocations

    @staticmethod
    def _first_failure(mapping: Mapping, attempt: Attempt, payload: Any) -> int | None:
        """Index of the first record to retry from a partial batch response, None when all succeeded."""
        if not mapping.report_failures or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures") or []
        sequence = [r["dynamodb"]["SequenceNumber"] for r in attempt.records]
        reported = [f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures]
        if not reported:
            return None
        if any(identifier not in sequence for identifier in reported):
            return 0  # an empty, null or unknown identifier: the whole batch failed
        return min(sequence.index(identifier) for identifier in reported)

    def _give_up(self, mapping: Mapping, attempt: Attempt, invokes: int, function_error: bool) -> None:
        if mapping.on_failure is None:
            return
        first, last = attempt.records[0], attempt.records[-1]
        response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if function_error:
            response["functionError"] = "Unhandled"
        self._send_on_failure(
            mapping.on_failure,
            {
                "requestContext": {
                    "requestId": str(uuid4()),
                    "functionArn": mapping.function_arn,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": invokes,
                },
                "responseContext": response,
                "version": "1.0",
                "timestamp": clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
                "DDBStreamBatchInfo": {
                    "shardId": SHARD_ID,
                    "startSequenceNumber": first["dynamodb"]["SequenceNumber"],
                    "endSequenceNumber": last["dynamodb"]["SequenceNumber"],
                    "approximateArrivalOfFirstRecord": _arrival(first),
                    "approximateArrivalOfLastRecord": _arrival(last),
                    "batchSize": len(attempt.records),
                    "streamArn": mapping.stream_arn,
                },
            },
        )


def _arrival(record: dict[str, Any]) -> str:
    moment = datetime.fromtimestamp(record["dynamodb"]["ApproximateCreationDateTime"], UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
