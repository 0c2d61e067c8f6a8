"""moto's DynamoDB made to hold a load run and concurrent callers, with its semantics kept.

- A transaction's rollback backup holds the items it touches, not a deep copy of every table
  it names (moto 5.2.5 copies whole tables on every TransactWriteItems: time and memory grow
  with the data).
- moto's instance tracker (kept for its server's dashboard) does not keep every item version
  ever written.
- A base-table query reads its partition, not every item of the table; an index query reads
  the table without sorting it first.
- Each DynamoDB request runs whole under one lock, as one request is atomic in DynamoDB: a
  condition and the write it guards are never split by another thread's request.
- A TransactWriteItems with a ClientRequestToken is idempotent for ten minutes, as in DynamoDB:
  the same token with the same items succeeds again without writing (an SDK retry after a lost
  reply), with other items it is refused (moto 5.2.5 ignores the token and writes again).
"""

import copy
import hashlib
import inspect
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

Key = tuple[str, DynamoType, DynamoType | None]


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
            if table.hash_key_attr not in attributes:
                continue
            range_value = None
            if table.range_key_attr is not None:
                if table.range_key_attr not in attributes:
                    continue
                range_value = DynamoType(attributes[table.range_key_attr])
            keys.append((table.name, DynamoType(attributes[table.hash_key_attr]), range_value))
    return keys


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

    def __init__(self, original: Callable[..., None], on_commit: Callable[[list[Any]], None]) -> None:
        self._original = original
        self._on_commit = on_commit
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
            raise
        else:
            self._on_commit(self._local.records)
        finally:
            self._local.records = None


class PartitionQuery:
    """moto's query walks ``all_items()``, the whole table sorted, and keeps the items that match:
    for the duration of a query, on this thread, ``all_items`` gives a base-table query its own
    partition, and an index query the table unsorted (moto sorts what matches afterwards)."""

    def __init__(self, query: Callable[..., Any], all_items: Callable[[Table], list[Item]]) -> None:
        self._query = query
        self._signature = inspect.signature(query)
        self._all_items = all_items
        self._local = threading.local()

    def query(self, table: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        arguments = self._signature.bind(table, hash_key, *args, **kwargs).arguments
        index_query = bool(arguments.get("index_name")) or hash_key is None
        self._local.scope = (table, None if index_query else hash_key)
        try:
            return self._query(table, hash_key, *args, **kwargs)
        finally:
            self._local.scope = None

    def all_items(self, table: Table) -> list[Item]:
        scope = getattr(self._local, "scope", None)
        if scope is None or scope[0] is not table:
            return self._all_items(table)
        hash_key = scope[1]
        if hash_key is None:
            return _unsorted(table, table.items.values())
        stored = table.items.get(hash_key)
        if stored is None:
            return []
        if table.range_key_attr is None:
            return [stored]
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
