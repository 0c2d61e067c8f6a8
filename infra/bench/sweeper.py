"""How much the sweep reads to find due work: the DueAlarms index against a table scan.

Loads N open case index items into moto's DynamoDB, changed as the local runtime changes it (K of
them due), runs ``cases.due_items(now)`` and counts what its index queries read, from DynamoDB's
own responses (``Count``, ``ScannedCount``). Prints figures only; it asserts nothing. From the
project root:

    .venv/bin/python -m infra.bench.sweeper [--open N] [--due K]
"""

import argparse
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import boto3
from moto import mock_aws
from pynamodb.connection.base import Connection
from zerovisit.clock import CHINA
from zerovisit.config import Settings
from zerovisit.storage import cases
from zerovisit.storage.tables import CaseTableItem, DueAlarms, bind_tables

from infra.local.runtime import LocalRuntime
from infra.local.template import load_template

REGION = "us-east-1"
CASES_TABLE = "bench-cases"
NOW = datetime(2026, 9, 30, 9, 0, tzinfo=CHINA)
PROGRESS_EVERY = 10_000
# DynamoDB's read unit: 4 KB of data read by one query, halved for eventually consistent reads.
READ_UNIT_BYTES = 4096
EVENTUAL_READ_UNIT = 0.5
# The parts of a CloudFormation AWS::DynamoDB::Table that CreateTable takes in the same shape.
_CREATE_TABLE_KEYS = (
    "AttributeDefinitions",
    "KeySchema",
    "BillingMode",
    "ProvisionedThroughput",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
)


@cache
def _template() -> dict[str, Any]:
    return load_template()


def create_table(logical_id: str, table_name: str, region: str = REGION) -> None:
    """Create ``table_name`` (in moto, inside ``mock_aws``) as template.yaml declares ``logical_id``:
    its attribute definitions, keys, billing mode and indexes, read from the template itself."""
    resource = _template()["Resources"][logical_id]
    if resource["Type"] != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} is a {resource['Type']}, not a DynamoDB table")
    properties = resource["Properties"]
    request = {key: properties[key] for key in _CREATE_TABLE_KEYS if key in properties}
    boto3.client("dynamodb", region_name=region).create_table(TableName=table_name, **request)


def bench_settings(cases_table: str = CASES_TABLE) -> Settings:
    return Settings(
        cases_table=cases_table,
        catalog_table="bench-catalog",
        certificates_table="bench-certificates",
        event_bus_name="bench-bus",
        certificate_key_id="00000000-0000-0000-0000-000000000000",
        partner_secret_prefix="bench/partners/",  # noqa: S106 - a name prefix, no secret
        state_machine_arn=None,
    )


