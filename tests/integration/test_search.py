"""Search through the real API handler on the local runtime: each filter, each list, page by page."""

import base64
import secrets
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from zerovisit.clock import clock
from zerovisit.domain.identity import (
    CATEGORY_ENTERPRISE,
    CREDIT_CODE_ALPHABET,
    MARKET_REGULATION,
    ORGANISATION_SERIAL_LENGTH,
    id_number_check_char,
    new_organisation_code,
    unified_credit_code,
)
from zerovisit.domain.model import TaskRef, TaskStatus
from zerovisit.storage import cases
from zerovisit.storage.common import applicant_key

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from tests.conftest import SUBMITTED
from tests.support import application, next_partner_task

NETWORK = "service-network"
SUPERVISION = "supervision"
REGION = "320102"
MAX_PAGES = 200


def new_applicant() -> str:
    """An identity number no other test's: a random birth day (1950-1999) and sequence number, one
    of about 18 million, since the module's tests share one runtime and count the cases they find."""
    born = date(1950, 1, 1) + timedelta(days=secrets.randbelow(18_000))
    body = f"{REGION}{born:%Y%m%d}{secrets.randbelow(1000):03d}"
    return body + id_number_check_char(body)


def new_enterprise(region: str) -> str:
    """A unified social credit code no other test uses, registered in the region."""
    serial = secrets.randbelow(len(CREDIT_CODE_ALPHABET) ** ORGANISATION_SERIAL_LENGTH)
    return unified_credit_code(MARKET_REGULATION, CATEGORY_ENTERPRISE, region, new_organisation_code(serial))


def pages(runtime: LocalRuntime, partner: str, path: str, query: str, key: str) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor to the end."""
    found: list[list[dict[str, Any]]] = []
    cursor = None
    for _ in range(MAX_PAGES):
        full = f"{query}&cursor={cursor}" if cursor else query
        response = runtime.signed_http(partner, "GET", path, query=full)
        assert response.status == 200, response.body
        found.append(response.body[key])
        cursor = response.body["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError(f"{path}?{query}: more than {MAX_PAGES} pages")


def ids(page_list: list[list[dict[str, Any]]], key: str = "case_id") -> list[str]:
    return [row[key] for page in page_list for row in page]


def submit_waiting(
    runtime: LocalRuntime, applicant: str, count: int, region: str = REGION
) -> list[dict[str, Any]]:
    """Cases of the applicant in the region, submitted an hour apart, each waiting on its first review."""
    tasks = []
    for _ in range(count):
        detail = application(region_code=region)
        detail["applicant"] = {**detail["applicant"], "id_number": applicant}
        detail["submitted_at"] = clock.now().isoformat()
        assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
        tasks.append(next_partner_task(runtime, "ReviewRequested", detail["application_id"]))
        clock.advance(timedelta(hours=1))
    return tasks


def close(runtime: LocalRuntime, tasks: list[dict[str, Any]]) -> None:
    simulator = PartnerSimulator(runtime)
    for task in tasks:
        if cases.get_task(TaskRef.parse(task["task_id"])).status is TaskStatus.OPEN:
            approve = {"decision": "approve"}
            runtime.signed_http("dept-scjg", "POST", f"/reviews/{task['task_id']}/decision", approve)
        simulator.run_until_closed(task["case_id"])


@pytest.fixture(scope="module")
def waiting(runtime: LocalRuntime) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Three cases of one new applicant, left waiting while this module's tests read them."""
    clock.set(SUBMITTED)
    applicant = new_applicant()
    tasks = submit_waiting(runtime, applicant, 3)
    yield applicant, tasks
    close(runtime, tasks)


@pytest.fixture
def one_waiting(runtime: LocalRuntime) -> Iterator[list[dict[str, Any]]]:
    tasks = submit_waiting(runtime, new_applicant(), 2)
    yield tasks
    close(runtime, tasks)


