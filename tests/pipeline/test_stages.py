"""The stages the catalog places around the certificate, on the running pipeline: the services a new
enterprise gets after its licence (seal, tax, bank account), and the on-site inspection a region asks
for."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from zerovisit.clock import clock
from zerovisit.domain.model import CaseStatus, TaskKind, TaskStatus
from zerovisit.storage import cases, certificates

from infra.local.partners import PartnerSimulator, Script, approve, silent
from infra.local.runtime import HttpResponse, LocalRuntime
from tests.conftest import OutboundEvents
from tests.pipeline.test_flows import map_parallelism
from tests.support import application

pytestmark = pytest.mark.pipeline

SOURCE = "gov.service-network"
SERVICES = {"GA-SEAL", "SW-INVOICE", "BANK-ACCOUNT"}
PERMIT = "application_submitted.industrial_construction_permit"


def submit(runtime: LocalRuntime, detail: dict[str, Any]) -> str:
    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    return str(detail["application_id"])


def moment_of(case_id: str, event: str) -> datetime:
    return next(e.at for e in cases.timeline(case_id) if e.event == event)


def test_seal_tax_and_bank_follow_the_licence_in_parallel_and_are_recorded_for_the_enterprise(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    case_id = submit(runtime, application())

    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    uscc = case.registered_credit_code
    assert case.status is CaseStatus.COMPLETED
    assert uscc is not None
    assert case.certificate_id is not None
    licence = certificates.get_certificate(case.certificate_id)
    assert licence is not None
    assert (licence.holder_id, licence.status) == (uscc, "valid")
    services = [t for t in cases.tasks(case_id) if t.details.get("department") in SERVICES]
    assert {t.details["phase"] for t in services} == {"post_issuance"}
    assert min(t.created_at for t in services) >= moment_of(case_id, "certificate issued")
    assert map_parallelism(runtime.history(case_id))[-1] == 3  # all three out before any answer
    requested = [e for e in outbound.of("ReviewRequested", case_id=case_id) if e["phase"] == "post_issuance"]
    assert sorted((e["service"], e["credit_code"]) for e in requested) == [
        ("bank_account", uscc),
        ("seal", uscc),
        ("tax", uscc),
    ]
    # recorded on the case and for the enterprise, which reads them under its credit code
    assert {(r.department, r.outcome.value) for r in case.enterprise_services} == {
        (code, "completed") for code in SERVICES
    }
    held = runtime.signed_http("service-network", "GET", f"/enterprises/{uscc}/services")
    assert held.status == 200
    by_service = {r["service"]: r for r in held.body["services"]}
    assert by_service["tax"]["result"]["taxpayer_id"] == uscc
    assert by_service["bank_account"]["result"]["account_code"].startswith("J")
    assert by_service["seal"]["result"]["seals"] == ["official", "finance", "invoice"]
    assert runtime.signed_http("dept-ga", "GET", f"/enterprises/{uscc}/services").status == 403
    bank_view = runtime.signed_http("bank-account", "GET", f"/cases/{case_id}")
    assert (bank_view.body["view"], bank_view.body["registered_credit_code"]) == ("review", uscc)
    told = outbound.of("EnterpriseServiceRecorded", case_id=case_id)
    assert sorted(e["department"] for e in told) == sorted(SERVICES)
    assert case.working_days_used is not None
    assert case.working_days_used <= 3  # licence, seal, tax and bank within the 3550 promise
    assert moment_of(case_id, "shipment dispatched") > moment_of(case_id, "stage 2 services_done")


def test_a_bank_refusal_completes_the_case_with_the_licence_and_tells_the_applicant_why(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    case_id = submit(runtime, application())

    def bank_refuses(event: dict[str, Any]) -> dict[str, Any]:
        if event["department"] == "BANK-ACCOUNT":
            return {"decision": "reject", "comments": "受益所有人信息未能核实"}
        return approve(event)

    assert PartnerSimulator(runtime, Script(decide=bank_refuses)).run_until_closed(case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert case.waybill is not None  # the licence still travels to the applicant
    assert case.certificate_id is not None
    licence = certificates.get_certificate(case.certificate_id)
    assert licence is not None
    assert licence.status == "valid"
    assert case.outcome_reason == "certificate issued; 开户银行（银行开户）: refused (受益所有人信息未能核实)"
    statuses = {t.details["department"]: t.status for t in cases.tasks(case_id) if t.stage == 1}
    assert statuses == dict.fromkeys(SERVICES, TaskStatus.ANSWERED)  # nothing else was cancelled
    outcomes = {r.department: r.outcome.value for r in case.enterprise_services}
    assert outcomes == {"GA-SEAL": "completed", "SW-INVOICE": "completed", "BANK-ACCOUNT": "refused"}
    [refused] = [
        e for e in outbound.of("EnterpriseServiceRecorded", case_id=case_id) if e["outcome"] == "refused"
    ]
    assert (refused["service"], refused["reason"]) == ("bank_account", "受益所有人信息未能核实")
    assert outbound.of("CaseCompleted", case_id=case_id)


def test_a_silent_bank_is_escalated_then_expires_and_the_case_completes_without_it(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    case_id = submit(runtime, application(region_code="320104"))

    simulator = PartnerSimulator(runtime, Script(decide=silent("BANK-ACCOUNT")))
    assert (
        simulator.run_until_closed(case_id, clock_step=timedelta(hours=4), timeout_seconds=240) == "SUCCEEDED"
    )

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    bank = next(t for t in cases.tasks(case_id) if t.details.get("department") == "BANK-ACCOUNT")
    assert (bank.status, bank.escalations) == (TaskStatus.EXPIRED, 1)
    overdue = outbound.of("ReviewOverdue", case_id=case_id)
    assert [e["task_id"] for e in overdue] == [bank.task_id, bank.task_id]  # escalated, then expired
    assert [(e.step, e.event) for e in cases.timeline(case_id) if e.event == "escalated"] == [
        ("post_issuance", "escalated")
    ]
    record = next(r for r in case.enterprise_services if r.department == "BANK-ACCOUNT")
    assert record.outcome.value == "expired"
    assert case.outcome_reason is not None
    assert "开户银行（银行开户）: no answer within the final limit after escalation" in case.outcome_reason


def test_a_repeated_service_callback_gets_the_first_answer_and_a_different_one_409(
    runtime: LocalRuntime,
) -> None:
    case_id = submit(runtime, application())
    answers: list[HttpResponse] = []

    def seal_office_sends_twice(event: dict[str, Any]) -> dict[str, Any]:
        decided = approve(event)
        if event["department"] == "GA-SEAL":
            path = f"/reviews/{event['task_id']}/decision"
            wrong = decided | {"result": {**decided["result"], "kind": "tax"}}
            answers.append(runtime.signed_http("dept-ga", "POST", path, wrong))
            answers.append(runtime.signed_http("dept-ga", "POST", path, decided))
            answers.append(
                runtime.signed_http("dept-ga", "POST", path, {"decision": "reject", "comments": "x"})
            )
        return decided  # the simulator sends it once more

    simulator = PartnerSimulator(runtime, Script(decide=seal_office_sends_twice))
    assert simulator.run_until_closed(case_id) == "SUCCEEDED"

    assert [a.status for a in answers] == [422, 200, 409]
    repeated = next(
        r for e in simulator.exchanges if e.detail.get("department") == "GA-SEAL" for r in e.responses
    )
    assert repeated.status == 200
    assert repeated.body == answers[1].body
    seal = cases.get_case(case_id).enterprise_services
    assert [r.department for r in seal].count("GA-SEAL") == 1
    decided = [e for e in cases.timeline(case_id) if e.event == "decided" and "公安局" in e.detail]
    assert len(decided) == 1


def test_the_region_with_on_site_inspection_gets_the_step_and_the_other_does_not(
    runtime: LocalRuntime,
) -> None:
    clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    at = clock.now().isoformat()
    jiangning = submit(runtime, application(PERMIT, submitted_at=at))  # 320115 inspects the site
    xuanwu = submit(runtime, application(PERMIT, submitted_at=at, region_code="320102"))
    simulator = PartnerSimulator(runtime)

    assert simulator.run_until_closed(jiangning, timeout_seconds=180) == "SUCCEEDED"
    assert simulator.run_until_closed(xuanwu, timeout_seconds=180) == "SUCCEEDED"

    def departments(case_id: str) -> set[str]:
        return {str(t.details["department"]) for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW}

    assert "ZJ-SURVEY" in departments(jiangning)
    assert "ZJ-SURVEY" not in departments(xuanwu)
    survey = next(t for t in cases.tasks(jiangning) if t.details.get("department") == "ZJ-SURVEY")
    assert (survey.stage, survey.details["phase"], survey.status) == (
        5,
        "onsite_inspection",
        TaskStatus.ANSWERED,
    )
    assert survey.answer is not None
    assert survey.answer["inspection"]["inspectors"] == ["张建国", "李敏"]
    timeline = [(e.event, e.detail) for e in cases.timeline(jiangning)]
    assert any(
        event == "review requested"
        and detail.startswith("stage 6 on-site inspection: 住房和城乡建设局（现场勘查）")
        for event, detail in timeline
    )
    assert any(event == "decided" and "by 张建国, 李敏" in detail for event, detail in timeline)
    # 行政许可法 art. 34 verification is not among the art. 45 exclusions: the clock ran throughout
    assert cases.get_case(jiangning).suspensions == []
    for case_id in (jiangning, xuanwu):
        assert cases.get_case(case_id).status is CaseStatus.COMPLETED