def due_indices(open_items: int, due: int) -> set[int]:
    """K item numbers spread evenly over the N items."""
    return {i * open_items // due for i in range(due)} if due else set()


def case_item(number: int, alarm: datetime) -> CaseTableItem:
    """An open case's item as the index sees it (keys, kind and alarm moment; no case body)."""
    case_id = f"bench-{number:07d}"
    return CaseTableItem(
        cases.case_pk(case_id),
        cases.CASE_SK,
        kind="case",
        body="{}",
        alarm_shard=cases.alarm_shard(case_id),
        next_alarm_at=cases.moment_key(alarm),
    )


def load_items(open_items: int, due: set[int], now: datetime) -> None:
    print(f"== loading {open_items} open case items ({len(due)} due) with pynamodb batch writes")
    started = time.perf_counter()
    with CaseTableItem.batch_write() as batch:
        for number in range(open_items):
            if number in due:
                alarm = now - timedelta(minutes=1 + number % 10_000)
            else:
                alarm = now + timedelta(hours=1, seconds=number)
            batch.save(case_item(number, alarm))
            if (number + 1) % PROGRESS_EVERY == 0:
                print(f"  {number + 1:>9} items  {time.perf_counter() - started:7.1f} s", flush=True)
    print(f"  loaded {open_items} items in {time.perf_counter() - started:.1f} s")


def _item_bytes(item: dict[str, Any]) -> int:
    """DynamoDB's size of an item of string attributes: names and values in UTF-8."""
    size = 0
    for name, value in item.items():
        [(kind, text)] = value.items()
        if kind != "S":
            raise ValueError(f"{name}: only string attributes are expected, not {kind}")
        size += len(name.encode()) + len(str(text).encode())
    return size


@dataclass
class QueryPage:
    shard: str
    count: int
    scanned: int
    bytes_returned: int
    more: bool


@dataclass
class QueryLog:
    pages: list[QueryPage] = field(default_factory=list)
    other_queries: int = 0


@contextmanager
def recorded_index_queries() -> Iterator[QueryLog]:
    """Record DynamoDB's response to every DueAlarms query pynamodb sends while inside."""
    log = QueryLog()
    original = Connection.query

    def query(self: Connection, table_name: str, hash_key: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        response: dict[str, Any] = original(self, table_name, hash_key, *args, **kwargs)
        if kwargs.get("index_name") != DueAlarms.Meta.index_name:
            log.other_queries += 1
            return response
        log.pages.append(
            QueryPage(
                shard=hash_key,
                count=int(response["Count"]),
                scanned=int(response["ScannedCount"]),
                bytes_returned=sum(_item_bytes(item) for item in response.get("Items", [])),
                more="LastEvaluatedKey" in response,
            )
        )
        return response

    Connection.query = query  # type: ignore[method-assign]
    try:
        yield log
    finally:
        Connection.query = original  # type: ignore[method-assign]


def bench_sweep(open_items: int, due: int, now: datetime) -> None:
    print(f"== finding due work: cases.due_items({now.isoformat()})")
    started = time.perf_counter()
    list(cases.due_items(now))
    first = time.perf_counter() - started
    with recorded_index_queries() as log:
        started = time.perf_counter()
        found = list(cases.due_items(now))
        elapsed = time.perf_counter() - started
    print("  counted from DynamoDB's Query responses (Count, ScannedCount) of every DueAlarms page,")
    print("  recorded around pynamodb's Connection.query while the real due_items ran")
    print(f"  open items:     {open_items}")
    print(f"  due items:      {due}")
    print(f"  items yielded:  {len(found)}")
    print(f"  {'shard':<9} {'queries':>7} {'Count':>7} {'ScannedCount':>12} {'est. RCU':>9}")
    shards = sorted({page.shard for page in log.pages}, key=lambda s: int(s.removeprefix("ALARM#")))
    total_units = 0.0
    for shard in shards:
        pages = [page for page in log.pages if page.shard == shard]
        units = sum(_read_units(page.bytes_returned) for page in pages)
        total_units += units
        print(
            f"  {shard:<9} {len(pages):>7} {sum(p.count for p in pages):>7} "
            f"{sum(p.scanned for p in pages):>12} {units:>9.1f}"
        )
    scanned = sum(page.scanned for page in log.pages)
    print(
        f"  {'total':<9} {len(log.pages):>7} {sum(p.count for p in log.pages):>7} "
        f"{scanned:>12} {total_units:>9.1f}"
    )
    print(f"  items read (ScannedCount, total): {scanned}")
    print(
        f"  queries made:   {len(log.pages)} (shards {cases.ALARM_SHARDS}, pages with more: "
        f"{sum(p.more for p in log.pages)}; other queries: {log.other_queries})"
    )
    print(f"  sweep query wall time: {elapsed * 1000:.1f} ms (the first sweep: {first * 1000:.1f} ms)")
    print(
        "  (est. RCU: DynamoDB's rate, 0.5 per 4 KB per eventually consistent query, from the sizes of"
        " the returned index entries; moto's own ConsumedCapacity is a fixed placeholder, not used."
    )
    print(
        "   Wall time is the local runtime's. It seeks each index query's range in the index partition,"
        " as DynamoDB reads only the index range; the first sweep also builds the map of the index's"
        " partitions from the items loaded before it. moto as shipped walks and sorts the whole table"
        " for every index query.)"
    )
    print("== for contrast: a table scan")
    scan = measured_scan()
    item_bytes = _item_bytes(case_item(0, now).serialize())
    print(f"  items a Scan would read: {open_items} (every open case, due or not)")
    print(f"  measured: Scan (Select=COUNT) of the table, {scan.pages} page(s), ScannedCount {scan.scanned}")
    print(
        f"  est. RCU of that scan: {_read_units(item_bytes * open_items):.1f}"
        f" ({item_bytes} bytes per item as written here; real case items carry their body and weigh more)"
    )
    if len(found) != due:
        print(f"  WARNING: {len(found)} items yielded, {due} expected")


@dataclass(frozen=True)
class ScanFigures:
    pages: int
    scanned: int


def measured_scan(table_name: str = CASES_TABLE) -> ScanFigures:
    client = boto3.client("dynamodb", region_name=REGION)
    pages = scanned = 0
    for page in client.get_paginator("scan").paginate(TableName=table_name, Select="COUNT"):
        pages += 1
        scanned += int(page["ScannedCount"])
    return ScanFigures(pages, scanned)


def _read_units(bytes_read: int) -> float:
    return max(1, math.ceil(bytes_read / READ_UNIT_BYTES)) * EVENTUAL_READ_UNIT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open", type=int, default=100_000, help="open case items (default 100000)")
    parser.add_argument("--due", type=int, default=100, help="of them due now (default 100)")
    args = parser.parse_args(argv)
    if args.open < 1 or not 0 <= args.due <= args.open:
        parser.error("--open must be at least 1 and --due between 0 and --open")

    os.environ["AWS_DEFAULT_REGION"] = REGION
    runtime = LocalRuntime()
    with mock_aws():
        runtime._patch_moto()
        try:
            create_table("CasesTable", CASES_TABLE)
            bind_tables(bench_settings())
            load_items(args.open, due_indices(args.open, args.due), NOW)
            bench_sweep(args.open, args.due, NOW)
        finally:
            runtime._unpatch_moto()
    return 0


if __name__ == "__main__":
    sys.exit(main())
