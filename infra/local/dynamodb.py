"""moto's DynamoDB made to hold a load run and concurrent callers, with its semantics kept.

- A transaction's rollback backup holds the items it touches, not a deep copy of every table
  it names (moto 5.2.5 copies whole tables on every TransactWriteItems: time and memory grow
  with the data).
- moto's instance tracker (kept for its server's dashboard) does not keep every item version
  ever written.
- A base-table query reads its partition, not every item of the table. A global index query reads
  the range it asks for in its partition of the index, from a map kept in range-key order as items
  are written; moto walks and sorts every item of the table for it.
- Each DynamoDB request runs whole under one lock, as one request is atomic in DynamoDB: a
  condition and the write it guards are never split by another thread's request.
- An item's attribute values are written into a response directly, not walked member by member
  against the service model, which was a fifth of a case's time on the local runtime.
- A TransactWriteItems with a ClientRequestToken is idempotent for ten minutes, as in DynamoDB:
  the same token with the same items succeeds again without writing (an SDK retry after a lost
  reply), with other items it is refused (moto 5.2.5 ignores the token and writes again).
"""

import base64
import bisect
import copy
import hashlib
import inspect
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table

Key = tuple[str, DynamoType, DynamoType | None]
ItemKey = tuple[DynamoType, DynamoType | None]


