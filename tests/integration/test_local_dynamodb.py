"""moto's DynamoDB as the runtime changes it: transactions stay all-or-nothing with a backup of the
touched items only, item versions are not kept by moto's tracker, a query reads its partition."""

from typing import Any
from uuid import uuid4

import pytest
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import Item

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
