"""The services as use cases over in-memory ports: every rule of the case record, no AWS."""

import ast
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from zerovisit.clock import CHINA, clock
from zerovisit.domain.case import Case
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.identity import (
    certificate_identifier,
    credit_code_problems,
    new_organisation_code,
    unified_credit_code,
)
from zerovisit.domain.model import (
    CaseStatus,
    CaseStep,
    SubmittedMaterial,
    SuspensionReason,
    TaskKind,
    TaskRef,
    TaskStatus,
)
from zerovisit.domain.review import DepartmentDecision
from zerovisit.errors import (
    CaseNotFound,
    Conflict,
    DependencyUnavailable,
    InvalidInput,
    NotPermitted,
    TaskClosed,
    TitleNotValid,
)
from zerovisit.services import (
    acceptance,
    certificate,
    completion,
    delivery,
    intake,
    payment,
    prereview,
    recovery,
    rendering,
    review,
    revocation,
    search,
    sweeper,
    verification,
)
from zerovisit.services import library as library_service
from zerovisit.services.ports import KeptAnswer, ports

from tests.fakes import FakeCases, FakeCatalog, FakeCertificates, FakeGateway
from tests.support import application, held_title

SERVICES = Path(__file__).resolve().parents[2] / "layers" / "common" / "zerovisit" / "services"
SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "events" / "schemas"
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


def fake_library() -> FakeCertificates:
    library = ports().certificates
    assert isinstance(library, FakeCertificates)
    return library


def accepted_case(cases: FakeCases, name: str = "application_submitted.business_startup") -> Case:
    """A case through pre-review (complete: a transfer's seller holds the title it names) and
    acceptance."""
    detail = application(name, **ON_THE_CLOCK)
    if detail.get("transfer"):
        fake_library().hold(held_title(detail["transfer"]))
    case_id = intake.take_in(detail).case_id
    assert prereview.check_materials(case_id)["complete"]
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


