"""GET /tasks: each partner lists its own tasks, a page at a time, with an opaque cursor.

Task items reach the TasksByPartner index through ``index_task``, which the cases repository calls
where it builds a task item; ``indexed`` adds that one call for these tests until the repository
makes it (see the report of issue 9).
"""

from collections.abc import Iterator
from typing import Any

import pytest
from zerovisit.domain.model import Task
from zerovisit.storage import cases
from zerovisit.storage.partner_tasks import index_task
from zerovisit.storage.tables import CaseTableItem

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from tests.support import application, next_partner_task


@pytest.fixture
def indexed(monkeypatch: pytest.MonkeyPatch) -> None:
    build = cases._task_item

    def task_item(task: Task) -> CaseTableItem:
        item = build(task)
        index_task(item, task)
        return item

    monkeypatch.setattr(cases, "_task_item", task_item)


@pytest.fixture
def two_reviews(runtime: LocalRuntime, indexed: None) -> Iterator[list[dict[str, Any]]]:
    tasks = []
    for _ in range(2):
        detail = application()
        runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
        tasks.append(next_partner_task(runtime, "ReviewRequested", detail["application_id"]))
    yield tasks
    for task in tasks:
        runtime.signed_http(
            task["partner_id"], "POST", f"/reviews/{task['task_id']}/decision", {"decision": "approve"}
        )
        PartnerSimulator(runtime).run_until_closed(task["case_id"])


def listing(runtime: LocalRuntime, partner: str, query: str = "") -> list[dict[str, Any]]:
    """Every page of the partner's open tasks."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = runtime.signed_http(
            partner, "GET", "/tasks", query=query + (f"&cursor={cursor}" if cursor else "")
        )
        assert page.status == 200, page.body
        found.extend(page.body["tasks"])
        cursor = page.body["cursor"]
        if cursor is None:
            return found
    raise AssertionError("more than 100 pages")


def test_a_partner_lists_its_own_open_tasks_page_by_page(
    runtime: LocalRuntime, two_reviews: list[dict[str, Any]]
) -> None:
    partner = two_reviews[0]["partner_id"]
    ids = {t["task_id"] for t in two_reviews}

    one_by_one = listing(runtime, partner, "status=open&limit=1")
    others = [
        t["task_id"]
        for p in ("ems", "payment-platform", "dept-ga")
        if p != partner
        for t in listing(runtime, p)
    ]

    assert ids <= {t["task_id"] for t in one_by_one}
    assert len(one_by_one) == len({t["task_id"] for t in one_by_one})  # no task twice across pages
    assert not ids & set(others)
    mine = [t for t in one_by_one if t["task_id"] in ids]
    assert {t["kind"] for t in mine} == {"review"}
    assert all(t["details"]["department"] for t in mine)
    assert "token" not in str(one_by_one)


def test_answered_tasks_leave_the_open_listing(
    runtime: LocalRuntime, two_reviews: list[dict[str, Any]]
) -> None:
    task = two_reviews[0]
    runtime.signed_http(
        task["partner_id"], "POST", f"/reviews/{task['task_id']}/decision", {"decision": "approve"}
    )

    open_ids = {t["task_id"] for t in listing(runtime, task["partner_id"])}
    answered_ids = {t["task_id"] for t in listing(runtime, task["partner_id"], "status=answered")}

    assert task["task_id"] not in open_ids
    assert task["task_id"] in answered_ids


def test_another_partners_cursor_is_refused(runtime: LocalRuntime, two_reviews: list[dict[str, Any]]) -> None:
    partner = two_reviews[0]["partner_id"]
    page = runtime.signed_http(partner, "GET", "/tasks", query="limit=1")
    assert page.body["cursor"] is not None

    stolen = runtime.signed_http("ems", "GET", "/tasks", query=f"limit=1&cursor={page.body['cursor']}")
    garbage = runtime.signed_http(partner, "GET", "/tasks", query="cursor=not-a-cursor")

    assert stolen.status == 422
    assert garbage.status == 422
    assert stolen.body["problems"] == ["cursor: not a cursor this listing returned"]
