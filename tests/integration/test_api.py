"""The HTTP API through the real handler on the local runtime: every route and every refusal."""

from datetime import UTC, datetime, timedelta
from typing import Any

from zerovisit.domain.model import CaseStatus, TaskRef, TaskStatus
from zerovisit.domain.signature import signed_headers
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator, Script, approve
from infra.local.runtime import HttpResponse, LocalRuntime
from tests.integration.conftest import partition
from tests.support import application

NETWORK = "service-network"


def decide(runtime: LocalRuntime, task_id: str, body: Any, partner: str = "dept-scjg") -> HttpResponse:
    return runtime.signed_http(partner, "POST", f"/reviews/{task_id}/decision", body)


def test_submit_read_and_evaluate_a_case(runtime: LocalRuntime) -> None:
    detail = application()
    case_id = detail["application_id"]

    submitted = runtime.signed_http(NETWORK, "POST", "/applications", detail)

    assert submitted.status == 202
    assert submitted.body == {"application_id": case_id, "case_id": case_id, "created": True}
    assert runtime.signed_http(NETWORK, "POST", "/applications", detail).body["created"] is False
    too_early = runtime.signed_http(NETWORK, "POST", f"/cases/{case_id}/evaluation", {"level": 5})
    assert too_early.status == 409
    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"
    view = runtime.signed_http(NETWORK, "GET", f"/cases/{case_id}")
    assert view.status == 200
    assert view.body["status"] == "completed"
    assert view.body["timeline"][0]["event"] == "submitted"
    assert "token" not in str(view.body)
    assert "360426199101010071" not in str(view.body)

    rated = runtime.signed_http(
        NETWORK, "POST", f"/cases/{case_id}/evaluation", {"level": 5, "comment": "很快"}
    )
    twice = runtime.signed_http(NETWORK, "POST", f"/cases/{case_id}/evaluation", {"level": 1})
    out_of_range = runtime.signed_http(NETWORK, "POST", f"/cases/{case_id}/evaluation", {"level": 6})

    assert rated.status == 200
    assert twice.status == 409
    assert out_of_range.status == 422
    assert [e.event for e in cases.timeline(case_id)].count("evaluated") == 1


def test_a_certificate_is_verifiable_by_anyone_with_its_identifier(runtime: LocalRuntime) -> None:
    detail = application()
    runtime.signed_http(NETWORK, "POST", "/applications", detail)
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])
    case = cases.get_case(detail["application_id"])
    identifier = case.certificate_id
    assert identifier is not None
    credit_code = case.registered_credit_code  # the licence is the new enterprise's
    assert credit_code is not None

    checked = runtime.http("GET", f"/certificates/{identifier}/verify")

    assert checked.status == 200
    assert checked.body["valid"] is True
    assert checked.body["signature_valid"] is True
    assert checked.body["holder_id_masked"] == f"{credit_code[:3]}{'*' * 13}{credit_code[-2:]}"
    forged = identifier[:-1] + ("A" if identifier[-1] != "A" else "B")
    refused = runtime.http("GET", f"/certificates/{forged}/verify")
    assert refused.status == 422
    assert refused.body["problems"] == ["identifier: check character does not match"]
    assert identifier[-1] not in str(refused.body).replace(forged, "")


def test_an_invalid_application_gets_422_with_every_problem(runtime: LocalRuntime) -> None:
    detail = application()
    detail["applicant"]["id_number"] = "36042619910102009X"
    detail["delivery"]["phone"] = "12345"

    response = runtime.signed_http(NETWORK, "POST", "/applications", detail)

    assert response.status == 422
    assert sorted(p.split(":")[0] for p in response.body["problems"]) == [
        "applicant.id_number",
        "delivery.phone",
    ]
    assert "36042619910102009X" not in str(response.body)
    assert runtime.signed_http(NETWORK, "GET", f"/cases/{detail['application_id']}").status == 404


def test_unknown_routes_and_records_are_404(runtime: LocalRuntime) -> None:
    assert runtime.signed_http(NETWORK, "GET", "/cases/NO-SUCH-CASE").status == 404
    assert runtime.signed_http(NETWORK, "DELETE", "/cases/NO-SUCH-CASE").status == 404
    assert decide(runtime, "not-a-task", {"decision": "approve"}).status == 404
    payment = {"order_id": "X-000001.PAY", "status": "paid", "amount_fen": 1, "transaction_id": "t"}
    assert runtime.signed_http("payment-platform", "POST", "/callbacks/payment", payment).status == 404