def status_or_step_writes(source: str) -> list[tuple[int, str]]:
    """Where a source sets a case's status or step: a ``model_copy(update=...)`` naming either
    key, or an assignment to ``.status``/``.step``; each with its line and enclosing function."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inside = child.name if isinstance(child, ast.FunctionDef) else function
            if isinstance(child, ast.Call) and getattr(child.func, "attr", None) == "model_copy":
                for keyword in child.keywords:
                    keys = keyword.value.keys if isinstance(keyword.value, ast.Dict) else []
                    if any(isinstance(k, ast.Constant) and k.value in ("status", "step") for k in keys):
                        found.append((child.lineno, inside))
            if isinstance(child, ast.Assign | ast.AugAssign | ast.AnnAssign):
                targets = child.targets if isinstance(child, ast.Assign) else [child.target]
                if any(isinstance(t, ast.Attribute) and t.attr in ("status", "step") for t in targets):
                    found.append((child.lineno, inside))
            visit(child, inside)

    visit(ast.parse(source), "")
    return found


def test_no_service_sets_status_or_step_itself() -> None:
    """The transition table is the only way a case's status changes: outside the domain nothing in
    the package sets a status or step, and in the aggregate only ``Case._moved`` does."""
    package = SERVICES.parent
    writes = {
        str(path.relative_to(package)): status_or_step_writes(path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
    }
    assert len(writes) > 50  # the whole package was read
    outside = {name: found for name, found in writes.items() if found and not name.startswith("domain/")}
    assert outside == {}
    # (model.py and certificate.py set a task's and a certificate's own status, in their methods)
    assert [function for _, function in writes["domain/case.py"]] == ["_moved"]


def test_the_scan_finds_every_form_of_setting_a_status() -> None:
    source = (
        "def a(c):\n    return c.model_copy(\n        update={'step': 'x'}\n    )\n"
        "def b(c):\n    c.status = 'y'\n"
        "def d(c):\n    return c.model_copy(update={'version': 2})\n"
    )
    assert status_or_step_writes(source) == [(2, "a"), (6, "b")]


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


def test_a_decision_and_a_dispatch_each_read_the_case_and_its_tasks_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    department = acceptance.accept(case.case_id)["review"]["stage"]["departments"][0]
    cases.reads = 0
    task_id = review.dispatch(case.case_id, 0, department, "token-1")["task_id"]
    assert cases.reads == 1
    cases.reads = 0
    review.decide(task_id, department["partner_id"], approve())
    assert cases.reads == 1


def test_a_rejection_reads_the_case_and_its_tasks_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    cases.reads = 0
    reject = DepartmentDecision.model_validate({"decision": "reject", "comments": "名称不符合规定"})
    review.decide(task_id, "dept-scjg", reject)
    assert cases.reads == 1
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.ANSWERED


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


def keeping(key: str) -> Callable[[dict[str, Any]], KeptAnswer]:
    """What the API gives a callback's service: its answer, to keep with the service's write."""
    return lambda result: KeptAnswer(key, status=200, body=dict(result), at=clock.now())


def test_a_decision_keeps_the_routes_answer_in_its_own_write(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    answer = review.decide(task_id, "dept-scjg", approve(), keeping("replay-1"))
    kept = cases.kept["replay-1"]
    assert kept.written
    assert (kept.status, kept.body) == (200, answer)
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.ANSWERED


def test_a_decision_that_loses_the_race_to_its_twin_keeps_no_answer_with_a_write(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    kept: list[KeptAnswer] = []
    cases.before_save = lambda change: review.decide(task_id, "dept-scjg", approve())

    def keep(result: dict[str, Any]) -> KeptAnswer:
        kept.append(keeping("replay-2")(result))
        return kept[-1]

    answer = review.decide(task_id, "dept-scjg", approve(), keep)
    assert answer["status"] == "recorded"
    assert not kept[0].written  # the twin wrote the decision: the route keeps its answer itself
    assert "replay-2" not in cases.kept
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
    case = accepted_case(cases, REAL_ESTATE)
    joint = dispatch_stage(case)
    tax = next(t for t in joint if "SW-DEED-TAX" in t)
    review.decide(tax, "dept-sw", DepartmentDecision.model_validate({"decision": "reject", "comments": "x"}))
    statuses = {t.task_id: t.status for t in cases.tasks(case.case_id) if t.stage == 0}
    assert statuses.pop(tax) is TaskStatus.ANSWERED
    assert set(statuses.values()) == {TaskStatus.CANCELLED}
    assert len(cases.published("TaskCancelled")) == 2
    assert {m.output["decision"] for m in cases.resumed() if m.output} >= {"cancelled", "reject"}
    assert review.consolidate_stage(case.case_id, 0)["outcome"] == "rejected"
    late = next(t for t in joint if t != tax)
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


def test_a_department_is_reminded_once_at_80_percent_of_its_limit_then_told_it_is_overdue(
    cases: FakeCases,
) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    task = cases.task(TaskRef.parse(task_id))
    assert task.due_on is not None
    assert task.next_alarm_at is not None
    reminder_day = task.next_alarm_at.astimezone(CHINA).date()
    assert task.created_at.astimezone(CHINA).date() < reminder_day <= task.due_on

    clock.set(task.next_alarm_at - timedelta(minutes=1))
    assert sweeper.sweep(clock.now()).get("reminders") is None  # not yet 80 %
    clock.set(task.next_alarm_at + timedelta(hours=1))
    first, second = sweeper.sweep(clock.now()), sweeper.sweep(clock.now())

    assert (first.get("reminders"), second.get("reminders")) == (1, None)
    [reminded] = [m.detail for m in cases.published("TaskDueSoon")]
    assert reminded is not None
    assert (reminded["task_id"], reminded["partner_id"], reminded["kind"]) == (task_id, "dept-scjg", "review")
    assert reminded["due_on"] == str(task.due_on)
    assert cases.published("ReviewOverdue") == []
    schema = json.loads((SCHEMAS_DIR / "TaskDueSoon.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(reminded)

    clock.set(datetime.combine(task.due_on + timedelta(days=1), time(9), tzinfo=CHINA))
    sweeper.sweep(clock.now())
    [overdue] = [m.detail for m in cases.published("ReviewOverdue")]
    assert overdue is not None
    assert overdue["partner_id"] == "dept-scjg"
    assert len(cases.published("TaskDueSoon")) == 1


def test_a_reminder_that_loses_to_a_decision_reminds_nobody(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    task = cases.task(TaskRef.parse(task_id))
    assert task.next_alarm_at is not None
    clock.set(task.next_alarm_at + timedelta(hours=1))
    cases.before_save = lambda change: review.decide(task_id, "dept-scjg", approve())

    counts = sweeper.sweep(clock.now())

    assert counts["skipped"] >= 1
    assert counts.get("reminders") is None
    assert cases.published("TaskDueSoon") == []
    assert cases.task(TaskRef.parse(task_id)).status is TaskStatus.ANSWERED


def test_a_failed_case_reminds_no_department_of_its_open_review(cases: FakeCases) -> None:
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    task = cases.task(TaskRef.parse(task_id))
    assert task.next_alarm_at is not None
    completion.close(case.case_id, "failed", '{"errorMessage": "key unavailable"}', "DependencyUnavailable")

    clock.set(task.next_alarm_at + timedelta(hours=1))
    swept = sweeper.sweep(clock.now())

    assert swept.get("reminders") is None
    assert cases.published("TaskDueSoon") == []


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


def test_a_callback_naming_an_order_that_is_not_ours_is_invalid_input(cases: FakeCases) -> None:
    paid = payment.PaymentConfirmation(order_id="ORDER-9", status="paid", amount_fen=1, transaction_id="T1")
    shipped = delivery.TrackingEvent(order_id="ORDER-9", waybill="EA000000019CN", status="signed_for")

    with pytest.raises(InvalidInput) as payment_refused:
        payment.confirm_payment("payment-platform", paid)
    with pytest.raises(InvalidInput) as tracking_refused:
        delivery.track("ems", shipped)

    assert payment_refused.value.problems == ["order_id: not a payment order of this system"]
    assert tracking_refused.value.problems == ["order_id: not a shipment of this system"]
    assert cases.reads == 0  # refused before anything is read


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


def failed_at_issuance(cases: FakeCases) -> Case:
    """A paid transfer whose certificate step failed after its retries (the completion step ran
    twice, as a retried Lambda would)."""
    case = paid_transfer(cases)
    cause = '{"errorMessage": "signing key unavailable; call 13812345678"}'
    for _ in range(2):
        completion.close(case.case_id, "failed", cause, "DependencyUnavailable")
    return cases.get(case.case_id)


def endings(cases: FakeCases) -> list[tuple[str | None, Any]]:
    kinds = ("CaseFailed", "CaseClosed", "CaseCompleted")
    return [
        (m.detail_type, m.detail and m.detail.get("outcome"))
        for m in cases.published()
        if m.detail_type in kinds
    ]


@pytest.mark.parametrize(
    ("settled", "status", "ending"),
    [
        ("resumed", CaseStatus.COMPLETED, ("CaseCompleted", "completed")),
        ("refused", CaseStatus.REJECTED, ("CaseClosed", "rejected")),
        ("withdrawn", CaseStatus.WITHDRAWN, ("CaseClosed", "withdrawn")),
    ],
)
def test_a_failed_case_is_not_closed_and_ends_once_when_settled(
    cases: FakeCases, settled: str, status: CaseStatus, ending: tuple[str, str]
) -> None:
    failed = failed_at_issuance(cases)

    assert (failed.status, failed.step) == (CaseStatus.FAILED, CaseStep.CERTIFICATE)
    [told] = [m.detail for m in cases.published("CaseFailed")]
    assert told is not None
    assert (told["step"], told["error"]) == ("certificate", "DependencyUnavailable")
    assert "unavailable" not in told["reason"]  # the cause stays inside
    assert "13812345678" not in str(told)
    schema = json.loads((SCHEMAS_DIR / "CaseFailed.json").read_text(encoding="utf-8"))
    Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER).validate(told)
    assert endings(cases) == [("CaseFailed", None)]

    if settled == "resumed":
        recovery.resume(failed.case_id, "operations")
        certificate.issue(failed.case_id)
    elif settled == "refused":
        recovery.refuse(failed.case_id, "出卖人不动产权证书已被注销，不予登记", "operations")
    else:
        recovery.withdraw(failed.case_id, "the applicant no longer needs it", "service-network")
    for _ in range(2):  # the closing step, retried
        completion.close(failed.case_id, "completed", "certificate issued and delivered")

    assert cases.get(failed.case_id).status is status
    assert endings(cases) == [("CaseFailed", None), ending]


def test_an_open_case_cannot_be_resumed(cases: FakeCases) -> None:
    case = accepted_case(cases)
    with pytest.raises(Conflict):
        recovery.resume(case.case_id, "operations")


def test_a_failed_case_that_cannot_succeed_is_refused_once_with_its_reason(cases: FakeCases) -> None:
    case = accepted_case(cases)
    completion.close(case.case_id, "failed", '{"errorMessage": "title revoked"}', "TitleNotValid")
    reason = "出卖人不动产权证书已被注销，不予登记"

    first = recovery.refuse(case.case_id, f"  {reason} ", "operations")
    again = recovery.refuse(case.case_id, reason, "operations")

    assert first == again == {"case_id": case.case_id, "status": "rejected"}
    refused = cases.get(case.case_id)
    assert (refused.status, refused.outcome_reason) == (CaseStatus.REJECTED, reason)
    assert [f.error for f in refused.failures] == ["TitleNotValid"]  # the failure stays in the history
    closed = [
        m.detail for m in cases.published("CaseClosed") if m.detail and m.detail["outcome"] == "rejected"
    ]
    assert closed == [{**closed[0], "reason": reason}]  # once, and the applicant is told why
    [note] = [e for e in cases.timelines[case.case_id] if e.event == "refused"]
    assert (note.actor, note.detail) == (
        "operations",
        f"{reason} (after {case.step.value} failed: TitleNotValid)",
    )
    with pytest.raises(Conflict):
        recovery.resume(case.case_id, "operations")
    with pytest.raises(Conflict):
        recovery.refuse(case.case_id, "another reason", "operations")


def test_a_refusal_that_loses_the_race_to_a_resumption_leaves_the_case_resumed(cases: FakeCases) -> None:
    case = accepted_case(cases)
    completion.close(case.case_id, "failed", '{"errorMessage": "key unavailable"}', "DependencyUnavailable")
    cases.before_save = lambda change: recovery.resume(case.case_id, "operations")

    with pytest.raises(Conflict, match="only a failed case can be refused"):
        recovery.refuse(case.case_id, "cannot be approved", "operations")

    resumed = cases.get(case.case_id)
    assert (resumed.status, resumed.outcome_reason) == (CaseStatus.IN_REVIEW, None)
    assert [m for m in cases.published("CaseClosed") if m.detail and m.detail["outcome"] == "rejected"] == []


def test_only_a_failed_case_is_refused_and_the_reason_is_checked_first(cases: FakeCases) -> None:
    case = accepted_case(cases)
    with pytest.raises(Conflict, match="only a failed case can be refused; this one is in_review"):
        recovery.refuse(case.case_id, "cannot be approved", "operations")
    with pytest.raises(InvalidInput) as refused:
        recovery.refuse(case.case_id, "call 13812345678\nnow", "operations")
    assert len(refused.value.problems) == 2  # a line break and a phone number, named at once
    assert cases.get(case.case_id).status is CaseStatus.IN_REVIEW


def test_a_certificate_is_issued_once(cases: FakeCases) -> None:
    case = accepted_case(cases)
    for task_id in dispatch_stage(case):
        review.decide(task_id, "dept-scjg", approve())
    assert review.consolidate_stage(case.case_id, 0)["outcome"] == "approved"
    first = certificate.issue(case.case_id)
    assert certificate.issue(case.case_id) == first
    assert cases.certificates == [first["identifier"]]


def failed_in_review(cases: FakeCases) -> tuple[Case, str, date]:
    """A case whose step failed while a department's review task was open: the case, the task's id
    and its limit."""
    case = accepted_case(cases)
    [task_id] = dispatch_stage(case)
    completion.close(case.case_id, "failed", '{"errorMessage": "key unavailable"}', "DependencyUnavailable")
    due_on = cases.task(TaskRef.parse(task_id)).due_on
    assert due_on is not None
    return case, task_id, due_on


@pytest.mark.parametrize(
    ("settle", "by", "status"),
    [(recovery.refuse, "operations", "rejected"), (recovery.withdraw, "service-network", "withdrawn")],
)
def test_settling_a_failed_case_cancels_the_tasks_it_left_open(
    cases: FakeCases, settle: Callable[[str, str, str], dict[str, Any]], by: str, status: str
) -> None:
    case, task_id, _ = failed_in_review(cases)

    first = settle(case.case_id, "登记机关系统无法恢复", by)
    again = settle(case.case_id, "登记机关系统无法恢复", by)

    assert first == again == {"case_id": case.case_id, "status": status}
    with pytest.raises(Conflict):
        recovery.resume(case.case_id, "operations")

    task = cases.task(TaskRef.parse(task_id))
    assert (task.status, task.next_alarm_at) == (TaskStatus.CANCELLED, None)
    [told] = [m.detail for m in cases.published("TaskCancelled")]  # once, to the department
    assert told is not None
    assert (told["task_id"], told["partner_id"]) == (task_id, task.partner)
    assert cases.resumed() == []  # the failed execution waits for nothing
    clock.set(clock.now() + timedelta(days=400))
    assert [item.task for item in cases.due(clock.now()) if item.task] == []
    with pytest.raises(TaskClosed):
        review.decide(task_id, "dept-scjg", approve())


def test_a_failed_case_freezes_its_open_tasks_and_the_sweep_reads_them_once_a_day(
    cases: FakeCases,
) -> None:
    _, task_id, due_on = failed_in_review(cases)
    published = len(cases.published())

    clock.set(datetime.combine(due_on + timedelta(days=30), time(9), CHINA))  # long past its limit
    first = sweeper.sweep(clock.now())
    reads = cases.reads
    for _ in range(10):  # the rest of the day's sweeps
        clock.set(clock.now() + timedelta(minutes=15))
        sweeper.sweep(clock.now())
    later_reads = cases.reads - reads

    frozen = cases.task(TaskRef.parse(task_id))
    assert first.get("rescheduled") == 1
    assert (frozen.status, frozen.escalations) == (TaskStatus.OPEN, 0)  # not escalated, deemed or expired
    assert len(cases.published()) == published  # nobody is told anything
    assert later_reads == 0  # the later sweeps read neither the task nor its case
    assert frozen.next_alarm_at is not None
    assert frozen.next_alarm_at > clock.now()


def test_a_sweep_that_loses_to_a_refusal_leaves_the_task_cancelled(cases: FakeCases) -> None:
    case, task_id, due_on = failed_in_review(cases)
    clock.set(datetime.combine(due_on + timedelta(days=30), time(9), CHINA))
    cases.before_save = lambda change: recovery.refuse(case.case_id, "登记机关系统无法恢复", "operations")

    swept = sweeper.sweep(clock.now())

    assert swept["skipped"] == 1  # its write, decided on the failed case, is refused
    task = cases.task(TaskRef.parse(task_id))
    assert (task.status, task.next_alarm_at) == (TaskStatus.CANCELLED, None)
    assert cases.get(case.case_id).status is CaseStatus.REJECTED


def test_a_resumed_case_takes_up_the_limits_of_the_tasks_its_failure_froze(
    cases: FakeCases, gateway: FakeGateway
) -> None:
    case, _, due_on = failed_in_review(cases)
    clock.set(datetime.combine(due_on + timedelta(days=30), time(9), CHINA))
    assert sweeper.sweep(clock.now()).get("rescheduled") == 1

    recovery.resume(case.case_id, "operations")
    clock.set(clock.now() + timedelta(days=1))
    swept = sweeper.sweep(clock.now())

    assert swept.get("escalated") == 1  # the department's limit, long passed, is enforced again
    assert len(cases.published("ReviewOverdue")) == 1


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


def test_a_huge_field_name_is_cut_and_the_reason_kept(cases: FakeCases, gateway: FakeGateway) -> None:
    detail = application()
    name = "x" * 200_000
    detail[name] = 1
    with pytest.raises(InvalidInput) as refused:
        intake.take_in(detail)
    [problem] = refused.value.problems
    assert len(problem) == intake.MAX_PROBLEM_LENGTH
    assert problem.startswith("x" * intake.KEPT_START + "…")
    assert problem.endswith("x: Extra inputs are not permitted")
    assert gateway.events[-1].detail["problems"] == [problem]


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


@pytest.mark.parametrize("deficient", [True, False])
def test_a_retried_pre_review_records_its_finding_once(cases: FakeCases, deficient: bool) -> None:
    """The check's write commits and its Lambda crashes; the retry finds its finding recorded."""
    detail = application()
    if deficient:
        detail["materials"] = detail["materials"][1:]
    case_id = intake.take_in(detail).case_id
    first = prereview.check_materials(case_id)
    version = cases.get(case_id).version

    assert prereview.check_materials(case_id) == first
    assert cases.get(case_id).version == version
    found = [e.event for e in cases.timelines[case_id] if e.step == "pre_review"]
    assert found == ["materials deficient" if deficient else "materials complete"]


