"""The HTTP API through the real handler on the local runtime."""

from typing import Any

import pytest
from zerovisit.domain.model import TaskStatus
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from tests.support import application, next_partner_task

PARTNER = "X-ZV-Partner"


def decide(runtime: LocalRuntime, task_id: str, body: Any, partner: str = "dept-scjg") -> Any:
    return runtime.http("POST", f"/reviews/{task_id}/decision", body, {PARTNER: partner})


def test_submit_then_read_the_case(runtime: LocalRuntime) -> None:
    detail = application()

    submitted = runtime.http("POST", "/applications", detail)

    assert submitted.status == 202
    assert submitted.body["case_id"] == detail["application_id"]
    assert runtime.http("POST", "/applications", detail).body["created"] is False
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])
    view = runtime.http("GET", f"/cases/{detail['application_id']}")
    assert view.status == 200
    assert view.body["status"] == "completed"
    assert view.body["timeline"][0]["event"] == "submitted"
    assert "token" not in str(view.body)


def test_an_invalid_application_gets_422_with_every_problem(runtime: LocalRuntime) -> None:
    detail = application()
    detail["applicant"]["id_number"] = "36042619910102009X"
    detail["region_code"] = "32"

    response = runtime.http("POST", "/applications", detail)

    assert response.status == 422
    assert {p.split(":")[0] for p in response.body["problems"]} == {"region_code"}
    detail["region_code"] = "320102"
    response = runtime.http("POST", "/applications", detail)
    assert response.status == 422
    assert [p.split(":")[0] for p in response.body["problems"]] == ["applicant.id_number"]
    assert "36042619910102009X" not in str(response.body)
    assert runtime.http("GET", f"/cases/{detail['application_id']}").status == 404


def test_unknown_routes_and_cases_are_404(runtime: LocalRuntime) -> None:
    assert runtime.http("GET", "/cases/NO-SUCH-CASE").status == 404
    assert runtime.http("DELETE", "/cases/NO-SUCH-CASE").status == 404
    assert decide(runtime, "not-a-task", {"decision": "approve"}).status == 404


def test_decisions_are_idempotent_and_final(runtime: LocalRuntime) -> None:
    case_id = application()["application_id"]
    detail = application(application_id=case_id)
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    task = next_partner_task(runtime, "ReviewRequested", case_id)
    task_id = task["task_id"]

    malformed = decide(runtime, task_id, {"decision": "maybe"})
    assert malformed.status == 422
    assert cases.get_task(case_id, task_id).status is TaskStatus.OPEN

    wrong_partner = decide(runtime, task_id, {"decision": "approve"}, partner="dept-sw")
    assert wrong_partner.status in (403, 409)
    assert cases.get_task(case_id, task_id).status is TaskStatus.OPEN

    first = decide(runtime, task_id, {"decision": "approve", "comments": "同意"})
    again = decide(runtime, task_id, {"decision": "approve", "comments": "同意"})
    changed = decide(runtime, task_id, {"decision": "reject", "comments": "不同意"})

    assert first.status == 200
    assert again.status == 200
    assert again.body == first.body
    assert changed.status == 409
    stored = cases.get_task(case_id, task_id)
    assert stored.status is TaskStatus.ANSWERED
    assert stored.answer == {"decision": "approve", "comments": "同意", "items": []}
    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/callbacks/payment",
            {"order_id": "X.PAY", "status": "paid", "amount_fen": 1, "transaction_id": "t"},
        ),
        ("/callbacks/ems", {"order_id": "X.EMS1", "waybill": "EA123456785CN", "status": "signed_for"}),
    ],
)
def test_callbacks_for_unknown_orders_are_404(runtime: LocalRuntime, path: str, body: dict[str, Any]) -> None:
    assert runtime.http("POST", path, body, {PARTNER: "ems"}).status == 404
