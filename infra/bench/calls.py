"""What the product asks of AWS: its API calls by service and operation, and the DynamoDB capacity
they would consume on demand.

The meter wraps botocore's ``BaseClient._make_api_call``, which every boto3 and pynamodb call goes
through, and counts a call only while a function's handler runs (inside ``LocalRuntime.invoke``) and
not while the runtime delivers an EventBridge event for AWS (``LocalRuntime._deliver``). So the partner
simulator, the bench, moto's interpreter and the runtime's own plumbing are never counted; the API
handler the simulator calls is.

DynamoDB units are estimated, not read from ``ConsumedCapacity`` (storage does not ask for it, and
moto's figure is a placeholder). The estimate follows DynamoDB's on-demand billing rules, from the
sizes of the items in moto's tables just before and after each call:

- a read: one unit per 4 KB of the full item (a Query: of all items read, summed, then rounded up),
  half a unit when eventually consistent; a transactional read two units per 4 KB;
- a write: one unit per 1 KB of the larger of the item before and after; a transactional write (and a
  transaction's condition check) two units per 1 KB;
- each global secondary index whose entry the write changes: one unit per 1 KB of the projected
  entry, two writes (delete and put) when the entry's index key changes, none when the entry (its
  keys and projected attributes) is the same after as before;
- reading the table's stream from Lambda is free (Lambda reads it; no GetRecords charge).
"""

import json
import math
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table
from moto.dynamodb.models.utilities import bytesize

from infra.local.runtime import REGION, LocalRuntime

READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
WRITES = ("PutItem", "UpdateItem", "DeleteItem")


@dataclass
class Usage:
    """What one stretch of the run (a case, usually) asked of AWS."""

    calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    read_units_by_operation: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    write_units_by_operation: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    events_put: int = 0
    task_outputs: dict[str, Any] = field(default_factory=dict)
    write_units_by_index: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    # (function, milliseconds of its own, the functions it set off by publishing excluded)
    handler_ms: list[tuple[str, float]] = field(default_factory=list)

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def by_service(self) -> dict[str, dict[str, int]]:
        services: dict[str, dict[str, int]] = {}
        for (service, operation), count in sorted(self.calls.items()):
            services.setdefault(service, {})[operation] = count
        return services

    def gb_seconds(self, memory_mb: dict[str, int]) -> float:
        """Lambda's billed GB-seconds: each invocation's own time rounded up to the millisecond."""
        return sum(math.ceil(ms) / 1000 * memory_mb.get(name, 128) / 1024 for name, ms in self.handler_ms)

    def as_json(self) -> dict[str, Any]:
        return {
            "calls_total": self.total_calls,
            "calls": self.by_service(),
            "dynamodb_read_units": round(self.read_units, 2),
            "dynamodb_write_units": round(self.write_units, 2),
            "dynamodb_read_units_by_operation": {
                k: round(v, 2) for k, v in self.read_units_by_operation.items()
            },
            "dynamodb_write_units_by_operation": {
                k: round(v, 2) for k, v in self.write_units_by_operation.items()
            },
            "dynamodb_write_units_by_index": {k: round(v, 2) for k, v in self.write_units_by_index.items()},
            "events_put": self.events_put,
            "kms_signs": self.calls[("KMS", "Sign")],
        }