def test_the_service_network_finds_an_applicants_cases_newest_first_page_by_page(
    runtime: LocalRuntime, waiting: tuple[str, list[dict[str, Any]]]
) -> None:
    applicant, tasks = waiting

    found = pages(runtime, NETWORK, "/cases", f"applicant={applicant}&limit=2", "cases")

    assert [len(page) for page in found][:2] == [2, 1]
    assert ids(found) == [t["case_id"] for t in reversed(tasks)]
    assert applicant not in str(found)  # a list shows no identity numbers
    cursor = runtime.signed_http(NETWORK, "GET", "/cases", query=f"applicant={applicant}&limit=1").body
    decoded = base64.urlsafe_b64decode(cursor["next_cursor"] + "==").decode()
    assert applicant_key(applicant) not in decoded  # nor does a cursor carry its digest
    first = found[0][0]
    assert first["status"] == "in_review"
    assert first["step"] == "review"
    assert first["region_code"] == REGION
    assert first["overdue"] is False


def test_the_service_network_finds_an_enterprises_cases_by_its_credit_code_page_by_page(
    runtime: LocalRuntime,
) -> None:
    permits = []
    for _ in range(2):
        detail = application(
            "application_submitted.industrial_construction_permit", submitted_at=clock.now().isoformat()
        )
        permits.append(detail)
        clock.advance(timedelta(hours=1))
    credit_code = new_enterprise(permits[0]["region_code"])
    for detail in permits:
        detail["applicant"] = {**detail["applicant"], "credit_code": credit_code}
        assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
    try:
        found = pages(runtime, NETWORK, "/cases", f"applicant={credit_code}&limit=1", "cases")

        assert [len(page) for page in found][:2] == [1, 1]
        assert ids(found) == [d["application_id"] for d in reversed(permits)]  # newest first
        assert {row["matter_code"] for page in found for row in page} == {"INDUSTRIAL-CONSTRUCTION-PERMIT"}
        other = new_enterprise(permits[0]["region_code"])
        assert pages(runtime, NETWORK, "/cases", f"applicant={other}", "cases") == [[]]
    finally:
        simulator = PartnerSimulator(runtime)
        for detail in permits:
            simulator.run_until_closed(detail["application_id"])


@pytest.mark.parametrize(
    "query",
    [
        "status=in_review",
        f"status=in_review&region={REGION}",
        "step=review",
        f"step=review&region={REGION}",
        f"region={REGION}",
        "due_from={due}&due_to={due}",
        f"status=in_review&region={REGION}&due_from={{due}}&due_to={{due}}",
        f"region={REGION}&overdue=false",
    ],
)
def test_each_filter_finds_the_waiting_cases_and_only_cases_that_match(
    runtime: LocalRuntime, waiting: tuple[str, list[dict[str, Any]]], query: str
) -> None:
    _, tasks = waiting
    due = cases.get_case(tasks[0]["case_id"]).promised_due
    assert due is not None
    query = query.format(due=due.isoformat())

    found = pages(runtime, NETWORK, "/cases", f"{query}&limit=3", "cases")

    assert all(len(page) <= 3 for page in found)
    listed = ids(found)
    assert len(listed) == len(set(listed))
    assert {t["case_id"] for t in tasks} <= set(listed)
    wanted = dict(pair.split("=") for pair in query.split("&"))
    for row in (row for page in found for row in page):
        assert wanted.get("status", row["status"]) == row["status"]
        assert wanted.get("step", row["step"]) == row["step"]
        assert wanted.get("region", row["region_code"]) == row["region_code"]
        assert wanted.get("due_from", row["promised_due"]) <= row["promised_due"] <= wanted.get("due_to", "~")
        assert row["overdue"] is False or "overdue" not in wanted


