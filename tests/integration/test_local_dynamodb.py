"""moto's DynamoDB as the runtime changes it: transactions stay all-or-nothing with a backup of the
touched items only, item versions are not kept by moto's tracker, a query reads its partition, and
a global index query the items of its own partition of the index."""

import json
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item

import infra.local.dynamodb as local_dynamodb
from infra.local.runtime import REGION


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def failing_check(table: str, pk: str) -> dict[str, Any]:
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key(pk, "NO-SUCH-ITEM"),
            "ConditionExpression": "attribute_exists(pk)",
        }
    }


def test_a_transaction_whose_second_condition_fails_leaves_the_first_item_unwritten(
    dynamodb: Any, table: str
) -> None:
    pk = f"TX#{uuid4().hex}"
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException) as raised:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key(pk, "A"), "kind": {"S": "test"}}}},
                failing_check(table, pk),
            ]
        )

    reasons = [r["Code"] for r in raised.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key(pk, "A"))


def test_a_cancelled_transaction_puts_back_updated_and_overwritten_items(dynamodb: Any, table: str) -> None:
    pk = f"TX#{uuid4().hex}"
    dynamodb.put_item(TableName=table, Item={**key(pk, "A"), "version": {"N": "1"}})
    dynamodb.put_item(TableName=table, Item={**key(pk, "B"), "note": {"S": "before"}})
    dynamodb.put_item(TableName=table, Item={**key(pk, "C"), "note": {"S": "to delete"}})

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": key(pk, "A"),
                        "UpdateExpression": "SET version = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {"Put": {"TableName": table, "Item": {**key(pk, "B"), "note": {"S": "after"}}}},
                {"Delete": {"TableName": table, "Key": key(pk, "C")}},
                failing_check(table, pk),
            ]
        )

    items = dynamodb.query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )["Items"]
    assert items == [
        {**key(pk, "A"), "version": {"N": "1"}},
        {**key(pk, "B"), "note": {"S": "before"}},
        {**key(pk, "C"), "note": {"S": "to delete"}},
    ]


def test_a_transaction_naming_one_item_twice_writes_nothing(dynamodb: Any, table: str) -> None:
    pk = f"TX#{uuid4().hex}"
    with pytest.raises(dynamodb.exceptions.ClientError, match="ValidationException"):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key(pk, "A"), "n": {"N": "1"}}}},
                {"Put": {"TableName": table, "Item": {**key(pk, "A"), "n": {"N": "2"}}}},
            ]
        )

    assert "Item" not in dynamodb.get_item(TableName=table, Key=key(pk, "A"))


def test_a_committed_transaction_writes_every_item(dynamodb: Any, table: str) -> None:
    pk = f"TX#{uuid4().hex}"
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": {**key(pk, sk), "n": {"N": "1"}}}} for sk in "ABC"
        ]
    )

    count = dynamodb.query(
        TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}}
    )["Count"]
    assert count == 3


def test_a_transaction_does_not_copy_the_table(dynamodb: Any, table: str) -> None:
    """moto 5.2.5 keeps a deep copy of every table a transaction names and, on cancellation, puts the
    copy in the table's place; the runtime's backup holds the touched items only."""
    tables = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].tables
    before = tables[table]
    pk = f"TX#{uuid4().hex}"

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": key(pk, "A")}}, failing_check(table, pk)]
        )

    assert tables[table] is before


def test_item_versions_are_not_kept_by_the_instance_tracker(dynamodb: Any, table: str) -> None:
    pk = f"TRACK#{uuid4().hex}"
    tracker: list[Item] = Item.instances_tracked  # type: ignore[attr-defined]
    tracked = len(tracker)
    for version in range(50):
        dynamodb.put_item(TableName=table, Item={**key(pk, "A"), "version": {"N": str(version)}})

    assert len(tracker) == tracked


def test_a_query_reads_its_own_partition_in_sort_key_order(dynamodb: Any, table: str) -> None:
    pk, other = f"Q#{uuid4().hex}", f"Q#{uuid4().hex}"
    for sk in ("C", "A", "B"):
        dynamodb.put_item(TableName=table, Item=key(pk, sk))
        dynamodb.put_item(TableName=table, Item=key(other, sk))

    def sort_keys(forward: bool) -> list[str]:
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk AND sk > :from",
            ExpressionAttributeValues={":pk": {"S": pk}, ":from": {"S": "A"}},
            ScanIndexForward=forward,
        )["Items"]
        return [i["sk"]["S"] for i in items]

    assert sort_keys(True) == ["B", "C"]
    assert sort_keys(False) == ["C", "B"]
    assert (
        dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"Q#{uuid4().hex}"}},
        )["Items"]
        == []
    )