def test_a_correction_that_mends_nothing_is_checked_and_recorded_again(cases: FakeCases) -> None:
    """A retried check writes nothing; a check of a new correction round is a new finding."""
    detail = application()
    still_present = detail["materials"][1]
    detail["materials"] = detail["materials"][1:]
    case_id = intake.take_in(detail).case_id
    prereview.check_materials(case_id)
    prereview.await_correction(case_id, "pre_review", "cor-token")
    prereview.submit_correction(case_id, [SubmittedMaterial.model_validate(still_present)])

    again = prereview.check_materials(case_id)

    assert not again["complete"]
    found = [e.event for e in cases.timelines[case_id] if e.step == "pre_review"]
    assert found[:1] == ["materials deficient"]
    assert found.count("materials deficient") == 2
    assert cases.get(case_id).checked_round == cases.get(case_id).correction_round == 1


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


def awaiting_payment(cases: FakeCases) -> tuple[Case, payment.PaymentConfirmation]:
    """A transfer approved, its payment order out, and the platform's confirmation of it."""
    case = accepted_case(cases, REAL_ESTATE)
    for task_id in dispatch_stage(case):
        review.decide(task_id, cases.task(TaskRef.parse(task_id)).partner, approve())
    review.consolidate_stage(case.case_id, 0)
    order = payment.request_payment(case.case_id, "pay-token")["order_id"]
    amount = int(cases.task(TaskRef.parse(order)).details["amount_fen"])
    paid = payment.PaymentConfirmation(order_id=order, status="paid", amount_fen=amount, transaction_id="T-1")
    return case, paid