class TableKeepingCopy:
    """Stands in for the ``copy`` module in moto's DynamoDB backend: a "copy" of a table is the
    table itself, so moto's whole-table backup and restore cost nothing; the transaction seam
    below keeps the real backup, of the touched items only."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


class UntrackedInstances(list[Any]):
    """An ``instances_tracked`` list that keeps nothing."""

    def append(self, instance: Any) -> None:
        pass


def touched_keys(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> list[Key]:
    keys: list[Key] = []
    for entry in transact_items:
        for operation in entry.values():
            table = backend.tables.get(operation.get("TableName", ""))
            if table is None:
                continue
            attributes = operation["Item"] if "Item" in operation else operation.get("Key", {})
            item_key = _item_key(table, attributes)
            if item_key is not None:
                keys.append((table.name, *item_key))
    return keys


def _item_key(table: Table, attributes: dict[str, Any]) -> ItemKey | None:
    if table.hash_key_attr not in attributes:
        return None
    range_value = None
    if table.range_key_attr is not None:
        if table.range_key_attr not in attributes:
            return None
        range_value = DynamoType(attributes[table.range_key_attr])
    return DynamoType(attributes[table.hash_key_attr]), range_value


def _restore(backend: DynamoDBBackend, key: Key, before: Item | None) -> None:
    table_name, hash_value, range_value = key
    table = backend.tables[table_name]
    if range_value is None:
        if before is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = before  # type: ignore[assignment]
        return
    partition = table.items[hash_value]
    if before is None:
        partition.pop(range_value, None)
        if not partition:
            del table.items[hash_value]
    else:
        partition[range_value] = before


class Transactions:
    """TransactWriteItems with a backup of the touched items; stream records that a cancelled
    transaction wrote are dropped, those of a committed one released together."""

    def __init__(
        self,
        original: Callable[..., None],
        on_commit: Callable[[list[Any]], None],
        on_restore: Callable[[Table, DynamoType, DynamoType | None], None],
    ) -> None:
        self._original = original
        self._on_commit = on_commit
        self._on_restore = on_restore
        self._local = threading.local()

    def buffer(self) -> list[Any] | None:
        """The stream records of the transaction running on this thread, if one is."""
        return getattr(self._local, "records", None)

    def transact_write_items(self, backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        backup = []
        for key in touched_keys(backend, transact_items):
            table = backend.tables[key[0]]
            backup.append((key, copy.deepcopy(table.get_item(key[1], key[2]))))
        self._local.records = []
        try:
            self._original(backend, transact_items)
        except BaseException:
            for key, before in reversed(backup):
                _restore(backend, key, before)
                self._on_restore(backend.tables[key[0]], key[1], key[2])
            raise
        else:
            self._on_commit(self._local.records)
        finally:
            self._local.records = None


class IndexPartitions:
    """For each table, each global index's partitions: the keys of the items with each value of the
    index's hash key, in the order of its range key. An index query reads the items of its range in
    its partition, as DynamoDB does, instead of moto walking and sorting the whole table.

    Built from the table's items on its first index query, then kept by ``written``, which the
    runtime calls after every change of an item: moto's ``Table.put_item`` and ``delete_item``
    (which every put, delete, batch write and PartiQL statement ends in),
    ``DynamoDBBackend.update_item`` (which changes an item in place), and a cancelled transaction's
    restore. What this gives may hold more than the query asks for, never less: moto still checks
    every condition of the query, and sorts what matches."""

    def __init__(self) -> None:
        self._tables: WeakKeyDictionary[Table, _TableIndexes] = WeakKeyDictionary()

    def items(self, table: Table, index_name: str, hash_value: DynamoType, bounds: "Bounds") -> list[Item]:
        indexes = self._tables.get(table)
        if indexes is None or indexes.schema != _global_index_schema(table):
            indexes = self._tables[table] = _TableIndexes.build(table)
        keys = indexes.keys(index_name, _hash_key_value(hash_value), bounds)
        return [item for key in keys if (item := _stored(table, key)) is not None]

    def written(self, table: Table, hash_value: DynamoType, range_value: DynamoType | None) -> None:
        indexes = self._tables.get(table)
        if indexes is not None:
            indexes.update(table, (hash_value, range_value))

    def kept_by_put(self, put: Callable[..., Item]) -> Callable[..., Item]:
        def put_item(table: Table, *args: Any, **kwargs: Any) -> Item:
            item = put(table, *args, **kwargs)
            self.written(table, item.hash_key, item.range_key)
            return item

        return put_item

    def kept_by_delete(self, delete: Callable[..., Item | None]) -> Callable[..., Item | None]:
        def delete_item(table: Table, hash_key: DynamoType, range_key: DynamoType | None) -> Item | None:
            item = delete(table, hash_key, range_key)
            self.written(table, hash_key, range_key)
            return item

        return delete_item

    def kept_by_update(self, update: Callable[..., Item]) -> Callable[..., Item]:
        """An update changes the item in place, and may fail after changing part of it."""

        def update_item(
            backend: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any
        ) -> Item:
            try:
                return update(backend, table_name, key, *args, **kwargs)
            finally:
                table = backend.tables.get(table_name)
                item_key = _item_key(table, key) if table is not None else None
                if table is not None and item_key is not None:
                    self.written(table, *item_key)

        return update_item


# A place in an index partition: the range key's type and value as moto compares them (its
# ``cast_value``, for strings and numbers), then a number that tells equal range keys apart.
SortValue = tuple[str, Any]
Entry = tuple[SortValue, int, ItemKey]
# The range of sort values a query asks for, each end included; None is open.
Bounds = tuple[tuple[Any, ...] | None, tuple[Any, ...] | None]
EVERYTHING: Bounds = (None, None)
_COMPARABLE = ("S", "N")
_KEY_TYPES = ("S", "N", "B")


# A hash key's value as moto compares it, apart from the item's own DynamoType, which an update may
# change in place.
HashKeyValue = tuple[str, Any]


def _hash_key_value(value: DynamoType) -> HashKeyValue:
    return (value.type, value.cast_value)


def _sort_value(value: DynamoType | None) -> SortValue:
    if value is None:
        return ("", "")
    return (value.type, value.cast_value if value.type in _COMPARABLE else "")


def query_bounds(comparison: str | None, values: list[DynamoType]) -> Bounds:
    """The sort values a range condition can match, or more: never fewer."""
    if not comparison or not values or any(v.type not in _COMPARABLE for v in values):
        return EVERYTHING
    kind = values[0].type
    first, last = ((kind,),), ((kind + "\x00",),)  # below and above every value of the type
    low, high = ((_sort_value(values[0]),), ((_sort_value(values[-1]), math.inf)))
    match comparison.upper():
        case "=" | "EQ" | "BETWEEN":
            return low, high
        case "<" | "LT" | "<=" | "LE":
            return first, high
        case ">" | "GT" | ">=" | "GE" | "BEGINS_WITH":
            return low, last
    return EVERYTHING


class _TableIndexes:
    def __init__(self, schema: tuple[tuple[str, str, str | None], ...]) -> None:
        self.schema = schema
        self.partitions: dict[str, dict[HashKeyValue, list[Entry]]] = {name: {} for name, _, _ in schema}
        self.placed: dict[ItemKey, list[tuple[str, HashKeyValue, Entry]]] = {}
        self._next = 0

    @classmethod
    def build(cls, table: Table) -> "_TableIndexes":
        indexes = cls(_global_index_schema(table))
        for item in _unsorted(table, table.items.values()):
            indexes.add((item.hash_key, item.range_key), item)
        return indexes

    def keys(self, index_name: str, hash_value: HashKeyValue, bounds: Bounds) -> list[ItemKey]:
        """The keys within ``bounds``, and the partition's next key past each end: moto gives a page
        cut by ``Limit`` a LastEvaluatedKey only when another item follows it in what it reads, as
        DynamoDB gives one whenever the limit is reached inside the partition."""
        entries = self.partitions.get(index_name, {}).get(hash_value, [])
        low, high = bounds
        start = 0 if low is None else max(bisect.bisect_left(entries, low) - 1, 0)
        end = len(entries) if high is None else bisect.bisect_right(entries, high) + 1
        return [key for _, _, key in entries[start:end]]

    def update(self, table: Table, key: ItemKey) -> None:
        for name, hash_value, entry in self.placed.pop(key, []):
            entries = self.partitions[name][hash_value]
            del entries[bisect.bisect_left(entries, entry)]
            if not entries:
                del self.partitions[name][hash_value]
        item = _stored(table, key)
        if item is not None:
            self.add(key, item)

    def add(self, key: ItemKey, item: Item) -> None:
        placed = []
        for name, hash_attribute, range_attribute in self.schema:
            hash_value = item.attrs.get(hash_attribute)
            range_value = item.attrs.get(range_attribute) if range_attribute else None
            if hash_value is None or (range_attribute and range_value is None):
                continue  # not in this (sparse) index
            if hash_value.type not in _KEY_TYPES:
                continue  # DynamoDB refuses such an item; moto stores it, and its query skips it
            self._next += 1
            entry = (_sort_value(range_value), self._next, key)
            partition = _hash_key_value(hash_value)
            bisect.insort(self.partitions[name].setdefault(partition, []), entry)
            placed.append((name, partition, entry))
        if placed:
            self.placed[key] = placed


def _global_index_schema(table: Table) -> tuple[tuple[str, str, str | None], ...]:
    return tuple(
        (index.name, _key_attribute(index, "HASH"), _key_attribute(index, "RANGE"))
        for index in table.global_indexes or []
    )


def _key_attribute(index: GlobalSecondaryIndex, kind: str) -> Any:
    return next((str(k["AttributeName"]) for k in index.schema if k["KeyType"] == kind), None)


def _stored(table: Table, key: ItemKey) -> Item | None:
    hash_value, range_value = key
    stored = table.items.get(hash_value)
    if stored is None or range_value is None:
        return stored  # type: ignore[return-value]
    return stored.get(range_value)


class PartitionQuery:
    """moto's query walks ``all_items()``, the whole table sorted, and keeps the items that match:
    for the duration of a query, on this thread, ``all_items`` gives a base-table query its own
    partition, a global index query its range in its partition of the index (``IndexPartitions``),
    and any other index query the table unsorted (moto sorts what matches afterwards)."""

    def __init__(
        self,
        query: Callable[..., Any],
        all_items: Callable[[Table], list[Item]],
        partitions: IndexPartitions,
    ) -> None:
        self._query = query
        self._signature = inspect.signature(query)
        self._all_items = all_items
        self._partitions = partitions
        self._local = threading.local()

    def query(self, table: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        arguments = self._signature.bind(table, hash_key, *args, **kwargs).arguments
        self._local.scope = (table, self._reader(table, hash_key, arguments))
        try:
            return self._query(table, hash_key, *args, **kwargs)
        finally:
            self._local.scope = None

    def _reader(
        self, table: Table, hash_key: DynamoType | None, arguments: dict[str, Any]
    ) -> Callable[[], list[Item]]:
        index_name = arguments.get("index_name")
        if not index_name and hash_key is not None:
            return lambda: _partition(table, hash_key)
        index = next((i for i in table.global_indexes or [] if i.name == index_name), None)
        hash_conditions = dict(arguments.get("hash_key_conditions") or [])
        range_conditions = arguments.get("range_key_conditions") or []
        hash_value = hash_conditions.get(_key_attribute(index, "HASH")) if index is not None else None
        if index is None or hash_value is None or len(hash_conditions) != 1 or len(range_conditions) > 1:
            return lambda: _unsorted(table, table.items.values())
        bounds = query_bounds(arguments.get("range_comparison"), arguments.get("range_objs") or [])
        return lambda: self._partitions.items(table, index.name, hash_value, bounds)

    def all_items(self, table: Table) -> list[Item]:
        scope = getattr(self._local, "scope", None)
        if scope is None or scope[0] is not table:
            return self._all_items(table)
        return scope[1]()  # type: ignore[no-any-return]


def _partition(table: Table, hash_key: DynamoType) -> list[Item]:
    stored = table.items.get(hash_key)
    if stored is None:
        return []
    if table.range_key_attr is None:
        return [stored]  # type: ignore[list-item]
    return sorted(stored.values(), key=lambda item: item.range_key)


def _unsorted(table: Table, partitions: Any) -> list[Item]:
    if table.range_key_attr is None:
        return list(partitions)
    return [item for partition in partitions for item in partition.values()]


class RequestLock:
    """Each DynamoDB request holds the lock for its whole run."""

    def __init__(self, call_action: Callable[[Any], Any]) -> None:
        self._call_action = call_action
        self.lock = threading.RLock()

    def call_action(self, handler: Any) -> Any:
        with self.lock:
            return self._call_action(handler)


class IdempotentParameterMismatch(DynamodbException):
    def __init__(self) -> None:
        super().__init__(
            ERROR_TYPE_PREFIX + "IdempotentParameterMismatchException",
            "Request parameters do not match a previous request with the same client request token",
        )


class IdempotentTransactions:
    """TransactWriteItems as DynamoDB answers a ClientRequestToken: within ``WINDOW_SECONDS`` (real
    time) of the first success, the same token with the same items succeeds without writing again,
    and with other items is refused. Runs inside ``RequestLock``, one request at a time."""

    WINDOW_SECONDS = 600.0

    def __init__(self, transact: Callable[[Any], Any]) -> None:
        self._transact = transact
        self._answered: OrderedDict[str, tuple[str, float, Any]] = OrderedDict()

    def transact_write_items(self, handler: Any) -> Any:
        token = handler.body.get("ClientRequestToken")
        if not token:
            return self._transact(handler)
        items = hashlib.sha256(json.dumps(handler.body["TransactItems"], sort_keys=True).encode()).hexdigest()
        now = time.monotonic()
        while self._answered and next(iter(self._answered.values()))[1] < now - self.WINDOW_SECONDS:
            self._answered.popitem(last=False)
        first = self._answered.get(token)
        if first is not None:
            if first[0] != items:
                raise IdempotentParameterMismatch()
            return first[2]
        result = self._transact(handler)
        self._answered[token] = (items, now, result)
        return result


_STRINGS = ("S", "N")
_STRING_SETS = ("SS", "NS")
_AS_IS = ("NULL", "BOOL")
_DYNAMODB_SERVICES = ("dynamodb", "dynamodbstreams")


def attribute_values_written_directly(serialize_structure: Callable[..., None]) -> Callable[..., None]:
    """moto's JSON serializer walks every AttributeValue through the service model, trying several
    names for each of its ten members. An AttributeValue holds one member, already in its wire form
    but for binaries: this writes it as moto would, and leaves anything else to moto."""

    def _serialize_type_structure(serializer: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if shape.name == "AttributeValue" and serializer.operation_model.service_model.service_name in (
            _DYNAMODB_SERVICES
        ):
            written = _attribute_value(value)
            if written is not None:
                serializer._default_serialize(serialized, written, shape, key)
                return
        serialize_structure(serializer, serialized, value, shape, key)

    return _serialize_type_structure


def _attribute_value(value: Any) -> dict[str, Any] | None:
    """The wire form of one AttributeValue, or None where moto's own walk should decide."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if inner is None:
        return None
    if kind in _STRINGS and isinstance(inner, str):
        return {kind: inner}
    if kind in _AS_IS and isinstance(inner, bool):
        return {kind: inner}
    if kind == "B" and isinstance(inner, bytes):
        return {kind: _base64(inner)}
    if kind in _STRING_SETS and isinstance(inner, list) and all(isinstance(v, str) for v in inner):
        return {kind: list(inner)}
    if kind == "BS" and isinstance(inner, list) and all(isinstance(v, bytes) for v in inner):
        return {kind: [_base64(v) for v in inner]}
    if kind == "M" and isinstance(inner, dict):
        members = {name: _attribute_value(member) for name, member in inner.items()}
        return None if any(m is None for m in members.values()) else {kind: members}
    if kind == "L" and isinstance(inner, list):
        elements = [_attribute_value(element) for element in inner]
        return None if any(e is None for e in elements) else {kind: elements}
    return None


def _base64(value: bytes) -> str:
    return base64.b64encode(value).strip().decode("utf-8")