def test_an_index_query_reads_every_partition_of_the_table(dynamodb: Any, table: str) -> None:
    shard = f"ALARMS#{uuid4().hex}"
    for n, moment in enumerate(("2026-03-02T10:00", "2026-03-01T10:00", "2026-03-03T10:00")):
        dynamodb.put_item(
            TableName=table,
            Item={
                **key(f"INDEX#{uuid4().hex}", f"TASK#{n}"),
                "alarm_shard": {"S": shard},
                "next_alarm_at": {"S": moment},
            },
        )

    items = dynamodb.query(
        TableName=table,
        IndexName="DueAlarms",
        KeyConditionExpression="alarm_shard = :shard AND next_alarm_at <= :until",
        ExpressionAttributeValues={":shard": {"S": shard}, ":until": {"S": "2026-03-02T23:59"}},
    )["Items"]

    assert [i["sk"]["S"] for i in items] == ["TASK#1", "TASK#0"]


def test_a_transaction_sent_again_with_its_token_is_answered_without_writing_again(
    dynamodb: Any, table: str
) -> None:
    pk, token = f"TX#{uuid4().hex}", uuid4().hex
    only_once = [{"Put": {**put(table, pk, "A"), "ConditionExpression": "attribute_not_exists(pk)"}}]

    dynamodb.transact_write_items(TransactItems=only_once, ClientRequestToken=token)
    dynamodb.put_item(TableName=table, Item={**key(pk, "A"), "kind": {"S": "changed since"}})
    dynamodb.transact_write_items(TransactItems=only_once, ClientRequestToken=token)  # a lost reply's resend
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(TransactItems=only_once, ClientRequestToken=uuid4().hex)
    with pytest.raises(dynamodb.exceptions.IdempotentParameterMismatchException):
        dynamodb.transact_write_items(TransactItems=[{"Put": put(table, pk, "B")}], ClientRequestToken=token)

    stored = dynamodb.get_item(TableName=table, Key=key(pk, "A"))["Item"]
    assert stored["kind"] == {"S": "changed since"}  # the resend wrote nothing
    assert "Item" not in dynamodb.get_item(TableName=table, Key=key(pk, "B"))


def put(table: str, pk: str, sk: str) -> dict[str, Any]:
    return {"TableName": table, "Item": {**key(pk, sk), "kind": {"S": "test"}}}


def alarm(pk: str, sk: str, shard: str, moment: str) -> dict[str, Any]:
    return {**key(pk, sk), "alarm_shard": {"S": shard}, "next_alarm_at": {"S": moment}}


def to_shard(table: str, pk: str, sk: str, shard: str) -> dict[str, Any]:
    return {
        "TableName": table,
        "Key": key(pk, sk),
        "UpdateExpression": "SET alarm_shard = :shard",
        "ExpressionAttributeValues": {":shard": {"S": shard}},
    }


