"""The services as use cases over in-memory ports: every rule of the case record, no AWS."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from zerovisit.clock import clock
from zerovisit.domain.case import Case
from zerovisit.domain.identity import credit_code_problems
from zerovisit.domain.model import CaseStatus, CaseStep, SuspensionReason, TaskKind, TaskRef, TaskStatus
from zerovisit.domain.review import DepartmentDecision
from zerovisit.errors import Conflict, InvalidInput, NotPermitted, TaskClosed
from zerovisit.services import (
    acceptance,
    certificate,
    completion,
    delivery,
    intake,
    payment,
    prereview,
    recovery,
    review,
    sweeper,
)

from tests.fakes import FakeCases, FakeCertificates, FakeGateway
from tests.support import application

SERVICES = Path(__file__).resolve().parents[2] / "layers" / "common" / "zerovisit" / "services"
REAL_ESTATE = "application_submitted.real_estate_transfer"
ON_THE_CLOCK = {"submitted_at": "2026-02-13T09:30:00+08:00"}


@pytest.fixture
def gateway(cases: FakeCases) -> FakeGateway:
    from zerovisit.services.ports import ports

    found = ports().gateway
    assert isinstance(found, FakeGateway)
    return found


def approve() -> DepartmentDecision:
    return DepartmentDecision.model_validate({"decision": "approve", "comments": "ok"})


def accepted_case(cases: FakeCases, name: str = "application_submitted.business_startup") -> Case:
    case_id = intake.take_in(application(name, **ON_THE_CLOCK)).case_id
    prereview.check_materials(case_id)
    acceptance.accept(case_id)
    return cases.get(case_id)


def dispatch_stage(case: Case, stage: int = 0) -> list[str]:
    plan = acceptance.resume_plan(case.case_id)["review"]["stage"] if stage else None
    departments = (
        plan["departments"] if plan else acceptance.accept(case.case_id)["review"]["stage"]["departments"]
    )
    return [
        review.dispatch(case.case_id, stage, department, f"token-{department['code']}")["task_id"]
        for department in departments
    ]


def test_no_service_sets_status_or_step_itself() -> None:
    for path in SERVICES.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        for match in re.finditer(r"model_copy\(\s*update=\{([^}]*)\}", source):
            assert '"status"' not in match.group(1), path.name
            assert '"step"' not in match.group(1), path.name


def test_acceptance_writes_the_case_and_its_event_together(cases: FakeCases) -> None:
    case = accepted_case(cases)
    assert case.status is CaseStatus.IN_REVIEW
    assert case.step is CaseStep.REVIEW
    [accepted] = cases.published("CaseAccepted")
    assert accepted.detail is not None
    assert accepted.detail["case_number"] == case.case_number
    assert accepted.message_id == f"{case.case_id}.v{case.version}.e0"


def test_acceptance_run_twice_accepts_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    again = acceptance.accept(case.case_id)
    assert again["case_number"] == case.case_number
    assert len(cases.published("CaseAccepted")) == 1


def test_a_retried_dispatch_keeps_its_task_and_sends_its_request_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    department = acceptance.accept(case.case_id)["review"]["stage"]["departments"][0]
    first = review.dispatch(case.case_id, 0, department, "token-1")
    second = review.dispatch(case.case_id, 0, department, "token-2")
    assert first == second
    [task] = [t for t in cases.tasks(case.case_id) if t.kind is TaskKind.REVIEW]
    assert task.token == "token-2"
    assert len(cases.published("ReviewRequested")) == 1


def test_a_decision_answers_its_task_and_resumes_it_in_one_write(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    answer = review.decide(task_id, "dept-scjg", approve())
    assert answer["decision"]["decision"] == "approve"
    [resumed] = cases.resumed()
    assert resumed.token == "token-SCJG"
    assert resumed.output == {"task_id": task_id, "decision": "approve"}
    assert len(cases.published("ReviewDecided")) == 1


def test_the_same_decision_again_gets_the_first_answer_and_a_different_one_is_refused(
    cases: FakeCases,
) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    first = review.decide(task_id, "dept-scjg", approve())
    assert review.decide(task_id, "dept-scjg", approve()) == first
    with pytest.raises(TaskClosed):
        review.decide(task_id, "dept-scjg", DepartmentDecision.model_validate({"decision": "reject"}))
    assert len(cases.resumed()) == 1


def test_another_departments_task_is_not_permitted(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    with pytest.raises(NotPermitted):
        review.decide(task_id, "dept-sw", approve())


def test_a_twin_decision_that_loses_the_race_gets_the_first_answer(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    twin: list[dict[str, Any]] = []
    cases.before_save = lambda change: twin.append(review.decide(task_id, "dept-scjg", approve()))
    answer = review.decide(task_id, "dept-scjg", approve())
    assert answer == twin[0]
    assert len(cases.resumed()) == 1


def test_a_different_decision_that_loses_the_race_is_refused(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    reject = DepartmentDecision.model_validate({"decision": "reject", "comments": "no"})
    cases.before_save = lambda change: review.decide(task_id, "dept-scjg", reject)
    with pytest.raises(TaskClosed):
        review.decide(task_id, "dept-scjg", approve())
    assert cases.task(TaskRef.parse(task_id)).answer == {"decision": "reject", "comments": "no", "items": []}


def test_a_rejection_cancels_the_other_tasks_of_its_stage(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [first] = dispatch_stage(case)
    review.decide(first, "dept-scjg", approve())
    assert review.consolidate_stage(case.case_id, 0)["outcome"] == "next_stage"
    stage_two = [
        review.dispatch(case.case_id, 1, d, f"token-{d['code']}")["task_id"]
        for d in acceptance.resume_plan(case.case_id)["review"]["stage"]["departments"]
    ]
    tax = next(t for t in stage_two if "SW-INVOICE" in t)
    review.decide(tax, "dept-sw", DepartmentDecision.model_validate({"decision": "reject", "comments": "x"}))
    statuses = {t.task_id: t.status for t in cases.tasks(case.case_id) if t.stage == 1}
    assert statuses.pop(tax) is TaskStatus.ANSWERED
    assert set(statuses.values()) == {TaskStatus.CANCELLED}
    assert len(cases.published("TaskCancelled")) == 2
    assert {m.output["decision"] for m in cases.resumed() if m.output} >= {"cancelled", "reject"}
    assert review.consolidate_stage(case.case_id, 1)["outcome"] == "rejected"
    late = next(t for t in stage_two if t != tax)
    with pytest.raises(TaskClosed):
        review.decide(late, cases.task(TaskRef.parse(late)).partner, approve())


def test_overlapping_suspensions_count_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [first] = dispatch_stage(case)
    suspend = DepartmentDecision.model_validate({"decision": "suspend", "reason": "expert_review"})
    review.decide(first, "dept-scjg", suspend)
    assert review.decide(first, "dept-scjg", suspend)["status"] == "suspended"
    assert len(cases.get(case.case_id).suspensions) == 1


def test_a_sweep_that_loses_to_a_decision_never_undoes_it(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    clock.advance(timedelta(days=20))
    cases.before_save = lambda change: review.decide(task_id, "dept-scjg", approve())
    counts = sweeper.sweep(clock.now())
    assert counts["skipped"] >= 1
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.ANSWERED


def test_a_silent_department_is_escalated_then_its_task_expires_at_the_final_limit(
    cases: FakeCases,
) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    clock.advance(timedelta(days=14))
    sweeper.sweep(clock.now())
    escalated = cases.task(TaskRef.parse(task_id))
    assert escalated.escalations == 1
    assert escalated.is_open
    [overdue] = cases.published("ReviewOverdue")
    assert overdue.detail is not None
    assert overdue.detail["partner_id"] == "dept-scjg"
    clock.advance(timedelta(days=14))
    sweeper.sweep(clock.now())
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.EXPIRED
    assert [m.error for m in cases.resumed()] == ["WaitExpired"]
    assert review.consolidate_stage(case.case_id, 0)["outcome"] == "expired"


def test_an_unpaid_order_expires_and_is_not_the_offices_time(cases: FakeCases) -> None:
    case = accepted_case(cases, REAL_ESTATE)
    for task_id in dispatch_stage(case):
        review.decide(task_id, cases.task(TaskRef.parse(task_id)).partner, approve())
    assert review.consolidate_stage(case.case_id, 0)["outcome"] == "approved"
    order = payment.request_payment(case.case_id, "pay-token")["order_id"]
    assert payment.request_payment(case.case_id, "pay-token-2")["order_id"] == order
    assert len(cases.published("PaymentRequested")) == 1
    held = cases.get(case.case_id).held_by(order)
    assert held is not None
    assert held.reason is SuspensionReason.APPLICANT_PAYMENT
    clock.advance(timedelta(days=30))
    sweeper.sweep(clock.now())
    assert cases.task(TaskRef.parse(order)).status is TaskStatus.EXPIRED
    [expired] = [m for m in cases.resumed() if m.error]
    assert (expired.token, expired.error) == ("pay-token-2", "WaitExpired")
    [told] = cases.published("TaskOverdue")
    assert told.detail is not None
    assert (told.detail["partner_id"], told.detail["action"]) == ("payment-platform", "expired")
    completion.close(case.case_id, "withdrawn", "the fee was not paid within the payment limit")
    closed = cases.get(case.case_id)
    assert closed.status is CaseStatus.WITHDRAWN
    assert closed.working_days_used is not None
    assert closed.working_days_used <= 1


def test_a_payment_for_another_amount_is_refused_and_changes_nothing(cases: FakeCases) -> None:
    case = accepted_case(cases, REAL_ESTATE)
    for task_id in dispatch_stage(case):
        review.decide(task_id, cases.task(TaskRef.parse(task_id)).partner, approve())
    review.consolidate_stage(case.case_id, 0)
    order = payment.request_payment(case.case_id, "pay-token")["order_id"]
    wrong = payment.PaymentConfirmation(order_id=order, status="paid", amount_fen=1, transaction_id="T1")
    with pytest.raises(InvalidInput):
        payment.confirm_payment("payment-platform", wrong)
    assert cases.task(TaskRef.parse(order)).is_open


def test_a_failed_case_resumes_once_in_a_new_execution(cases: FakeCases, gateway: FakeGateway) -> None:
    case = accepted_case(cases)
    completion.close(case.case_id, "failed", '{"errorMessage": "key unavailable"}', "DependencyUnavailable")
    failed = cases.get(case.case_id)
    assert failed.failure is not None
    assert failed.failure.cause == "key unavailable"
    first = recovery.resume(case.case_id, "operations")
    again = recovery.resume(case.case_id, "operations")
    assert first["execution_arn"] == again["execution_arn"]
    assert first["execution_arn"].endswith(f"{case.case_id}.run2")
    resumed = cases.get(case.case_id)
    assert resumed.status is CaseStatus.IN_REVIEW
    assert resumed.failure is None
    assert len(resumed.failures) == 1
    assert len(cases.published("CaseResumed")) == 1
    assert [name for _, name, resume in gateway.executions if resume] == [f"{case.case_id}.run2"] * 2


def test_an_open_case_cannot_be_resumed(cases: FakeCases) -> None:
    case = accepted_case(cases)
    with pytest.raises(Conflict):
        recovery.resume(case.case_id, "operations")


def test_a_certificate_is_issued_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    for task_id in dispatch_stage(case):
        review.decide(task_id, "dept-scjg", approve())
    review.consolidate_stage(case.case_id, 0)
    for task_id in dispatch_stage(case, stage=1):
        review.decide(task_id, cases.task(TaskRef.parse(task_id)).partner, approve())
    assert review.consolidate_stage(case.case_id, 1)["outcome"] == "approved"
    first = certificate.issue(case.case_id)
    assert certificate.issue(case.case_id) == first
    assert cases.certificates == [first["identifier"]]


def test_withdrawal_closes_the_case_and_cancels_its_open_tasks(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    recovery.withdraw(case.case_id, "the applicant no longer needs it", "service-network")
    assert cases.get(case.case_id).status is CaseStatus.WITHDRAWN
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.CANCELLED
    assert [m.error for m in cases.resumed()] == ["CaseWithdrawn"]
    assert recovery.withdraw(case.case_id, "again", "service-network")["status"] == "withdrawn"
    with pytest.raises(TaskClosed):
        review.decide(task_id, "dept-scjg", approve())


def test_a_resubmission_with_other_content_is_refused(cases: FakeCases, gateway: FakeGateway) -> None:
    detail = application()
    assert intake.take_in(detail).created
    assert not intake.take_in(dict(detail)).created
    changed = {**detail, "region_code": "320104"}
    with pytest.raises(Conflict, match="differs in: region_code"):
        intake.take_in(changed)
    assert gateway.events[-1].detail["application_id"] == detail["application_id"]


def test_a_refusal_stays_small_whatever_the_input(cases: FakeCases, gateway: FakeGateway) -> None:
    detail = application()
    detail.update({f"unknown_{n}_{'k' * 400}": n for n in range(6500)})
    with pytest.raises(InvalidInput) as refused:
        intake.take_in(detail)
    problems = refused.value.problems
    assert len(problems) == intake.MAX_PROBLEMS
    assert problems[-1].startswith("and ")
    assert all(len(p) <= intake.MAX_PROBLEM_LENGTH for p in problems)
    assert len(str(gateway.events[-1].detail)) < 64_000


@pytest.mark.parametrize(
    ("submitted_at", "problem"),
    [
        ("2026-02-13T09:30:00", "submitted_at: must carry a time zone offset"),
        ("2099-01-01T09:30:00+08:00", "submitted_at: is in the future"),
    ],
)
def test_a_submission_moment_needs_its_offset_and_must_have_happened(
    cases: FakeCases, submitted_at: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        intake.take_in(application(submitted_at=submitted_at))
    assert any(p.startswith(problem) for p in refused.value.problems)


def test_a_correction_window_that_passes_expires_the_wait(cases: FakeCases) -> None:
    detail = application()
    detail["materials"] = detail["materials"][1:]
    case_id = intake.take_in(detail).case_id
    assert prereview.check_materials(case_id)["may_correct"]
    task_id = prereview.await_correction(case_id, "pre_review", "cor-token")["task_id"]
    clock.advance(timedelta(days=30))
    assert sweeper.sweep(clock.now())["correction_expired"] == 1
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.EXPIRED
    assert [(m.token, m.error) for m in cases.resumed()] == [("cor-token", "WaitExpired")]


def test_a_dispatch_retried_after_the_department_answered_resumes_with_that_answer(
    cases: FakeCases,
) -> None:
    case = accepted_case(cases)
    department = acceptance.accept(case.case_id)["review"]["stage"]["departments"][0]
    entered = "2026-02-13T01:30:00+00:00"
    task_id = review.dispatch(case.case_id, 0, department, "token-1", entered)["task_id"]
    review.decide(task_id, "dept-scjg", approve())

    again = review.dispatch(case.case_id, 0, department, "token-2", entered)

    assert again["task_id"] == task_id
    assert len([t for t in cases.tasks(case.case_id) if t.kind is TaskKind.REVIEW]) == 1
    assert len(cases.published("ReviewRequested")) == 1
    assert [(m.token, m.output) for m in cases.resumed()] == [
        ("token-1", {"task_id": task_id, "decision": "approve"}),
        ("token-2", {"task_id": task_id, "decision": "approve"}),
    ]
    # a new round of the stage (after a correction) asks again
    fresh = review.dispatch(case.case_id, 0, department, "token-3", "2026-02-20T01:30:00+00:00")
    assert fresh["task_id"] != task_id


def approved_case(cases: FakeCases, name: str) -> Case:
    """A case through pre-review, acceptance and every review stage, every department approving."""
    case = accepted_case(cases, name)
    stage = 0
    while True:
        plan = acceptance.resume_plan(case.case_id)["review"]["stage"]
        for department in plan["departments"]:
            task_id = review.dispatch(case.case_id, stage, department, f"token-{department['code']}")[
                "task_id"
            ]
            review.decide(task_id, department["partner_id"], approve())
        outcome = review.consolidate_stage(case.case_id, stage)
        if outcome["outcome"] == "approved":
            return cases.get(case.case_id)
        stage = outcome["stage"]["index"]


def test_a_business_start_up_registers_the_enterprise_which_holds_its_licence(cases: FakeCases) -> None:
    case = approved_case(cases, "application_submitted.business_startup")
    certificate.issue(case.case_id)
    [licence] = cases.issued
    credit_code = cases.get(case.case_id).registered_credit_code
    assert credit_code is not None
    assert len(credit_code) == 18
    assert credit_code_problems(credit_code) == []
    assert licence.holder_id == credit_code
    assert case.application.enterprise is not None
    assert licence.holder_name == case.application.enterprise.name


def test_a_transfer_gives_the_buyer_a_new_title_and_revokes_the_sellers(cases: FakeCases) -> None:
    from zerovisit.services.ports import ports

    detail = application(REAL_ESTATE, **ON_THE_CLOCK)
    transfer = detail["transfer"]
    old_title = next(
        c for c in cases.issued or [_held_title(transfer)] if c.identifier == transfer["seller_title"]
    )
    library = ports().certificates
    assert isinstance(library, FakeCertificates)
    library.holdings[transfer["seller"]["id_number"]] = [old_title]
    case_id = intake.take_in(detail).case_id
    prereview.check_materials(case_id)
    acceptance.accept(case_id)
    case = cases.get(case_id)
    for task_id in dispatch_stage(case):
        review.decide(task_id, cases.task(TaskRef.parse(task_id)).partner, approve())
    review.consolidate_stage(case_id, 0)
    order = payment.request_payment(case_id, "pay-token")["order_id"]
    amount = int(cases.task(TaskRef.parse(order)).details["amount_fen"])
    paid = payment.PaymentConfirmation(order_id=order, status="paid", amount_fen=amount, transaction_id="T-1")
    payment.confirm_payment("payment-platform", paid)

    certificate.issue(case_id)

    [title] = cases.issued
    assert title.holder_id == transfer["buyer"]["id_number"]
    [revoked] = cases.revoked
    assert revoked.identifier == transfer["seller_title"]
    assert revoked.status == "revoked"
    assert revoked.revoked_reason is not None
    assert title.identifier in revoked.revoked_reason
    assert "certificate revoked" in [e.event for e in cases.timelines[case_id]]


def _held_title(transfer: dict[str, Any]) -> Any:
    from zerovisit.domain.certificate import Certificate

    return Certificate(
        identifier=transfer["seller_title"],
        kind="REAL_ESTATE_TITLE",
        name="不动产权证书",
        holder_id=transfer["seller"]["id_number"],
        holder_name=transfer["seller"]["name"],
        issuer_code="11320100MB0C00773R",
        issuer_name="南京市不动产登记中心",
        case_id="EARLIER-CASE",
        case_number="32010220250000001",
        issued_at=clock.now() - timedelta(days=900),
        signing_key_id="key",
        signature="sig",
    )


def test_a_department_dispatched_after_its_stage_was_rejected_is_cancelled_at_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [first] = dispatch_stage(case)
    review.decide(first, "dept-scjg", approve())
    review.consolidate_stage(case.case_id, 0)
    [tax, *others] = sorted(
        acceptance.resume_plan(case.case_id)["review"]["stage"]["departments"],
        key=lambda d: d["code"] != "SW-INVOICE",
    )
    tax_task = review.dispatch(case.case_id, 1, tax, "token-tax")["task_id"]
    review.decide(
        tax_task, "dept-sw", DepartmentDecision.model_validate({"decision": "reject", "comments": "x"})
    )

    late = review.dispatch(case.case_id, 1, others[0], "token-late")["task_id"]

    assert cases.task(TaskRef.parse(late)).status is TaskStatus.CANCELLED
    assert ("token-late", {"task_id": late, "decision": "cancelled"}) in [
        (m.token, m.output) for m in cases.resumed()
    ]


def test_a_shipment_never_signed_for_counts_as_lost_and_ems_is_told(cases: FakeCases) -> None:
    case = approved_case(cases, "application_submitted.business_startup")
    certificate.issue(case.case_id)
    order = delivery.dispatch(case.case_id, "ems-token", "2026-02-13T01:30:00+00:00")["order_id"]
    clock.advance(timedelta(days=30))

    assert sweeper.sweep(clock.now())["shipments_overdue"] == 1

    assert cases.task(TaskRef.parse(order)).status is TaskStatus.EXPIRED
    assert [(m.token, m.error) for m in cases.resumed()][-1] == ("ems-token", "DeliveryFailed")
    [told] = cases.published("TaskOverdue")
    assert told.detail is not None
    assert (told.detail["partner_id"], told.detail["action"]) == ("ems", "redispatch")
    assert delivery.assess_problem(case.case_id) == {"redeliver": True}
