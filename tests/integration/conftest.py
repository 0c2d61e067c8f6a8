"""Fixtures of the HTTP API tests."""

import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from zerovisit.config import settings
from zerovisit.domain.model import TaskRef, TaskStatus
from zerovisit.storage import cases
from zerovisit.storage.tables import CaseTableItem

from infra.local.partners import PartnerSimulator
from infra.local.runtime import REGION, LocalRuntime
from infra.local.server import serve
from tests.support import application, next_partner_task


def partition(case_id: str) -> list[tuple[str, str | None]]:
    """Every item of the case's partition, to show a refused request changed nothing."""
    return sorted((i.sk, i.body) for i in CaseTableItem.query(f"CASE#{case_id}", consistent_read=True))


@pytest.fixture
def waiting_review(runtime: LocalRuntime) -> Iterator[dict[str, Any]]:
    """A case whose first review task waits on the market regulation department."""
    detail = application()
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    task = next_partner_task(runtime, "ReviewRequested", detail["application_id"])
    yield task
    run_to_its_end(runtime, task)


@pytest.fixture
def submitted(runtime: LocalRuntime) -> Iterator[dict[str, Any]]:
    """An application submitted through the API, its case settled at its first wait (the market
    regulation department's review), so that nothing writes to it while a test looks; it is run to
    its end afterwards, so that no open case is left for another test's deadlines."""
    detail = application()
    assert runtime.signed_http("service-network", "POST", "/applications", detail).status == 202
    task = next_partner_task(runtime, "ReviewRequested", detail["application_id"])
    yield detail
    run_to_its_end(runtime, task)


def run_to_its_end(runtime: LocalRuntime, task: dict[str, Any]) -> None:
    """The review task a fixture took from the partner queue answered, if a test left it open, and
    its case run to its end."""
    if cases.get_task(TaskRef.parse(task["task_id"])).status is TaskStatus.OPEN:
        path = f"/reviews/{task['task_id']}/decision"
        runtime.signed_http(task["partner_id"], "POST", path, {"decision": "approve"})
    PartnerSimulator(runtime).run_until_closed(task["case_id"])


@pytest.fixture
def dynamodb(runtime: LocalRuntime) -> Any:
    """A DynamoDB client on the local stack, as the storage layer and the tests' writers use it."""
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(runtime: LocalRuntime) -> str:
    """The cases table's name."""
    return runtime.resources["CasesTable"]


@pytest.fixture
def supervised_regions(runtime: LocalRuntime) -> Iterator[Callable[[str], None]]:
    """Deploy, as it were, with another ``SupervisedRegions``: the API reads it at cold start, so the
    cached settings are dropped each way."""
    template_value = os.environ["SUPERVISION_REGIONS"]

    def oversee(regions: str) -> None:
        os.environ["SUPERVISION_REGIONS"] = regions
        settings.cache_clear()

    yield oversee
    oversee(template_value)


BODY_SECONDS = 1.0  # the served body's deadline: short, so that a test sees it pass


@pytest.fixture
def local_server(runtime: LocalRuntime) -> Iterator[tuple[str, int]]:
    """``make serve``'s threaded server on an ephemeral loopback port, as (host, port); a body must
    arrive within BODY_SECONDS. Tests that use it need the socket markers of pytest-socket."""
    httpd = serve(runtime, 0, body_read_seconds=BODY_SECONDS)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)
