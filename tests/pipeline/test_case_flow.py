"""The real state machine, run locally end to end; every test checks the case record in DynamoDB."""

import base64
from typing import Any

import boto3
import pytest
from zerovisit.domain.identity import credit_code_problems
from zerovisit.domain.model import CaseStatus, TaskKind, TaskStatus
from zerovisit.errors import DependencyUnavailable
from zerovisit.storage import cases, certificates

from infra.local.partners import PartnerSimulator, Script
from infra.local.runtime import REGION, LocalRuntime
from tests.conftest import OutboundEvents
from tests.support import application, document, held_transfer, without_material

pytestmark = pytest.mark.pipeline

SOURCE = "gov.service-network"


def submit(runtime: LocalRuntime, detail: dict[str, Any]) -> str:
    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    return str(detail["application_id"])


def run(runtime: LocalRuntime, case_id: str, script: Script | None = None) -> str:
    return PartnerSimulator(runtime, script).run_until_closed(case_id)


def events_of(case_id: str) -> list[tuple[str, str]]:
    return [(e.step, e.event) for e in cases.timeline(case_id)]


def test_happy_path_delivers_a_signed_certificate(runtime: LocalRuntime) -> None:
    case_id = submit(runtime, application())

    assert run(runtime, case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert case.case_number is not None
    assert case.case_number.startswith("3201022026")
    assert str(case.accepted_on) == "2026-02-13"
    assert str(case.promised_due) == "2026-02-25"
    assert case.working_days_used is not None
    assert case.working_days_used <= 3
    assert case.waybill is not None
    assert case.waybill.startswith("EA")
    timeline = events_of(case_id)
    assert timeline[:8] == [
        ("intake", "submitted"),
        ("pre_review", "materials complete"),
        ("acceptance", "accepted"),
        ("review", "review requested"),
        ("review", "decided"),
        ("review", "stage 1 approved"),
        ("certificate", "certificate issued"),
        ("post_issuance", "services begin"),
    ]
    # after the licence: seal, tax and bank at once, their requests and answers interleaved
    assert (
        sorted(timeline[8:14])
        == [("post_issuance", "decided")] * 3 + [("post_issuance", "service requested")] * 3
    )
    assert timeline[14:] == [
        ("post_issuance", "service completed"),
        ("post_issuance", "service completed"),
        ("post_issuance", "service completed"),
        ("post_issuance", "stage 2 services_done"),
        ("delivery", "shipment dispatched"),
        ("delivery", "tracking"),
        ("delivery", "tracking"),
        ("delivery", "signed for"),
        ("completion", "completed"),
    ]

    assert case.certificate_id is not None
    certificate = certificates.get_certificate(case.certificate_id)
    assert certificate is not None
    # the licence is the registered enterprise's, under the credit code registration assigned
    assert case.registered_credit_code is not None
    assert certificate.holder_id == case.registered_credit_code
    assert credit_code_problems(certificate.holder_id) == []
    assert case.application.enterprise is not None
    assert certificate.holder_name == case.application.enterprise.name
    verified = boto3.client("kms", region_name=REGION).verify(
        KeyId=certificate.signing_key_id,
        Message=certificate.content().signed_bytes(),
        MessageType="RAW",
        Signature=base64.b64decode(certificate.signature),
        SigningAlgorithm="ECDSA_SHA_256",
    )
    assert verified["SignatureValid"] is True
    assert all(task.status is TaskStatus.ANSWERED for task in cases.tasks(case_id))


def test_one_correction_round_names_every_deficiency_once(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    detail = without_material(without_material(application(), "PREMISES_PROOF"), "ARTICLES_OF_ASSOCIATION")
    case_id = submit(runtime, detail)
    supplied = [
        {"code": "PREMISES_PROOF", "document_ref": document("premises.pdf")},
        {"code": "ARTICLES_OF_ASSOCIATION", "document_ref": document("articles.pdf")},
    ]

    assert run(runtime, case_id, Script(correct=lambda event: supplied)) == "SUCCEEDED"

    notices = outbound.of("CorrectionRequested", case_id=case_id)
    assert len(notices) == 1
    assert sorted(notices[0]["items"]) == [
        "住所（经营场所）使用证明: not submitted",
        "公司章程: not submitted",
    ]
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert case.correction_round == 1
    assert {m.code for m in case.application.materials} >= {"PREMISES_PROOF", "ARTICLES_OF_ASSOCIATION"}
    assert events_of(case_id)[:6] == [
        ("intake", "submitted"),
        ("pre_review", "materials deficient"),
        ("correction", "correction requested"),
        ("correction", "correction submitted"),
        ("pre_review", "materials complete"),
        ("acceptance", "accepted"),
    ]
    correction = [t for t in cases.tasks(case_id) if t.kind is TaskKind.CORRECTION]
    assert [(t.task_id, t.status) for t in correction] == [(f"{case_id}.COR1", TaskStatus.ANSWERED)]


def test_a_rejection_by_one_department_closes_the_case_without_a_certificate(runtime: LocalRuntime) -> None:
    case_id = submit(runtime, held_transfer(runtime, submitted_at="2026-02-13T09:30:00+08:00"))

    def tax_office_rejects(event: dict[str, Any]) -> dict[str, Any]:
        if event["department"] == "SW-DEED-TAX":
            return {"decision": "reject", "comments": "申报成交价格明显偏低且无正当理由"}
        return {"decision": "approve"}

    assert run(runtime, case_id, Script(decide=tax_office_rejects)) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.REJECTED
    assert case.outcome_reason is not None
    assert "税务局（契税）: 申报成交价格明显偏低" in case.outcome_reason
    assert case.certificate_id is None
    assert case.waybill is None
    steps = [step for step, _ in events_of(case_id)]
    assert "certificate" not in steps
    assert "delivery" not in steps
    assert events_of(case_id)[-2:] == [("review", "stage 1 rejected"), ("completion", "rejected")]


def test_a_step_that_keeps_failing_is_retried_then_recorded_and_the_execution_fails(
    runtime: LocalRuntime,
) -> None:
    runtime.faults.inject("CertificateFunction", error=DependencyUnavailable.__name__, times=None)
    case_id = submit(runtime, application())
    calls_before = sum(1 for name, _ in runtime.invocations if name == "CertificateFunction")

    try:
        assert run(runtime, case_id) == "FAILED"
    finally:
        runtime.faults.clear()

    calls = sum(1 for name, _ in runtime.invocations if name == "CertificateFunction") - calls_before
    assert calls == 4  # the first attempt and three retries
    history = runtime.history(case_id)
    failed = next(e for e in history if e["type"] == "ExecutionFailed")
    assert failed["executionFailedEventDetails"]["error"] == "CaseFailed"
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.FAILED
    assert case.failure is not None
    assert (case.failure.step, case.failure.error) == ("certificate", "DependencyUnavailable")
    assert case.failure.cause == "DependencyUnavailable (injected fault)"
    assert events_of(case_id)[-1] == ("completion", "failed")


def test_a_refused_parcel_is_sent_again_and_the_case_completes(runtime: LocalRuntime) -> None:
    case_id = submit(runtime, application())
    attempts: list[str] = []

    def refused_once(event: dict[str, Any]) -> list[str]:
        attempts.append(str(event["waybill"]))
        return ["picked_up", "refused"] if len(attempts) == 1 else ["picked_up", "signed_for"]

    assert run(runtime, case_id, Script(tracking=refused_once)) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert len(set(attempts)) == 2
    assert case.waybill == attempts[1]
    shipments = sorted(
        (t.task_id, t.answer["status"])
        for t in cases.tasks(case_id)
        if t.kind is TaskKind.DELIVERY and t.answer
    )
    assert shipments == [(f"{case_id}.EMS1", "refused"), (f"{case_id}.EMS2", "signed_for")]
    assert ("delivery", "delivery problem") in events_of(case_id)


def test_a_duplicate_submission_does_not_open_a_second_case(runtime: LocalRuntime) -> None:
    detail = application()
    case_id = submit(runtime, detail)
    submit(runtime, detail)

    assert run(runtime, case_id) == "SUCCEEDED"

    executions = boto3.client("stepfunctions", region_name=REGION).list_executions(
        stateMachineArn=runtime.state_machine_arn
    )["executions"]
    assert [e["name"] for e in executions].count(case_id) == 1
    assert events_of(case_id).count(("intake", "submitted")) == 1
    assert cases.get_case(case_id).status is CaseStatus.COMPLETED


def test_an_invalid_application_is_rejected_with_every_reason_and_opens_nothing(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    detail = application()
    detail["applicant"]["id_number"] = "36042619910102009X"
    detail["matter_code"] = "NO-SUCH-MATTER"
    detail["delivery"]["phone"] = "12345"
    submit(runtime, detail)

    rejected = outbound.of("ApplicationRejected", application_id=detail["application_id"])
    assert len(rejected) == 1
    problems = rejected[0]["problems"]
    assert len(problems) == 3
    assert any(p.startswith("applicant.id_number:") for p in problems)
    assert any(p.startswith("matter_code:") for p in problems)
    assert any(p.startswith("delivery.phone:") for p in problems)
    assert "36042619910102009X" not in str(problems)
    assert runtime.execution_status(detail["application_id"]) is None
    with pytest.raises(Exception, match="no such record"):
        cases.get_case(detail["application_id"])


def test_an_application_intake_cannot_take_in_lands_in_the_dead_letter_queue(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    def storage_down(data: object) -> object:
        raise DependencyUnavailable("case storage unavailable")

    monkeypatch.setattr("zerovisit.services.intake.take_in", storage_down)
    detail = application()
    sqs = runtime.client("sqs")
    url = runtime.resources["IntakeDeadLetterQueue"]

    submit(runtime, detail)

    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    ours = [m for m in messages if detail["application_id"] in m["Body"]]
    assert len(ours) == 1
    assert ours[0]["MessageAttributes"]["ERROR_CODE"]["StringValue"] == "DependencyUnavailable"
    assert runtime.execution_status(detail["application_id"]) is None
    attempts = [name for name, _ in runtime.invocations if name == "IntakeFunction"]
    assert len(attempts) >= 5  # the first delivery and the rule's four retries
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