def test_an_index_query_finds_its_items_after_every_kind_of_write_without_walking_the_table(
    dynamodb: Any, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime answers a global index query from a map of the index's partitions, kept as items
    change. After each kind of write, the query gives what a scan of the whole table says it must,
    and the table is never walked for it."""
    pk = f"IDX#{uuid4().hex}"
    first, second = f"SHARD#{uuid4().hex}", f"SHARD#{uuid4().hex}"

    def by_index(shard: str) -> list[str]:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table,
            IndexName="DueAlarms",
            KeyConditionExpression="alarm_shard = :shard",
            ExpressionAttributeValues={":shard": {"S": shard}},
        )
        return [item["sk"]["S"] for page in pages for item in page["Items"]]

    def by_scan(shard: str) -> list[str]:
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="alarm_shard = :shard AND attribute_exists(next_alarm_at)",
            ExpressionAttributeValues={":shard": {"S": shard}},
        )
        items = [item for page in pages for item in page["Items"]]
        return [i["sk"]["S"] for i in sorted(items, key=lambda i: (i["next_alarm_at"]["S"], i["pk"]["S"]))]

    def check(expected_first: list[str], expected_second: list[str]) -> None:
        assert (by_index(first), by_index(second)) == (expected_first, expected_second)
        assert (by_scan(first), by_scan(second)) == (expected_first, expected_second)

    dynamodb.put_item(TableName=table, Item=alarm(pk, "A", first, "2026-03-01"))
    dynamodb.put_item(TableName=table, Item=alarm(pk, "B", first, "2026-03-02"))
    dynamodb.put_item(TableName=table, Item=alarm(pk, "C", second, "2026-03-03"))
    by_index(first)  # the map stands from here on
    monkeypatch.setattr(
        local_dynamodb, "_unsorted", lambda *_: pytest.fail("an index query walked the table")
    )
    check(["A", "B"], ["C"])

    dynamodb.put_item(TableName=table, Item=alarm(pk, "A", second, "2026-03-04"))  # moved by a put
    check(["B"], ["C", "A"])

    dynamodb.update_item(TableName=table, Key=key(pk, "B"), UpdateExpression="REMOVE alarm_shard")
    dynamodb.update_item(
        TableName=table,
        Key=key(pk, "D"),  # made by the update
        UpdateExpression="SET alarm_shard = :shard, next_alarm_at = :at",
        ExpressionAttributeValues={":shard": {"S": first}, ":at": {"S": "2026-03-05"}},
    )
    dynamodb.delete_item(TableName=table, Key=key(pk, "C"))
    check(["D"], ["A"])

    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": table, "Item": alarm(pk, "E", first, "2026-03-06")}},
            {"Update": to_shard(table, pk, "A", first)},
            {"Delete": {"TableName": table, "Key": key(pk, "D")}},
        ]
    )
    check(["A", "E"], [])

    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Update": to_shard(table, pk, "E", second)},
                {"Delete": {"TableName": table, "Key": key(pk, "A")}},
                {"Put": {"TableName": table, "Item": alarm(pk, "F", second, "2026-03-07")}},
                failing_check(table, pk),
            ]
        )
    check(["A", "E"], [])

    dynamodb.batch_write_item(
        RequestItems={
            table: [
                {"PutRequest": {"Item": alarm(pk, "G", second, "2026-03-08")}},
                {"DeleteRequest": {"Key": key(pk, "E")}},
            ]
        }
    )
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.update_item(
            **to_shard(table, pk, "A", second), ConditionExpression="attribute_not_exists(pk)"
        )
    check(["A"], ["G"])


RANGE_VALUES = {
    "S": ["a", "ab", "abc", "b", "ba", "z", "中文"],
    "N": ["-10", "-1.5", "0", "1", "1.5", "2", "10", "100"],
}
PROBES = {"S": ["a", "ab", "abd", "b", "c", "中"], "N": ["-10", "-2", "0", "1.5", "3", "100", "1000"]}


@pytest.mark.parametrize("kind", sorted(RANGE_VALUES))
def test_an_index_range_query_reads_what_a_scan_finds_for_every_key_condition(
    dynamodb: Any, kind: str
) -> None:
    """The runtime seeks a range query's first item in the index partition, kept in range-key order;
    whatever the condition, direction and page size, it gives what a scan of the table finds."""
    table = f"range-{kind}-{uuid4().hex}"
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "part", "AttributeType": "S"},
            {"AttributeName": "due", "AttributeType": kind},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "ByPart",
                "KeySchema": [
                    {"AttributeName": "part", "KeyType": "HASH"},
                    {"AttributeName": "due", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    for n, value in enumerate(RANGE_VALUES[kind]):
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": f"P#{n}"}, "part": {"S": "P"}, "due": {kind: value}}
        )
        dynamodb.put_item(
            TableName=table, Item={"pk": {"S": f"Q#{n}"}, "part": {"S": "Q"}, "due": {kind: value}}
        )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "P#no-range"}, "part": {"S": "P"}})
    # DynamoDB refuses a list as an index key; moto stores it, and leaves it out of the index
    list_key = {"pk": {"S": "P#list"}, "part": {"L": [{"S": "P"}]}, "due": {kind: RANGE_VALUES[kind][0]}}
    dynamodb.put_item(TableName=table, Item=list_key)

    def ordered(value: str) -> Any:
        return Decimal(value) if kind == "N" else value.encode()

    probes = PROBES[kind]
    conditions = [(f"due {op} :a", [a]) for op in ("=", "<", "<=", ">", ">=") for a in probes]
    conditions += [
        ("due BETWEEN :a AND :b", [a, b]) for a in probes for b in probes if ordered(a) <= ordered(b)
    ]
    if kind == "S":
        conditions += [("begins_with(due, :a)", [a]) for a in probes]

    try:
        for condition, values in conditions:
            names = dict(zip((":a", ":b"), ({kind: v} for v in values), strict=False))
            scanned = dynamodb.scan(
                TableName=table,
                FilterExpression=f"part = :part AND {condition}",
                ExpressionAttributeValues={":part": {"S": "P"}, **names},
            )["Items"]
            expected = [i["pk"]["S"] for i in sorted(scanned, key=lambda i: ordered(i["due"][kind]))]
            for forward in (True, False):
                pages = dynamodb.get_paginator("query").paginate(
                    TableName=table,
                    IndexName="ByPart",
                    KeyConditionExpression=f"part = :part AND {condition}",
                    ExpressionAttributeValues={":part": {"S": "P"}, **names},
                    ScanIndexForward=forward,
                    PaginationConfig={"PageSize": 2},
                )
                found = [i["pk"]["S"] for page in pages for i in page["Items"]]
                assert found == (expected if forward else expected[::-1]), (condition, values, forward)

        # A page cut by its limit on the range's last item says more may follow, as DynamoDB does
        second, third = sorted(RANGE_VALUES[kind], key=ordered)[1:3]
        for condition, value, forward in (("due <= :a", second, True), ("due >= :a", third, False)):
            page = dynamodb.query(
                TableName=table,
                IndexName="ByPart",
                KeyConditionExpression=f"part = :part AND {condition}",
                ExpressionAttributeValues={":part": {"S": "P"}, ":a": {kind: value}},
                ScanIndexForward=forward,
                Limit=2,
            )
            assert page["Count"] == 2
            assert "LastEvaluatedKey" in page, condition
    finally:
        dynamodb.delete_table(TableName=table)


RICH_ITEM = {
    "pk": {"S": "CASE#1"},
    "empty": {"S": ""},
    "chinese": {"S": "不见面审批"},
    "count": {"N": "-12.50"},
    "blob": {"B": b"\x00\xffbinary"},
    "strings": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"\x01", b"\x02\x03"]},
    "nothing": {"NULL": True},
    "no": {"BOOL": False},
    "yes": {"BOOL": True},
    "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}, {"L": []}, {"B": b"\x04"}]}}},
    "no_members": {"M": {}},
}


@pytest.mark.parametrize("operation", ["GetItem", "Query", "TransactGetItems", "UpdateItem"])
def test_attribute_values_written_directly_read_as_moto_writes_them(
    runtime: Any, operation: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runtime writes an item's attribute values into a response itself; the body is the one
    moto's walk through the service model writes, byte for byte, for every kind of value."""
    from moto.core.serialize import JSONSerializer, XFormedAttributePicker
    from moto.core.utils import get_service_model

    from infra.local.seams import MOTO_ORIGINALS

    results: dict[str, dict[str, Any]] = {
        "GetItem": {"Item": RICH_ITEM},
        "Query": {"Items": [RICH_ITEM, {"pk": {"S": "CASE#2"}}], "Count": 2, "ScannedCount": 2},
        "TransactGetItems": {"Responses": [{"Item": RICH_ITEM}, {}]},
        "UpdateItem": {"Attributes": RICH_ITEM, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0}},
    }
    model = get_service_model("dynamodb").operation_model(operation)

    def body() -> str:
        serializer = JSONSerializer(operation_model=model, value_picker=XFormedAttributePicker())
        return str(serializer.serialize(results[operation])["body"])

    written: list[Any] = []
    attribute_value = local_dynamodb._attribute_value

    def spied(value: Any) -> dict[str, Any] | None:
        written.append(value)
        return attribute_value(value)

    monkeypatch.setattr(local_dynamodb, "_attribute_value", spied)
    direct = body()
    monkeypatch.setattr(
        JSONSerializer, "_serialize_type_structure", MOTO_ORIGINALS["json response structures"]
    )
    walked = body()

    assert written  # the runtime's path wrote the item
    assert direct == walked
    assert json.loads(direct)[next(iter(results[operation]))]  # the item is in the body