def test_a_department_lists_its_open_tasks_and_an_answered_one_leaves_the_list(
    runtime: LocalRuntime, one_waiting: list[dict[str, Any]]
) -> None:
    tasks = one_waiting
    mine = {t["task_id"] for t in tasks}

    listed = pages(runtime, "dept-scjg", "/tasks", "limit=2", "tasks")

    assert mine <= set(ids(listed, "task_id"))
    row = next(r for page in listed for r in page if r["task_id"] == tasks[0]["task_id"])
    assert row["case_id"] == tasks[0]["case_id"]
    assert row["kind"] == "review"
    assert "token" not in row
    assert not mine & set(ids(pages(runtime, "payment-platform", "/tasks", "limit=5", "tasks"), "task_id"))
    decision = runtime.signed_http(
        "dept-scjg", "POST", f"/reviews/{tasks[0]['task_id']}/decision", {"decision": "approve"}
    )
    assert decision.status == 200
    still_open = set(ids(pages(runtime, "dept-scjg", "/tasks", "limit=50", "tasks"), "task_id"))
    assert tasks[0]["task_id"] not in still_open
    assert tasks[1]["task_id"] in still_open


def test_supervision_lists_a_regions_open_cases_oldest_first_and_the_overdue_ones(
    runtime: LocalRuntime, waiting: tuple[str, list[dict[str, Any]]]
) -> None:
    _, tasks = waiting
    mine = [t["case_id"] for t in tasks]
    path = f"/regions/{REGION}/open-cases"

    listed = [i for i in ids(pages(runtime, SUPERVISION, path, "limit=4", "cases")) if i in mine]
    assert listed == mine  # submitted an hour apart: oldest first

    due = cases.get_case(mine[0]).promised_due
    assert due is not None
    clock.set(clock.now() + timedelta(days=(due - clock.today()).days + 2))
    overdue = ids(pages(runtime, SUPERVISION, path, "overdue=true&limit=4", "cases"))
    not_overdue = ids(pages(runtime, SUPERVISION, path, "overdue=false&limit=4", "cases"))
    assert set(mine) <= set(overdue)
    assert not set(mine) & set(not_overdue)
    by_region = ids(pages(runtime, SUPERVISION, "/cases", f"region={REGION}&overdue=true&limit=4", "cases"))
    assert set(mine) <= set(by_region)


def test_lists_are_refused_to_partners_who_may_not_see_them(runtime: LocalRuntime) -> None:
    assert runtime.signed_http("dept-scjg", "GET", "/cases", query="status=in_review").status == 403
    assert runtime.signed_http(SUPERVISION, "GET", "/cases", query="status=in_review").status == 403
    assert runtime.signed_http(NETWORK, "GET", f"/regions/{REGION}/open-cases").status == 403
    assert runtime.http("GET", "/tasks").status == 401


def test_bad_filters_are_all_named_and_a_cursor_serves_only_its_own_query(
    runtime: LocalRuntime, waiting: tuple[str, list[dict[str, Any]]]
) -> None:
    applicant, _ = waiting
    bad = runtime.signed_http(NETWORK, "GET", "/cases", query="applicant=12345&status=sleeping")
    assert bad.status == 422
    assert [p.split(":")[0] for p in bad.body["problems"]] == ["applicant", "status"]
    assert runtime.signed_http(NETWORK, "GET", "/cases").status == 422
    before_any = runtime.signed_http(NETWORK, "GET", "/cases", query="due_to=2000-01-01")
    assert (before_any.status, before_any.body) == (200, {"cases": [], "next_cursor": None})

    first = runtime.signed_http(NETWORK, "GET", "/cases", query=f"applicant={applicant}&limit=1")
    cursor = first.body["next_cursor"]
    assert cursor
    foreign = runtime.signed_http(NETWORK, "GET", "/cases", query=f"status=in_review&limit=1&cursor={cursor}")
    assert foreign.status == 422
    assert foreign.body["problems"] == ["cursor: belongs to another query; start again without it"]
    forged = runtime.signed_http(NETWORK, "GET", "/cases", query=f"applicant={applicant}&cursor=bm90LWpzb24")
    assert forged.status == 422