def test_refused_callbacks_change_nothing(runtime: LocalRuntime, waiting_review: dict[str, Any]) -> None:
    task_id, case_id = waiting_review["task_id"], waiting_review["case_id"]
    path = f"/reviews/{task_id}/decision"
    body = '{"decision": "approve"}'
    secret = runtime.partner_secrets["dept-scjg"]
    before = partition(case_id)
    now = datetime.now(UTC)  # signatures are checked against the real time, not the domain clock

    forged = runtime.http(
        "POST", path, body, signed_headers("dept-scjg", "not-the-secret", now, "POST", path, body)
    )
    stale = runtime.http(
        "POST",
        path,
        body,
        signed_headers("dept-scjg", secret, now - timedelta(seconds=301), "POST", path, body),
    )
    unknown = runtime.http("POST", path, body, signed_headers("dept-nobody", secret, now, "POST", path, body))
    unsigned = runtime.http("POST", path, body, {"X-ZV-Partner": "dept-scjg"})
    tampered = runtime.http(
        "POST",
        path,
        '{"decision": "reject"}',
        signed_headers("dept-scjg", secret, now, "POST", path, body),
    )
    other_department = decide(runtime, task_id, {"decision": "approve"}, partner="dept-sw")
    no_such_task = decide(runtime, f"{case_id}.R1-NONE-1", {"decision": "approve"}, partner="dept-sw")
    paid = {"status": "paid", "amount_fen": 1, "transaction_id": "TX-1"}
    review_as_payment = runtime.signed_http(
        "payment-platform", "POST", "/callbacks/payment", {**paid, "order_id": task_id}
    )
    no_such_order = runtime.signed_http(
        "payment-platform", "POST", "/callbacks/payment", {**paid, "order_id": f"{case_id}.R9-NONE-1"}
    )
    malformed = decide(runtime, task_id, {"decision": "maybe", "items": "x"})
    wrong_route = runtime.signed_http(
        "dept-scjg", "POST", "/callbacks/payment", {"order_id": f"{case_id}.PAY"}
    )

    assert [r.status for r in (forged, stale, unknown, unsigned, tampered)] == [401] * 5
    assert "300 s" in stale.body["message"]
    assert unknown.body == forged.body  # an unknown partner learns nothing more than a bad signature
    assert "X-ZV-Signature header missing" in unsigned.body["message"]
    # another partner's task is answered as one that does not exist
    assert (other_department.status, no_such_task.status) == (404, 404)
    assert other_department.body == no_such_task.body
    assert (review_as_payment.status, review_as_payment.body) == (no_such_order.status, no_such_order.body)
    assert review_as_payment.status == 404
    assert malformed.status == 422
    assert wrong_route.status == 403
    assert partition(case_id) == before
    assert cases.get_task(TaskRef.parse(task_id)).status is TaskStatus.OPEN


def test_decisions_are_idempotent_and_final(runtime: LocalRuntime, waiting_review: dict[str, Any]) -> None:
    task_id, case_id = waiting_review["task_id"], waiting_review["case_id"]

    first = decide(runtime, task_id, {"decision": "approve", "comments": "同意"})
    replay = decide(runtime, task_id, {"decision": "approve", "comments": "同意"})
    changed = decide(runtime, task_id, {"decision": "reject", "comments": "不同意"})

    assert first.status == 200
    assert replay.status == 200
    assert replay.body == first.body
    assert changed.status == 409
    stored = cases.get_task(TaskRef.parse(task_id))
    assert stored.status is TaskStatus.ANSWERED
    assert stored.answer == {"decision": "approve", "comments": "同意", "items": []}
    assert [e.event for e in cases.timeline(case_id)].count("decided") == 1


def test_only_ems_reads_a_shipments_recipient(runtime: LocalRuntime) -> None:
    detail = application()
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    simulator = PartnerSimulator(runtime)
    simulator.run_until_closed(case_id)
    order_id = f"{case_id}.EMS1"

    by_ems = runtime.signed_http("ems", "GET", f"/shipments/{order_id}")
    by_department = runtime.signed_http("dept-scjg", "GET", f"/shipments/{order_id}")

    assert by_ems.status == 200
    assert by_ems.body["recipient"]["address"] == detail["delivery"]["address"]
    assert by_department.status == 403
    dispatched = next(e for e in simulator.exchanges if e.detail_type == "ShipmentDispatched")
    assert detail["delivery"]["address"] not in str(dispatched.detail)