def paid_transfer(cases: FakeCases) -> Case:
    """A transfer approved and paid for: the certificate step comes next."""
    case, paid = awaiting_payment(cases)
    payment.confirm_payment("payment-platform", paid)
    return cases.get(case.case_id)


def test_a_payment_and_each_ems_status_keep_the_routes_answer_in_their_own_write(cases: FakeCases) -> None:
    case, paid = awaiting_payment(cases)
    order = paid.order_id

    answers = {"paid": payment.confirm_payment("payment-platform", paid, keeping("paid"))}
    payment.confirm_payment("payment-platform", paid, keeping("paid-again"))  # answered already
    certificate.issue(case.case_id)
    shipped = delivery.dispatch(case.case_id, "ems-token", "2026-02-13T01:30:00+00:00")
    for status in ("in_transit", "signed_for"):
        tracking = delivery.TrackingEvent(
            order_id=shipped["order_id"], waybill=shipped["waybill"], status=status
        )
        answers[status] = delivery.track("ems", tracking, keeping(status))

    assert answers == {
        "paid": {"order_id": order, "status": "paid"},
        "in_transit": {"order_id": shipped["order_id"], "status": "in_transit"},
        "signed_for": {"order_id": shipped["order_id"], "status": "signed_for"},
    }
    assert {key: (kept.written, kept.body) for key, kept in cases.kept.items()} == {
        key: (True, answer) for key, answer in answers.items()
    }
    assert "paid-again" not in cases.kept  # the repeat wrote nothing: its route keeps its answer itself
    assert cases.task(TaskRef.parse(shipped["order_id"])).status is TaskStatus.ANSWERED


def test_a_transfer_gives_the_buyer_a_new_title_and_revokes_the_sellers(cases: FakeCases) -> None:
    case = paid_transfer(cases)
    transfer = case.application.transfer
    assert transfer is not None

    certificate.issue(case.case_id)

    [title] = cases.issued
    assert title.holder_id == transfer.buyer.id_number
    [revoked] = cases.revoked
    assert revoked.identifier == transfer.seller_title
    assert revoked.status == "revoked"
    assert revoked.revoked_reason is not None
    # verification shows the reason to anyone with the old identifier: no party, not the new title
    assert title.identifier not in revoked.revoked_reason
    assert transfer.buyer.name not in revoked.revoked_reason
    [note] = [e for e in cases.timelines[case.case_id] if e.event == "certificate revoked"]
    assert title.identifier in note.detail  # the case keeps the link


def test_a_title_revoked_before_issuance_fails_the_step_with_nothing_issued(cases: FakeCases) -> None:
    case = paid_transfer(cases)
    transfer = case.application.transfer
    assert transfer is not None
    revocation.revoke(transfer.seller_title, "court order 2026-7: title annulled", "operator")

    with pytest.raises(
        TitleNotValid, match=f"the seller's title {re.escape(transfer.seller_title)} is revoked"
    ):
        certificate.issue(case.case_id)

    assert cases.issued == []
    assert [r.revoked_reason for r in cases.revoked] == ["court order 2026-7: title annulled"]
    assert cases.get(case.case_id).certificate_id is None
    assert cases.published("CertificateIssued") == []
    completion.close(case.case_id, "failed", '{"errorMessage": "title revoked"}', "TitleNotValid")
    failed = cases.get(case.case_id)
    assert failed.failure is not None
    assert (failed.failure.step, failed.failure.error) == ("certificate", "TitleNotValid")


def test_a_revocation_that_lands_between_read_and_write_fails_the_step_on_its_retry(
    cases: FakeCases,
) -> None:
    case = paid_transfer(cases)
    transfer = case.application.transfer
    assert transfer is not None

    def operator_revokes(change: Any) -> None:
        revocation.revoke(transfer.seller_title, "issued in error", "operator")

    cases.before_save = operator_revokes

    with pytest.raises(TitleNotValid, match="is revoked: no title issued to the buyer"):
        certificate.issue(case.case_id)

    assert cases.issued == []
    [revoked] = cases.revoked
    assert revoked.revoked_reason == "issued in error"  # the operator's reason stands
    [event] = cases.published("CertificateRevoked")
    assert event.detail is not None
    assert event.detail["revoked_by"] == "operator"


@pytest.mark.parametrize("holder", ["buyer", "nobody"])
def test_a_title_no_longer_the_sellers_at_issuance_fails_the_step(cases: FakeCases, holder: str) -> None:
    case = paid_transfer(cases)
    transfer = case.application.transfer
    assert transfer is not None
    library = fake_library()
    if holder == "nobody":
        del library.held[transfer.seller_title]
    else:
        library.hold(
            library.held[transfer.seller_title].model_copy(update={"holder_id": transfer.buyer.id_number})
        )

    with pytest.raises(TitleNotValid, match="is not among the seller's titles"):
        certificate.issue(case.case_id)

    assert cases.issued == []
    assert cases.revoked == []


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        (None, "is not among the seller's titles in the certificate library"),
        ({"holder_id": "11010519491231002X"}, "is not among the seller's titles in the certificate library"),
        ({"status": "revoked"}, "is revoked"),
    ],
    ids=["missing", "someone-elses", "revoked"],
)
def test_pre_review_does_not_accept_a_transfer_whose_title_is_not_the_sellers_valid_one(
    cases: FakeCases, title: dict[str, Any] | None, problem: str
) -> None:
    detail = application(REAL_ESTATE, **ON_THE_CLOCK)
    if title is not None:
        fake_library().hold(held_title(detail["transfer"], **title))
    case_id = intake.take_in(detail).case_id

    outcome = prereview.check_materials(case_id)

    assert (outcome["complete"], outcome["may_correct"]) == (False, False)
    reason = f"不动产权属证书（出卖人）: the title the application names {problem}"
    case = cases.get(case_id)
    assert [(d.problem, d.correctable) for d in case.outstanding] == [(reason, False)]
    assert ("not correctable", reason) in [(e.event, e.detail) for e in cases.timelines[case_id]]
    assert cases.published("CorrectionRequested") == []
    # the state machine closes it as not accepted; the case keeps why
    completion.close(case_id, "not_accepted", "materials deficient and no correction can follow")
    closed = cases.get(case_id)
    assert (closed.status, closed.outcome_reason) == (CaseStatus.NOT_ACCEPTED, reason)
    [event] = cases.published("CaseClosed")
    assert event.detail is not None
    assert event.detail["reason"] == reason
    for party in (detail["transfer"]["seller"], detail["transfer"]["buyer"]):
        assert party["id_number"] not in str(event.detail)
        assert party["name"] not in str(event.detail)


