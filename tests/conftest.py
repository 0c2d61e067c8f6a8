"""Fixtures of every test. The local runtime (moto, boto3) is imported only by the fixtures that
start or use it, so that the unit tests over in-memory fakes do not pay for importing it."""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pytest
from zerovisit.clock import clock

if TYPE_CHECKING:
    from infra.local.runtime import LocalRuntime

SUBMITTED = datetime.fromisoformat("2026-02-13T09:30:00+08:00")


@pytest.fixture(autouse=True)
def domain_clock() -> Iterator[None]:
    """Every test starts on the clock of the sample application: Friday 2026-02-13, 09:30 China time."""
    clock.set(SUBMITTED)
    yield
    clock.reset()


@pytest.fixture(autouse=True)
def settled_runtime(request: pytest.FixtureRequest) -> Iterator[None]:
    """A test on the local stack leaves nothing running for the next one."""
    yield
    if "runtime" in request.fixturenames:
        runtime: LocalRuntime = request.getfixturevalue("runtime")
        runtime.faults.clear()
        runtime.settle()


@pytest.fixture(scope="session")
def runtime() -> Iterator["LocalRuntime"]:
    """One local stack for the integration and pipeline tests; each test uses its own application ids."""
    from infra.local.runtime import LocalRuntime

    with LocalRuntime() as started:
        yield started


class OutboundEvents:
    """Captures the case bus's outbound events through a rule and a queue, as a subscriber would."""

    def __init__(self, runtime: "LocalRuntime") -> None:
        import boto3

        from infra.local.runtime import REGION

        self.sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        self.url = self.sqs.create_queue(QueueName="test-outbound-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        bus = runtime.outputs["CaseEventBusName"]
        events.put_rule(
            Name="test-outbound", EventBusName=bus, EventPattern='{"source": ["zerovisit.cases"]}'
        )
        events.put_targets(Rule="test-outbound", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def of(self, detail_type: str, **match: object) -> list[dict[str, Any]]:
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                self.seen.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        return [
            e["detail"]
            for e in self.seen
            if e["detail-type"] == detail_type and all(e["detail"].get(k) == v for k, v in match.items())
        ]


@pytest.fixture(scope="session")
def outbound(runtime: "LocalRuntime") -> OutboundEvents:
    return OutboundEvents(runtime)
