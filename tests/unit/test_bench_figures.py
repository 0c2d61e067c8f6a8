"""The bench's arithmetic: DynamoDB units by the on-demand rules, product calls only, the capacity plan."""

import os
from collections.abc import Iterator
from typing import Any, cast

import boto3
import pytest

from infra.bench import capacity
from infra.bench.calls import CallMeter, Entry, _index_units, _read_units, _write_units
from infra.bench.floor import step_key
from infra.bench.imports import import_environment
from infra.local.runtime import REGION, LocalRuntime
from tests.support import aws_of_its_own

TABLE = "bench-units"


def test_read_units_round_up_per_4_kb_and_halve_when_eventually_consistent() -> None:
    assert _read_units(0, consistent=False) == 0.5
    assert _read_units(4096, consistent=False) == 0.5
    assert _read_units(4097, consistent=False) == 1.0
    assert _read_units(4097, consistent=True) == 2.0


def test_write_units_round_up_per_kb() -> None:
    assert _write_units(1) == 1.0
    assert _write_units(1024) == 1.0
    assert _write_units(1025) == 2.0


def test_an_index_entry_is_written_when_it_changes_and_twice_when_its_key_moves() -> None:
    key = ("ALARM#1", "2026-01-01")
    before = Entry(500, {"DueAlarms": (key, 300, "a")})
    unchanged = Entry(900, {"DueAlarms": (key, 300, "a")})
    grown = Entry(500, {"DueAlarms": (key, 1500, "b")})
    moved = Entry(500, {"DueAlarms": (("ALARM#1", "2026-02-01"), 300, "c")})
    gone = Entry(500, {})

    assert _index_units(before, unchanged) == {}
    assert _index_units(before, grown) == {"DueAlarms": 2.0}
    assert _index_units(before, moved) == {"DueAlarms": 2.0}
    assert _index_units(before, gone) == {"DueAlarms": 1.0}


class FakeRuntime:
    """What the meter wraps: invoke (a function running) and _deliver (the runtime's own delivery)."""

    def __init__(self) -> None:
        self.resources = {"WriterFunction": "writer"}
        self.body: Any = None

    def invoke(self, function_name: str, event: Any) -> tuple[Any, bool]:
        return self.body(), False

    def _deliver(self, target: dict[str, Any], event: dict[str, Any]) -> None:
        self.body()


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    with aws_of_its_own(REGION):
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "shard", "AttributeType": "S"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "ByShard",
                    "KeySchema": [{"AttributeName": "shard", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
        )
        yield client


def test_the_meter_counts_a_function_s_calls_and_their_units_but_not_the_runtime_s(dynamodb: Any) -> None:
    fake = FakeRuntime()
    meter = CallMeter(cast(LocalRuntime, fake)).install()
    big = {"pk": {"S": "case-1"}, "shard": {"S": "s1"}, "body": {"S": "x" * 1500}}
    try:
        with meter.window() as usage:
            fake.body = lambda: dynamodb.put_item(TableName=TABLE, Item=big)
            fake.invoke("writer", {})
            fake.body = lambda: dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "case-1"}})
            fake.invoke("writer", {})
            fake._deliver({}, {})  # the runtime's own call: not the product's
            fake.body = lambda: dynamodb.transact_write_items(
                TransactItems=[{"Put": {"TableName": TABLE, "Item": {**big, "shard": {"S": "s2"}}}}]
            )
            fake.invoke("writer", {})
            dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "case-1"}})  # outside any function
    finally:
        meter.uninstall()

    assert usage.by_service() == {"DynamoDB": {"GetItem": 1, "PutItem": 1, "TransactWriteItems": 1}}
    # PutItem: a 1.5 KB item is 2 units, its keys-only index entry 1.
    # TransactWriteItems: the item 2 x 2, and the index key moved from s1 to s2: 2 x (1 + 1).
    assert usage.write_units == 3 + 8
    assert usage.write_units_by_index == {"ByShard": 1 + 4}
    assert usage.read_units == 0.5
    assert [name for name, _ in usage.handler_ms] == ["WriterFunction"] * 3


def figures(transitions: int) -> dict[str, Any]:
    return {
        "state_transitions": transitions,
        "lambda_invocations": 20,
        "lambda_invocations_by_function": {"ApiFunction": 8},
        "lambda_gb_seconds": 1.0,
        "lambda_seconds": 2.0,
        "calls": {"SFN": {"SendTaskSuccess": 5}, "EventBridge": {"PutEvents": 10}},
        "dynamodb_read_units": 30.0,
        "dynamodb_write_units": 100.0,
        "dynamodb_write_units_by_index": {"DueAlarms": 16.0, "ClosedByMatterRegion": 2.0},
        "events_put": 12,
        "kms_signs": 1,
    }


def test_the_plan_scales_per_case_figures_to_the_year_and_its_peak() -> None:
    one_a_second = capacity.SECONDS_PER_YEAR
    inputs = {
        "peak_to_mean": 10,
        "alarm_shards": 8,
        "hottest_report_key_share": 0.5,
        "flows": {"only": {"cases_per_year": one_a_second, "measured_as": "only", "open_days": 3}},
    }
    quotas = capacity.load_json(capacity.DATA / "quotas.json")

    found = {need.label: need for need in capacity.needs(inputs, quotas, {"only": figures(26)}, 0.5)}

    transitions = found["Step Functions state transitions /s"]
    assert (transitions.mean, transitions.peak, transitions.default) == (26, 260, 500)
    assert found["Step Functions open executions"].peak == pytest.approx(one_a_second / 365 * 3)
    assert found["Lambda concurrency"].peak == 20
    assert found["DynamoDB DueAlarms shard (1 of 8) write units /s"].peak == 20
    assert found["DynamoDB ClosedByMatterRegion, hottest matter+region, write units /s"].peak == 10
    assert found["EventBridge PutEvents requests /s"].headroom == 4


def test_the_cost_of_a_case_adds_each_service_s_units_at_its_price() -> None:
    prices = capacity.load_json(capacity.DATA / "prices.json")

    cost = capacity.cost_per_case(figures(26), prices)

    assert cost["Step Functions"] == pytest.approx(26 * 0.000025)
    assert cost["DynamoDB"] == pytest.approx(30 * 0.000000125 + 100 * 0.000000625)
    assert cost["HTTP API"] == pytest.approx(8 * 0.000001)


def test_a_step_is_the_same_step_in_every_case_whatever_its_case_token_and_round() -> None:
    first = {"case_id": "A", "task_token": "t1", "round": "2026-01-05T09:00:00Z", "stage": 0}
    second = {"case_id": "B", "task_token": "t2", "round": "2026-03-01T10:30:00Z", "stage": 0}
    assert step_key("ReviewDispatchFunction", first) == step_key("ReviewDispatchFunction", second)
    assert step_key("ReviewDispatchFunction", first) != step_key(
        "ReviewDispatchFunction", {**first, "stage": 1}
    )


def test_the_import_bench_gives_handlers_an_environment_their_cold_start_accepts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from zerovisit.config import settings

    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in import_environment().items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    try:
        settings()  # raises ConfigurationError naming what a handler's cold start would refuse
    finally:
        settings.cache_clear()