def test_a_department_dispatched_after_its_stage_was_rejected_is_cancelled_at_once(cases: FakeCases) -> None:
    case = accepted_case(cases, REAL_ESTATE)
    [tax, *others] = sorted(
        acceptance.resume_plan(case.case_id)["review"]["stage"]["departments"],
        key=lambda d: d["code"] != "SW-DEED-TAX",
    )
    tax_task = review.dispatch(case.case_id, 0, tax, "token-tax")["task_id"]
    review.decide(
        tax_task, "dept-sw", DepartmentDecision.model_validate({"decision": "reject", "comments": "x"})
    )

    late = review.dispatch(case.case_id, 0, others[0], "token-late")["task_id"]

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


def test_ems_reads_the_recipient_and_ends_the_shipment_with_one_read_each(cases: FakeCases) -> None:
    case = approved_case(cases, "application_submitted.business_startup")
    certificate.issue(case.case_id)
    shipped = delivery.dispatch(case.case_id, "ems-token", "2026-02-13T01:30:00+00:00")
    signed = delivery.TrackingEvent(
        order_id=shipped["order_id"], waybill=shipped["waybill"], status="signed_for"
    )

    cases.reads = 0
    recipient = delivery.recipient("ems", shipped["order_id"])
    assert (cases.reads, recipient["waybill"]) == (1, shipped["waybill"])
    cases.reads = 0
    delivery.track("ems", signed)
    assert cases.reads == 1
    delivery.track("ems", signed)  # EMS sends it again: the first answer, nothing more
    assert [m.token for m in cases.resumed()].count("ems-token") == 1
    with pytest.raises(NotPermitted):
        delivery.recipient("dept-scjg", shipped["order_id"])
    with pytest.raises(InvalidInput):
        delivery.track("ems", signed.model_copy(update={"waybill": "EA000000000CN"}))