class CallMeter:
    """Counts the product's AWS calls into the current Usage; see the module's docstring."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.usage = Usage()
        self._local = threading.local()
        self._original_call: Callable[..., Any] = BaseClient._make_api_call  # type: ignore[attr-defined]
        self._original_invoke = runtime.invoke
        self._original_deliver = runtime._deliver

    # ---------------------------------------------------------------- installing
    def install(self) -> "CallMeter":
        meter = self

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            if not meter._product():
                return meter._original_call(client, operation, params)
            return meter._metered(client, operation, params)

        def invoke(function_name: str, event: Any) -> tuple[Any, bool]:
            with meter._scope(product=True), meter._timed(function_name):
                return meter._original_invoke(function_name, event)

        def deliver(target: dict[str, Any], event: dict[str, Any]) -> None:
            with meter._scope(product=False):
                meter._original_deliver(target, event)

        BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]
        self.runtime.invoke = invoke  # type: ignore[method-assign]
        self.runtime._deliver = deliver  # type: ignore[method-assign]
        return self

    def uninstall(self) -> None:
        BaseClient._make_api_call = self._original_call  # type: ignore[attr-defined]
        self.runtime.invoke = self._original_invoke  # type: ignore[method-assign]
        self.runtime._deliver = self._original_deliver  # type: ignore[method-assign]

    @contextmanager
    def window(self) -> Iterator[Usage]:
        """Count into a fresh Usage while inside; the meter's running total goes on after."""
        outer, self.usage = self.usage, Usage()
        try:
            yield self.usage
        finally:
            inner, self.usage = self.usage, outer
            _add(outer, inner)

    def _product(self) -> bool:
        return bool(getattr(self._local, "product", False))

    @contextmanager
    def _scope(self, product: bool) -> Iterator[None]:
        before = self._product()
        self._local.product = product
        try:
            yield
        finally:
            self._local.product = before

    @contextmanager
    def _timed(self, function_name: str) -> Iterator[None]:
        """The invocation's own wall time: what the invocations it set off took is not its own."""
        nested: list[float] = getattr(self._local, "nested", [])
        self._local.nested = nested
        nested.append(0.0)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            own = elapsed - nested.pop()
            if nested:
                nested[-1] += elapsed
            name = function_name.split(":")[-1]
            self.usage.handler_ms.append((self.runtime_logical(name), own))

    def runtime_logical(self, physical: str) -> str:
        return next(
            (logical for logical, name in self.runtime.resources.items() if name == physical), physical
        )

    # ---------------------------------------------------------------- counting
    def _metered(self, client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_id
        self.usage.calls[(str(service), operation)] += 1
        if service == "EventBridge" and operation == "PutEvents":
            self.usage.events_put += len(params.get("Entries", []))
        if service == "SFN" and operation == "SendTaskSuccess":
            self.usage.task_outputs[params["taskToken"]] = params.get("output")
        if service != "DynamoDB":
            return self._original_call(client, operation, params)
        before = self._write_targets(operation, params)
        sizes_before = {key: self._entry_sizes(table, key) for key, table in before}
        response = self._original_call(client, operation, params)
        self._charge(operation, params, response, sizes_before)
        return response

    def _charge(
        self,
        operation: str,
        params: dict[str, Any],
        response: dict[str, Any],
        sizes_before: dict[str, "Entry"],
    ) -> None:
        reads = writes = 0.0
        if operation == "GetItem":
            item = self._item(params["TableName"], params["Key"])
            reads = _read_units(item.size() if item else 0, params.get("ConsistentRead", False))
        elif operation in ("Query", "Scan"):
            reads = self._query_units(params, response)
        elif operation == "TransactGetItems":
            for entry in params["TransactItems"]:
                get = entry["Get"]
                item = self._item(get["TableName"], get["Key"])
                reads += 2 * _read_units(item.size() if item else 0, consistent=True)
        elif operation == "BatchGetItem":
            for table_name, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    item = self._item(table_name, key)
                    reads += _read_units(item.size() if item else 0, request.get("ConsistentRead", False))
        else:
            for key, table in self._write_targets(operation, params):
                before = sizes_before.get(key, Entry(0, {}))
                after = self._entry_sizes(table, key)
                factor = 2 if operation == "TransactWriteItems" else 1
                if key.startswith("check:"):
                    writes += factor * _write_units(before.item)
                    continue
                writes += factor * _write_units(max(before.item, after.item))
                for index, units in _index_units(before, after).items():
                    writes += factor * units
                    self.usage.write_units_by_index[index] += factor * units
        if reads:
            self.usage.read_units += reads
            self.usage.read_units_by_operation[operation] += reads
        if writes:
            self.usage.write_units += writes
            self.usage.write_units_by_operation[operation] += writes

    # ---------------------------------------------------------------- moto's tables
    def _backend(self) -> DynamoDBBackend:
        return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]

    def _table(self, name: str) -> Table:
        return self._backend().get_table(name)

    def _item(self, table_name: str, key: dict[str, Any]) -> Item | None:
        return self._backend().get_item(table_name, key)

    def _write_targets(self, operation: str, params: dict[str, Any]) -> list[tuple[str, Table]]:
        """The items a write touches, as (a key string, its table); condition checks marked."""
        targets: list[tuple[str, Table]] = []

        def add(request: dict[str, Any], prefix: str = "") -> None:
            table = self._table(request["TableName"])
            key = request.get("Key") or _key_of(table, request["Item"])
            targets.append((prefix + _key_text(request["TableName"], key), table))

        if operation in WRITES:
            add(params)
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                [(kind, request)] = entry.items()
                add(request, "check:" if kind == "ConditionCheck" else "")
        elif operation == "BatchWriteItem":
            for table_name, requests in params["RequestItems"].items():
                for request in requests:
                    [(kind, body)] = request.items()
                    key = body.get("Key") if kind == "DeleteRequest" else None
                    table = self._table(table_name)
                    targets.append((_key_text(table_name, key or _key_of(table, body["Item"])), table))
        return targets

    def _entry_sizes(self, table: Table, key_text: str) -> "Entry":
        key = _key_from_text(key_text.removeprefix("check:"))
        item = self._backend().get_item(table.name, key)
        if item is None:
            return Entry(0, {})
        indexes: dict[str, tuple[Any, int, str]] = {}
        for index in table.global_indexes:
            if all(name in item.attrs for name in index.schema_key_attrs):
                index_key = tuple(str(item.attrs[name].to_json()) for name in index.schema_key_attrs)
                projected = index.project(item)
                content = json.dumps(projected.to_json(), sort_keys=True, default=str)
                indexes[index.name] = (index_key, projected.size(), content)
        return Entry(item.size(), indexes)

    def _query_units(self, params: dict[str, Any], response: dict[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead", False))
        items = response.get("Items", [])
        if params.get("IndexName"):
            size = sum(_wire_size(item) for item in items)
        else:
            table = self._table(params["TableName"])
            found = (self._item(params["TableName"], _key_of(table, item)) for item in items)
            size = sum(item.size() for item in found if item is not None)
        return _read_units(size, consistent)


@dataclass(frozen=True)
class Entry:
    """An item's size and, per global secondary index it appears in: its index key, entry size, content."""

    item: int
    indexes: dict[str, tuple[Any, int, str]]


def _read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def _write_units(size: int) -> float:
    return float(max(1, math.ceil(size / WRITE_UNIT_BYTES)))


def _index_units(before: Entry, after: Entry) -> dict[str, float]:
    units: dict[str, float] = {}
    for name in before.indexes.keys() | after.indexes.keys():
        old, new = before.indexes.get(name), after.indexes.get(name)
        if old == new:
            continue  # the entry is unchanged: DynamoDB writes nothing to the index
        if old and new and old[0] == new[0]:
            units[name] = _write_units(max(old[1], new[1]))
        else:
            units[name] = sum(_write_units(entry[1]) for entry in (old, new) if entry)
    return units


def _wire_size(item: dict[str, Any]) -> int:
    return sum(bytesize(name) + DynamoType(value).size() for name, value in item.items())


def _key_of(table: Table, item: dict[str, Any]) -> dict[str, Any]:
    names = [table.hash_key_attr] + ([table.range_key_attr] if table.range_key_attr else [])
    return {name: item[name] for name in names}


def _key_text(table_name: str, key: dict[str, Any]) -> str:
    parts = [table_name] + [
        f"{name}\x1f{kind}\x1f{value}" for name, typed in sorted(key.items()) for kind, value in typed.items()
    ]
    return "\x1e".join(parts)


def _key_from_text(text: str) -> dict[str, Any]:
    _, *parts = text.split("\x1e")
    key: dict[str, Any] = {}
    for part in parts:
        name, kind, value = part.split("\x1f")
        key[name] = {kind: value}
    return key


def _add(total: Usage, part: Usage) -> None:
    total.calls.update(part.calls)
    total.read_units += part.read_units
    total.write_units += part.write_units
    for operation, units in part.read_units_by_operation.items():
        total.read_units_by_operation[operation] += units
    for operation, units in part.write_units_by_operation.items():
        total.write_units_by_operation[operation] += units
    for index, units in part.write_units_by_index.items():
        total.write_units_by_index[index] += units
    total.events_put += part.events_put
    total.task_outputs.update(part.task_outputs)
    total.handler_ms.extend(part.handler_ms)