def test_the_3550_report_counts_a_regions_closed_cases(runtime: LocalRuntime) -> None:
    region = "320106"
    closed = []
    for rejected in (False, False, True):
        detail = application(region_code=region)

        def decide_stage(event: dict[str, Any], reject: bool = rejected) -> dict[str, Any]:
            return {"decision": "reject"} if reject else approve(event)

        runtime.signed_http(NETWORK, "POST", "/applications", detail)
        PartnerSimulator(runtime, Script(decide=decide_stage)).run_until_closed(detail["application_id"])
        closed.append(cases.get_case(detail["application_id"]))

    query = f"region={region}&from=2026-02-01&to=2026-02-28"
    report = runtime.signed_http("supervision", "GET", "/reports/3550", query=query)
    by_department = runtime.signed_http("dept-scjg", "GET", "/reports/3550", query=query)
    backwards = runtime.signed_http(
        "supervision", "GET", "/reports/3550", query=f"region={region}&from=2026-03-01&to=2026-02-01"
    )

    assert report.status == 200
    startup = next(m for m in report.body["matters"] if m["matter_code"] == "BUSINESS-STARTUP")
    used = [c.working_days_used for c in closed[:2]]
    assert startup["completed"] == 2
    assert startup["closed_without_result"] == 1
    assert startup["target_working_days"] == 3
    assert startup["mean_working_days"] == round(sum(u or 0 for u in used) / 2, 2)
    assert startup["within_target"] == 2
    assert startup["procedures"] == 2
    assert startup["required_documents"] == 4
    others = [m for m in report.body["matters"] if m["matter_code"] != "BUSINESS-STARTUP"]
    assert [m["completed"] for m in others] == [0, 0]
    assert by_department.status == 403
    assert backwards.status == 422
    # the district's city and province count its cases too, and show the part they come from
    for above, part in (("320100", region), ("320000", "320100")):
        rolled = runtime.signed_http(
            "supervision", "GET", "/reports/3550", query=f"region={above}&from=2026-02-01&to=2026-02-28"
        ).body
        total = next(m for m in rolled["matters"] if m["matter_code"] == "BUSINESS-STARTUP")
        by_part = next(
            r
            for r in rolled["regions"]
            if r["matter_code"] == "BUSINESS-STARTUP" and r["region_code"] == part
        )
        assert total["completed"] >= by_part["completed"] >= 2


def test_a_withdrawal_over_the_api_ends_the_running_case_and_cancels_its_review(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    task_id, case_id = waiting_review["task_id"], waiting_review["case_id"]
    path = f"/applications/{case_id}/withdrawal"
    body = {"reason": "申请人撤回申请"}
    before = partition(case_id)

    refused = runtime.signed_http("dept-scjg", "POST", path, body)
    assert refused.status == 403
    assert partition(case_id) == before
    assert runtime.execution_status(case_id) == "RUNNING"

    first = runtime.signed_http(NETWORK, "POST", path, body)
    assert first.status == 200
    assert first.body == {"case_id": case_id, "status": "withdrawn"}
    assert PartnerSimulator(runtime).run_until_closed(case_id, timeout_seconds=30) == "SUCCEEDED"
    assert runtime.execution_status(case_id) == "SUCCEEDED"
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.WITHDRAWN
    assert case.outcome_reason == body["reason"]
    assert cases.get_task(TaskRef.parse(task_id)).status is TaskStatus.CANCELLED

    late = decide(runtime, task_id, {"decision": "approve"})
    assert late.status == 409
    again = runtime.signed_http(NETWORK, "POST", path, body)
    assert (again.status, again.body) == (first.status, first.body)
    withdrawn = [e.step for e in cases.timeline(case_id) if e.event == "withdrawn"]
    assert sorted(withdrawn) == ["completion", "review"]  # the applicant's act, and the closing
    assert cases.get_task(TaskRef.parse(task_id)).status is TaskStatus.CANCELLED