def test_a_payment_or_ems_callback_parses_its_reference_once(
    cases: FakeCases, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = paid_transfer(cases)
    certificate.issue(case.case_id)
    shipped = delivery.dispatch(case.case_id, "ems-token", "2026-02-13T01:30:00+00:00")
    parsed: list[str] = []
    parse = TaskRef.parse.__func__  # type: ignore[attr-defined]

    def counted(cls: type[TaskRef], task_id: str) -> TaskRef:
        parsed.append(task_id)
        return parse(cls, task_id)  # type: ignore[no-any-return]

    monkeypatch.setattr(TaskRef, "parse", classmethod(counted))
    order = next(t for t in cases.tasks(case.case_id) if t.kind is TaskKind.PAYMENT)
    paid = payment.PaymentConfirmation(
        order_id=order.task_id,
        status="paid",
        amount_fen=int(order.details["amount_fen"]),
        transaction_id="T-1",
    )
    payment.confirm_payment("payment-platform", paid)  # answered already: the first answer
    delivery.track(
        "ems",
        delivery.TrackingEvent(order_id=shipped["order_id"], waybill=shipped["waybill"], status="signed_for"),
    )

    assert parsed == [order.task_id, shipped["order_id"]]
    with pytest.raises(CaseNotFound, match="no such payment order"):
        payment.confirm_payment("payment-platform", paid.model_copy(update={"order_id": f"{case.case_id}.X"}))
    with pytest.raises(NotPermitted, match="this shipment is not assigned"):
        delivery.recipient("payment-platform", shipped["order_id"])


# --- the services after the licence ---------------------------------------------------------------------


def licensed_startup(cases: FakeCases) -> Case:
    """A business start-up whose licence is issued to the new enterprise."""
    case = approved_case(cases, "application_submitted.business_startup")
    certificate.issue(case.case_id)
    return cases.get(case.case_id)


def dispatch_services(case_id: str) -> dict[str, str]:
    """Begin the services after the licence and open each department's task: code -> task id."""
    plan = review.begin_services(case_id)
    assert plan["outcome"] == "next_stage"
    stage = plan["stage"]
    return {
        d["code"]: review.dispatch(case_id, stage["index"], d, f"token-{d['code']}")["task_id"]
        for d in stage["departments"]
    }


def service_answer(kind: str, credit_code: str | None = None) -> DepartmentDecision:
    results: dict[str, dict[str, Any]] = {
        "seal": {"kind": "seal", "filing_number": "32010200012345", "seals": ["official", "finance"]},
        "tax": {
            "kind": "tax",
            "taxpayer_id": credit_code,
            "invoice_types": ["digital_general"],
            "monthly_quota_fen": 10_000_000,
        },
        "bank_account": {
            "kind": "bank_account",
            "bank_name": "中国工商银行南京玄武支行",
            "account_number": "4301020900001234",
            "account_code": "J3010000123401",
        },
    }
    return DepartmentDecision.model_validate({"decision": "approve", "result": results[kind]})


PARTNER = {"GA-SEAL": "dept-ga", "SW-INVOICE": "dept-sw", "BANK-ACCOUNT": "bank-account"}
SERVICE = {"GA-SEAL": "seal", "SW-INVOICE": "tax", "BANK-ACCOUNT": "bank_account"}


def test_seal_tax_and_bank_follow_the_licence_at_once_and_are_recorded_for_the_enterprise(
    cases: FakeCases,
) -> None:
    case = licensed_startup(cases)
    uscc = case.registered_credit_code
    assert uscc is not None
    assert (case.status, case.step) == (CaseStatus.ISSUING, CaseStep.POST_ISSUANCE)  # not yet delivering
    assert [t for t in cases.tasks(case.case_id) if t.stage == 1] == []  # nothing before the licence

    tasks = dispatch_services(case.case_id)
    requested = [m.detail for m in cases.published("ReviewRequested") if m.detail and m.detail["stage"] == 2]
    for code, task_id in tasks.items():
        review.decide(task_id, PARTNER[code], service_answer(SERVICE[code], uscc))
    outcome = review.consolidate_stage(case.case_id, 1)

    assert sorted(tasks) == ["BANK-ACCOUNT", "GA-SEAL", "SW-INVOICE"]
    assert {(r["phase"], r["service"], r["credit_code"]) for r in requested} == {
        ("post_issuance", "seal", uscc),
        ("post_issuance", "tax", uscc),
        ("post_issuance", "bank_account", uscc),
    }
    assert outcome["outcome"] == "services_done"
    done = cases.get(case.case_id)
    assert done.step is CaseStep.DELIVERY
    assert done.certificate_id == case.certificate_id
    assert {(r.department, r.outcome.value, r.credit_code) for r in done.enterprise_services} == {
        ("GA-SEAL", "completed", uscc),
        ("SW-INVOICE", "completed", uscc),
        ("BANK-ACCOUNT", "completed", uscc),
    }
    assert cases.records == done.enterprise_services  # the holder's records, in the same write
    bank = next(r for r in done.enterprise_services if r.department == "BANK-ACCOUNT")
    assert bank.result is not None
    assert bank.result.model_dump()["account_code"] == "J3010000123401"
    assert len(cases.published("EnterpriseServiceRecorded")) == 3
    assert "****1234" in " ".join(e.detail for e in cases.timelines[case.case_id])
    assert done.outcome_reason is None


def test_a_bank_refusal_leaves_the_licence_and_the_other_services_and_tells_the_applicant(
    cases: FakeCases,
) -> None:
    case = licensed_startup(cases)
    tasks = dispatch_services(case.case_id)
    refusal = DepartmentDecision.model_validate({"decision": "reject", "comments": "受益所有人信息未能核实"})

    review.decide(tasks["BANK-ACCOUNT"], "bank-account", refusal)
    still_open = {c: cases.task(TaskRef.parse(t)).status for c, t in tasks.items()}
    review.decide(tasks["GA-SEAL"], "dept-ga", service_answer("seal"))
    review.decide(tasks["SW-INVOICE"], "dept-sw", service_answer("tax", case.registered_credit_code))
    outcome = review.consolidate_stage(case.case_id, 1)
    completion.close(case.case_id, "completed", "certificate issued and delivered")

    assert still_open == {
        "BANK-ACCOUNT": TaskStatus.ANSWERED,
        "GA-SEAL": TaskStatus.OPEN,
        "SW-INVOICE": TaskStatus.OPEN,
    }
    assert cases.published("TaskCancelled") == []
    assert outcome["outcome"] == "services_done"
    closed = cases.get(case.case_id)
    assert closed.status is CaseStatus.COMPLETED
    assert closed.certificate_id == case.certificate_id
    assert [cert.status for cert in cases.issued] == ["valid"]
    assert (
        closed.outcome_reason == "certificate issued; 开户银行（银行开户）: refused (受益所有人信息未能核实)"
    )
    told = [m.detail for m in cases.published("EnterpriseServiceRecorded") if m.detail]
    assert [(t["department"], t["outcome"], t["reason"]) for t in told if t["outcome"] != "completed"] == [
        ("BANK-ACCOUNT", "refused", "受益所有人信息未能核实")
    ]


def test_a_duplicate_service_callback_gets_the_first_answer_and_is_recorded_once(cases: FakeCases) -> None:
    case = licensed_startup(cases)
    tasks = dispatch_services(case.case_id)
    seal = service_answer("seal")

    first = review.decide(tasks["GA-SEAL"], "dept-ga", seal)
    again = review.decide(tasks["GA-SEAL"], "dept-ga", seal)
    with pytest.raises(TaskClosed):
        review.decide(
            tasks["GA-SEAL"],
            "dept-ga",
            DepartmentDecision.model_validate({"decision": "reject", "comments": "x"}),
        )
    review.decide(tasks["SW-INVOICE"], "dept-sw", service_answer("tax", case.registered_credit_code))
    review.decide(tasks["BANK-ACCOUNT"], "bank-account", service_answer("bank_account"))
    review.consolidate_stage(case.case_id, 1)
    review.consolidate_stage(case.case_id, 1)  # a retried consolidation

    assert again == first
    assert first["decision"]["result"]["filing_number"] == "32010200012345"
    assert [m.token for m in cases.resumed()].count("token-GA-SEAL") == 1
    assert [r.department for r in cases.get(case.case_id).enterprise_services].count("GA-SEAL") == 1
    assert [r.department for r in cases.records].count("GA-SEAL") == 1


def test_a_result_that_does_not_fit_its_service_is_refused_and_changes_nothing(cases: FakeCases) -> None:
    case = licensed_startup(cases)
    tasks = dispatch_services(case.case_id)
    written = len(cases.outbox)

    with pytest.raises(InvalidInput) as refused:
        review.decide(tasks["SW-INVOICE"], "dept-sw", service_answer("tax", "91320102MA1W0A0X3D"))
    with pytest.raises(InvalidInput):
        review.decide(tasks["GA-SEAL"], "dept-ga", service_answer("bank_account"))
    with pytest.raises(InvalidInput):
        review.decide(tasks["GA-SEAL"], "dept-ga", DepartmentDecision.model_validate({"decision": "approve"}))

    assert refused.value.problems == [
        "result.taxpayer_id: must be the enterprise's unified social credit code (多证合一)"
    ]
    assert all(cases.task(TaskRef.parse(t)).is_open for t in tasks.values())
    assert len(cases.outbox) == written


def test_silent_services_meet_the_sweepers_limits_and_an_expired_one_is_recorded(cases: FakeCases) -> None:
    case = licensed_startup(cases)
    tasks = dispatch_services(case.case_id)
    review.decide(tasks["BANK-ACCOUNT"], "bank-account", service_answer("bank_account"))

    clock.advance(timedelta(days=14))  # past the one working day: seal deemed done, tax escalated
    first = sweeper.sweep(clock.now())
    seal, tax = (cases.task(TaskRef.parse(tasks[c])) for c in ("GA-SEAL", "SW-INVOICE"))
    clock.advance(timedelta(days=14))  # past the final limit after escalation
    second = sweeper.sweep(clock.now())
    outcome = review.consolidate_stage(case.case_id, 1)

    assert (first["deemed_approved"], first["escalated"], second["reviews_expired"]) == (1, 1, 1)
    assert seal.status is TaskStatus.ANSWERED
    assert (tax.is_open, tax.escalations) == (True, 1)
    assert cases.task(TaskRef.parse(tasks["SW-INVOICE"])).status is TaskStatus.EXPIRED
    assert ("token-SW-INVOICE", "WaitExpired") in [(m.token, m.error) for m in cases.resumed()]
    overdue = [m.detail["task_id"] for m in cases.published("ReviewOverdue") if m.detail]
    assert overdue == [tasks["SW-INVOICE"]] * 2  # escalated, then expired
    assert outcome["outcome"] == "services_done"
    records = {r.department: r.outcome.value for r in cases.get(case.case_id).enterprise_services}
    assert records == {"GA-SEAL": "deemed_completed", "SW-INVOICE": "expired", "BANK-ACCOUNT": "completed"}
    steps = {(e.step, e.event) for e in cases.timelines[case.case_id]}
    assert {("post_issuance", "deemed approved"), ("post_issuance", "escalated")} <= steps


def test_a_case_resumed_during_the_services_asks_only_those_that_have_not_answered(cases: FakeCases) -> None:
    case = licensed_startup(cases)
    tasks = dispatch_services(case.case_id)
    review.decide(tasks["GA-SEAL"], "dept-ga", service_answer("seal"))
    completion.close(case.case_id, "failed", "relay down", "DependencyUnavailable")
    recovery.resume(case.case_id, "operations")

    plan = acceptance.resume_plan(case.case_id)
    again = review.begin_services(case.case_id)

    assert plan["step"] == "post_issuance"
    assert again["outcome"] == "next_stage"
    assert sorted(d["code"] for d in again["stage"]["departments"]) == ["BANK-ACCOUNT", "SW-INVOICE"]
    assert [e.event for e in cases.timelines[case.case_id]].count("services begin") == 1


def test_a_matter_without_services_after_issuance_goes_straight_on(cases: FakeCases) -> None:
    case = approved_case(cases, REAL_ESTATE)
    with pytest.raises(Conflict):  # the certificate comes first
        cases.get(case.case_id).begin_services(clock.now(), 0, "")

    assert review.begin_services(case.case_id)["outcome"] == "services_done"
    assert cases.get(case.case_id).step is not CaseStep.POST_ISSUANCE


# --- the on-site inspection ------------------------------------------------------------------------------

PERMIT = "application_submitted.industrial_construction_permit"
INSPECTION = {"findings": "施工场地已具备施工条件", "inspectors": ["张建国", "李敏"]}


def reviewed_permit(cases: FakeCases, region_code: str) -> tuple[str, dict[str, Any]]:
    """A construction permit in the region, every stage before the inspection approved: the case
    id and what the fifth stage's consolidation answered."""
    case_id = intake.take_in(application(PERMIT, region_code=region_code, **ON_THE_CLOCK)).case_id
    prereview.check_materials(case_id)
    acceptance.accept(case_id)
    for stage in range(5):
        for department in acceptance.resume_plan(case_id)["review"]["stage"]["departments"]:
            task_id = review.dispatch(case_id, stage, department, f"token-{department['code']}")["task_id"]
            review.decide(task_id, department["partner_id"], approve())
        outcome = review.consolidate_stage(case_id, stage)
    return case_id, outcome


def inspect(case_id: str, on: str) -> DepartmentDecision:
    return DepartmentDecision.model_validate(
        {"decision": "approve", "comments": "现场与图纸一致", "inspection": INSPECTION | {"inspected_on": on}}
    )


def test_a_region_with_on_site_inspection_gets_the_step_and_its_time_counts(cases: FakeCases) -> None:
    case_id, outcome = reviewed_permit(cases, "320115")
    [department] = outcome["stage"]["departments"]
    task_id = review.dispatch(case_id, 5, department, "token-survey")["task_id"]
    [requested] = [
        m.detail for m in cases.published("ReviewRequested") if m.detail and m.detail["stage"] == 6
    ]
    held = cases.get(case_id).held_by(task_id)
    review.decide(task_id, "dept-zj", inspect(case_id, clock.today().isoformat()))

    assert (outcome["outcome"], outcome["stage"]["phase"]) == ("next_stage", "onsite_inspection")
    assert (department["code"], department["limit_working_days"]) == ("ZJ-SURVEY", 5)
    assert requested["phase"] == "onsite_inspection"
    assert held is None  # 行政许可法 art. 45 does not leave a verification on site out: it counts
    decided = [e.detail for e in cases.timelines[case_id] if e.event == "decided"][-1]
    assert f"inspected {clock.today()} by 张建国, 李敏: 施工场地已具备施工条件" in decided
    answer = cases.task(TaskRef.parse(task_id)).answer
    assert answer is not None
    assert answer["inspection"]["inspectors"] == ["张建国", "李敏"]
    assert review.consolidate_stage(case_id, 5)["outcome"] == "approved"


def test_a_region_without_on_site_inspection_gets_no_such_step(cases: FakeCases) -> None:
    case_id, outcome = reviewed_permit(cases, "320102")

    assert outcome["outcome"] == "approved"
    assert "ZJ-SURVEY" not in {t.details["department"] for t in cases.tasks(case_id)}


def test_an_inspection_the_law_leaves_out_stops_the_clock_but_keeps_its_own_limit(cases: FakeCases) -> None:
    from zerovisit.services.ports import ports

    catalog = ports().catalog
    assert isinstance(catalog, FakeCatalog)
    permit = catalog.matters["INDUSTRIAL-CONSTRUCTION-PERMIT"]
    stages = list(permit.stages)
    inspection = stages[5].onsite_inspection
    assert inspection is not None
    stages[5] = stages[5].model_copy(
        update={"onsite_inspection": inspection.model_copy(update={"time_counted": False})}
    )
    catalog.matters[permit.code] = permit.model_copy(update={"stages": stages})
    case_id, outcome = reviewed_permit(cases, "320115")

    task_id = review.dispatch(case_id, 5, outcome["stage"]["departments"][0], "token-survey")["task_id"]
    held = cases.get(case_id).held_by(task_id)
    clock.advance(timedelta(days=21))  # past its five working days
    swept = sweeper.sweep(clock.now())
    review.decide(task_id, "dept-zj", inspect(case_id, clock.today().isoformat()))

    assert held is not None
    assert held.reason is SuspensionReason.ON_SITE_INSPECTION
    assert swept["escalated"] == 1  # its limit applies while the clock stands
    [suspension] = cases.get(case_id).suspensions
    assert suspension.ended_on == clock.today()
    assert len(cases.published("CaseSuspended")) == 1


# ---------------------------------------------------------------- certificates people can hold


def issued_licence(cases: FakeCases) -> Certificate:
    case = approved_case(cases, "application_submitted.business_startup")
    certificate.issue(case.case_id)
    return cases.issued[-1]


def test_issuing_renders_the_certificate_with_its_verification_address(
    cases: FakeCases, gateway: FakeGateway
) -> None:
    licence = issued_licence(cases)
    key = f"certificates/{licence.identifier}.png"

    assert gateway.renderings_written == 1
    assert gateway.renderings[key] == rendering.render(
        licence, gateway.verification_address(licence.identifier)
    )
    assert gateway.verification_address(licence.identifier).endswith(f"/{licence.identifier}/verify")


def test_a_crash_after_the_certificate_write_renders_it_when_the_step_is_retried(
    cases: FakeCases, gateway: FakeGateway
) -> None:
    case = approved_case(cases, "application_submitted.business_startup")
    gateway.unavailable_renderings = 1  # the certificate is written, then S3 fails

    with pytest.raises(DependencyUnavailable):
        certificate.issue(case.case_id)
    [written] = cases.issued
    assert cases.get(case.case_id).certificate_id == written.identifier
    assert gateway.renderings == {}

    retried = certificate.issue(case.case_id)

    assert retried["identifier"] == written.identifier
    assert cases.issued == [written]  # issued once, signed once
    assert len(cases.published("CertificateIssued")) == 1
    assert list(gateway.renderings) == [f"certificates/{written.identifier}.png"]
    assert certificate.issue(case.case_id) == retried  # a third run writes the same bytes again
    assert gateway.renderings_written == 2


def test_the_certificate_records_the_algorithm_that_signed_it_and_verification_uses_it(
    cases: FakeCases, gateway: FakeGateway
) -> None:
    gateway.algorithm = "SM2DSA"  # a China region's key
    licence = issued_licence(cases)
    gateway.algorithm = "ECDSA_SHA_256"  # the region's key signs otherwise today

    checked = verification.verify(licence.identifier)
    library = fake_library()
    library.hold(licence.model_copy(update={"algorithm": "ECDSA_SHA_256"}))  # a record that lies
    lying = verification.verify(licence.identifier)

    assert licence.algorithm == "SM2DSA"
    assert (checked.algorithm, checked.signature_valid, checked.valid) == ("SM2DSA", True, True)
    assert gateway.verified_with == ["SM2DSA", "ECDSA_SHA_256"]
    assert (lying.signature_valid, lying.valid) == (False, False)


def test_a_revocation_writes_the_certificate_its_note_and_its_event_together(cases: FakeCases) -> None:
    licence = issued_licence(cases)
    clock.advance(timedelta(days=3))
    before = clock.now()

    answer = revocation.revoke(licence.identifier, "  issued in error: registration annulled  ", "operations")

    [revoked] = cases.revoked
    [event] = cases.published("CertificateRevoked")
    assert answer.revoked_now is True
    assert answer.reason == "issued in error: registration annulled"
    assert before <= answer.revoked_at < before + timedelta(seconds=5)
    assert (revoked.status, revoked.revoked_reason) == ("revoked", answer.reason)
    assert event.case_id == licence.case_id
    assert event.detail is not None
    assert {k: event.detail[k] for k in ("identifier", "reason", "revoked_by")} == {
        "identifier": licence.identifier,
        "reason": answer.reason,
        "revoked_by": "operations",
    }
    assert licence.holder_id not in str(event.detail)
    assert cases.timelines[licence.case_id][-1].event == "certificate revoked"
    assert cases.timelines[licence.case_id][-1].actor == "operations"
    shown = verification.verify(licence.identifier)
    assert (shown.valid, shown.status) == (False, "revoked")
    assert (shown.revoked_reason, shown.revoked_at) == (answer.reason, answer.revoked_at)
    assert shown.signature_valid is True  # the signed content stays as issued


def test_revoking_twice_is_one_revocation_and_the_first_reason_stands(cases: FakeCases) -> None:
    licence = issued_licence(cases)
    first = revocation.revoke(licence.identifier, "issued in error", "operations")
    clock.advance(timedelta(hours=1))

    again = revocation.revoke(licence.identifier, "another reason", "operator")

    assert again.revoked_now is False
    assert (again.reason, again.revoked_at) == (first.reason, first.revoked_at)
    assert len(cases.revoked) == 1
    assert len(cases.published("CertificateRevoked")) == 1


def test_a_revocation_that_loses_the_race_answers_with_the_winners(cases: FakeCases) -> None:
    licence = issued_licence(cases)
    # another operator revokes between this revocation's read and its write
    cases.before_save = lambda change: revocation.revoke(licence.identifier, "court order 2026-3", "operator")

    answer = revocation.revoke(licence.identifier, "issued in error", "operations")

    assert answer.revoked_now is False
    assert answer.reason == "court order 2026-3"
    assert [r.revoked_reason for r in cases.revoked] == ["court order 2026-3"]
    assert len(cases.published("CertificateRevoked")) == 1


def test_a_revocation_refuses_a_bad_identifier_or_reason_naming_each_problem(cases: FakeCases) -> None:
    licence = issued_licence(cases)
    type_code, issuer = licence.identifier.split(".")[5:7]
    unknown = certificate_identifier(type_code, issuer, "1" * 16, 1)

    with pytest.raises(InvalidInput) as bad:
        revocation.revoke("1.2.156.3005.2.X", "call 13812345678\nor 32010219900307001X", "operations")
    with pytest.raises(CaseNotFound):
        revocation.revoke(unknown, "issued in error", "operations")

    assert bad.value.problems[0].startswith("identifier: ")
    assert "reason: no control characters (line breaks included)" in bad.value.problems
    assert any("identity or phone number" in p for p in bad.value.problems)
    assert "13812345678" not in str(bad.value.problems)
    assert cases.revoked == []


def test_a_transfer_publishes_the_revocation_of_the_sellers_title(cases: FakeCases) -> None:
    test_a_transfer_gives_the_buyer_a_new_title_and_revokes_the_sellers(cases)

    [event] = cases.published("CertificateRevoked")

    assert event.detail is not None
    assert event.detail["revoked_by"] == "system"
    assert event.detail["identifier"] == cases.revoked[0].identifier


def test_the_holders_library_pages_newest_first_with_status_and_rendering_links(cases: FakeCases) -> None:
    library = fake_library()
    holder = unified_credit_code("9", "1", "320102", new_organisation_code(42))
    titles = [
        held_title({"seller_title": identifier, "seller": {"id_number": holder, "name": "南京零跑"}})
        for identifier in _identifiers(3)
    ]
    expired = titles[0].model_copy(update={"issued_at": clock.now() - timedelta(days=800)})
    revoked = (
        titles[1]
        .model_copy(update={"issued_at": clock.now() - timedelta(days=500)})
        .revoked(clock.now() - timedelta(days=1), "court order 2026-3")
    )
    current = titles[2].model_copy(update={"issued_at": clock.now() - timedelta(days=10)})
    for held in (
        expired.model_copy(update={"valid_until": clock.today() - timedelta(days=1)}),
        revoked,
        current,
    ):
        library.hold(held)
    library.hold(held_title({"seller_title": _identifiers(4)[3], "seller": {"id_number": "x", "name": "y"}}))

    first = library_service.holder_library(holder.lower(), None, 2)
    second = library_service.holder_library(holder, first.next_cursor, 2)

    listed = first.certificates + second.certificates
    assert [c.identifier for c in listed] == [current.identifier, revoked.identifier, expired.identifier]
    assert [c.status for c in listed] == ["valid", "revoked", "expired"]
    assert listed[1].revoked_reason == "court order 2026-3"
    assert listed[0].rendering.url == f"https://renderings.test/certificates/{current.identifier}.png?signed"
    assert first.next_cursor is not None
    assert second.next_cursor is None
    with pytest.raises(InvalidInput, match="another query"):
        library_service.holder_library(
            unified_credit_code("9", "1", "320102", new_organisation_code(43)), first.next_cursor, 2
        )


def _identifiers(count: int) -> list[str]:
    return [
        certificate_identifier("11100000MB0143028R002", "11320100MB0C00773R", f"{n:016d}", 1)
        for n in range(1, count + 1)
    ]


def test_a_malformed_holder_is_refused_naming_the_problem_without_repeating_it(cases: FakeCases) -> None:
    with pytest.raises(InvalidInput) as person:
        library_service.holder_library("320102199003070011", None, 25)  # check character wrong
    with pytest.raises(InvalidInput) as short:
        library_service.holder_library("3201021990", None, 500)

    assert person.value.problems == [
        "holder_id: not a valid identity number: check character does not match (GB 11643, ISO 7064 MOD 11-2)"
    ]
    assert short.value.problems == [
        "holder_id: must be an 18-character identity number or unified social credit code, got 10 characters",
        f"limit: from 1 to {search.MAX_LIMIT}",
    ]
    assert "3201021990" not in str(short.value.problems)


def test_the_fakes_and_the_shared_fixtures_import_neither_moto_nor_boto3() -> None:
    """What every services unit test loads: the local runtime's imports (about 2.7 s) stay with the
    fixtures that start it."""
    root = Path(__file__).resolve().parents[2]
    heavy = "moto", "boto3", "infra.local.runtime"
    code = (
        "import sys, tests.conftest, tests.unit.conftest, tests.fakes, tests.support; "
        f"print(sorted(m for m in sys.modules if m.startswith({heavy})))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "layers" / "common"), str(root)])}
    loaded = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
