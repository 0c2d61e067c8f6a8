"""Time and memory per DynamoDB transaction and query on moto, with and without the local runtime's
DynamoDB seams, for tables of growing size. Prints figures; asserts nothing. The first index query on
a table is shown apart: with the seams, it builds the map of the index's partitions from the items
put straight into moto's table.

    .venv/bin/python -m infra.bench.dynamodb_growth [--sizes 0 10000 50000] [--transactions 20]
        [--moto-as-shipped]
"""

import argparse
import os
import time
from typing import Any

import boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from infra.local.runtime import REGION, LocalRuntime


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def fill(table_name: str, count: int) -> None:
    """Items put straight into moto's table: the figures are about what follows, not the filling. Every
    tenth item is in the index, ten to an index partition, whatever the size of the table."""
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(table_name)
    for n in range(count):
        table.put_item(
            {
                "pk": {"S": f"CASE#{n // 10}"},
                "sk": {"S": f"ITEM#{n % 10}"},
                "kind": {"S": "case"},
                **({"shard": {"S": f"SHARD#{n // 100}"}} if n % 10 == 0 else {}),
                "body": {"S": "x" * 300},
            }
        )


def measure(size: int, transactions: int) -> dict[str, float]:
    client: Any = boto3.client("dynamodb", region_name=REGION)
    name = f"growth-{size}"
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
            {"AttributeName": "shard", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByShard",
                "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
    )
    fill(name, size)
    rss_before = rss_mb()
    started = time.perf_counter()
    for n in range(transactions):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": name, "Item": {"pk": {"S": f"NEW#{n}"}, "sk": {"S": sk}}}}
                for sk in ("CASE", "OUTBOX#1")
            ]
        )
    per_transaction = (time.perf_counter() - started) / transactions
    rss_after = rss_mb()
    started = time.perf_counter()
    for n in range(transactions):
        client.query(
            TableName=name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"CASE#{n}"}},
        )
    per_query = (time.perf_counter() - started) / transactions
    started = time.perf_counter()
    client.query(
        TableName=name,
        IndexName="ByShard",
        KeyConditionExpression="shard = :shard",
        ExpressionAttributeValues={":shard": {"S": "SHARD#0"}},
    )
    first_index_query = time.perf_counter() - started
    started = time.perf_counter()
    for n in range(transactions):
        client.query(
            TableName=name,
            IndexName="ByShard",
            KeyConditionExpression="shard = :shard",
            ExpressionAttributeValues={":shard": {"S": f"SHARD#{n}"}},
        )
    per_index_query = (time.perf_counter() - started) / transactions
    client.delete_table(TableName=name)
    return {
        "transaction_ms": per_transaction * 1000,
        "query_ms": per_query * 1000,
        "index_query_ms": per_index_query * 1000,
        "first_index_query_ms": first_index_query * 1000,
        "rss_growth_mb": rss_after - rss_before,
        "rss_mb": rss_after,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 10_000, 50_000])
    parser.add_argument("--transactions", type=int, default=20)
    parser.add_argument("--moto-as-shipped", action="store_true", help="without the runtime's seams")
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"})
    runtime = LocalRuntime()
    with mock_aws():
        if not args.moto_as_shipped:
            runtime._patch_moto()
        try:
            label = "moto as shipped" if args.moto_as_shipped else "with the runtime's seams"
            print(f"{label}, {args.transactions} each of transactions (two puts), queries, index queries")
            for size in args.sizes:
                figures = measure(size, args.transactions)
                print(
                    f"  {size:>6} items: {figures['transaction_ms']:8.1f} ms per transaction, "
                    f"{figures['query_ms']:7.1f} ms per query, "
                    f"{figures['index_query_ms']:7.1f} ms per index query "
                    f"(the first {figures['first_index_query_ms']:.1f} ms), "
                    f"RSS +{figures['rss_growth_mb']:.0f} MB "
                    f"(now {figures['rss_mb']:.0f} MB)"
                )
        finally:
            runtime._unpatch_moto()


if __name__ == "__main__":
    main()
