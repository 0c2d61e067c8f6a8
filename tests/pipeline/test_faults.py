"""The case still ends right when a step crashes after its write, a relay fails, a step keeps
failing until an operator resumes it, a party never answers, or a department rejects."""

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from zerovisit import cli
from zerovisit.catalog_files import read_catalog
from zerovisit.clock import CHINA, clock
from zerovisit.domain.deadlines import end_of_day
from zerovisit.domain.model import CaseStatus, SuspensionReason, Task, TaskKind, TaskRef, TaskStatus
from zerovisit.domain.workdays import add_working_days, working_days_between
from zerovisit.services import recovery, sweeper
from zerovisit.storage import cases, certificates

from infra.local.partners import PartnerSimulator, Script, approve
from infra.local.runtime import CATALOG_DIR, LocalRuntime
from infra.local.stack import STACK_NAME
from tests.conftest import OutboundEvents
from tests.support import application, document, held_transfer, next_partner_task, without_material

pytestmark = pytest.mark.pipeline

SOURCE = "gov.service-network"
ON_THE_CLOCK = {"submitted_at": "2026-02-13T09:30:00+08:00"}


def submit(runtime: LocalRuntime, detail: dict[str, Any]) -> str:
    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    return str(detail["application_id"])


def run(runtime: LocalRuntime, case_id: str, script: Script | None = None, **kwargs: Any) -> str:
    return PartnerSimulator(runtime, script).run_until_closed(case_id, **kwargs)


def delivered_once(outbound: OutboundEvents, detail_type: str, case_id: str) -> list[dict[str, Any]]:
    events = outbound.of(detail_type, case_id=case_id)
    ids = Counter(e["event_id"] for e in events)
    assert all(count == 1 for count in ids.values()), f"{detail_type} delivered twice: {ids}"
    return events


@pytest.fixture(autouse=True)
def no_faults_left(runtime: LocalRuntime) -> Any:
    yield
    runtime.faults.clear()


def test_a_dispatch_that_crashes_after_its_write_still_tells_the_department_once(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    before = len(runtime.faults.faulted)
    runtime.faults.inject("ReviewDispatchFunction", error="Sandbox.Timedout", times=1, when="after")
    case_id = submit(runtime, application())

    assert run(runtime, case_id) == "SUCCEEDED"

    assert [f.function for f in runtime.faults.faulted[before:]] == ["ReviewDispatchFunction"]
    requested = delivered_once(outbound, "ReviewRequested", case_id)
    assert sorted(e["task_id"].split(".")[1] for e in requested) == [
        "R1-SCJG-1",
        "R2-BANK-ACCOUNT-1",
        "R2-GA-SEAL-1",
        "R2-SW-INVOICE-1",
    ]
    assert len({e["task_id"] for e in requested}) == 4
    assert cases.get_case(case_id).status is CaseStatus.COMPLETED


# Timeline entries a case may carry more than once (per department, service or tracking status).
MAY_REPEAT = {
    ("review", "review requested"),
    ("review", "decided"),
    ("post_issuance", "service requested"),
    ("post_issuance", "decided"),
    ("post_issuance", "service completed"),
    ("delivery", "tracking"),
}
PREMISES = [{"code": "PREMISES_PROOF", "document_ref": document("premises.pdf")}]


@pytest.mark.parametrize(
    ("function", "transfer", "produced"),
    [
        ("PreReviewFunction", False, "CorrectionRequested"),
        ("AcceptanceFunction", False, "CaseAccepted"),
        ("PaymentFunction", True, "PaymentRequested"),
        ("DeliveryFunction", True, "ShipmentDispatched"),
        ("CompletionFunction", False, "CaseCompleted"),
    ],
)
def test_a_step_that_crashes_after_its_write_is_retried_and_its_event_is_delivered_once(
    runtime: LocalRuntime, outbound: OutboundEvents, function: str, transfer: bool, produced: str
) -> None:
    """The step's write commits, then its Lambda times out; the state machine's Retry runs it again.
    The retry finds its own write: nothing is done twice and what the write produced reaches its
    consumers once. Pre-review runs on a deficient application, so that its step produces an event."""
    if transfer:
        detail = held_transfer(runtime, **ON_THE_CLOCK)
    elif function == "PreReviewFunction":
        detail = without_material(application(), "PREMISES_PROOF")
    else:
        detail = application()
    before = len(runtime.faults.faulted)
    runtime.faults.inject(function, error="Sandbox.Timedout", times=1, when="after")
    case_id = submit(runtime, detail)
    simulator = PartnerSimulator(runtime, Script(correct=lambda event: PREMISES))

    assert simulator.run_until_closed(case_id) == "SUCCEEDED"

    assert [f.function for f in runtime.faults.faulted[before:]] == [function]
    assert cases.get_case(case_id).status is CaseStatus.COMPLETED
    assert len(delivered_once(outbound, produced, case_id)) == 1
    to_partners = Counter(e.detail_type for e in simulator.exchanges)
    assert all(count == 1 for kind, count in to_partners.items() if kind != "ReviewRequested"), to_partners
    tasks = cases.tasks(case_id)
    assert len({t.task_id for t in tasks}) == len(tasks)
    kinds = Counter(t.kind for t in tasks)
    assert kinds[TaskKind.PAYMENT] == (1 if transfer else 0)
    assert kinds[TaskKind.DELIVERY] == 1
    assert kinds[TaskKind.CORRECTION] == (1 if function == "PreReviewFunction" else 0)
    entries = Counter((e.step, e.event) for e in cases.timeline(case_id))
    assert entries[("acceptance", "accepted")] == 1
    assert entries[("completion", "completed")] == 1
    repeated = [key for key, count in entries.items() if count > 1 and key not in MAY_REPEAT]
    assert repeated == []


def test_a_relay_that_fails_twice_still_delivers_each_event_once_and_the_case_completes(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    case_id = submit(runtime, application())
    before = len(runtime.faults.faulted)
    runtime.faults.inject("RelayFunction", error="Lambda.Unknown", times=2)

    assert run(runtime, case_id) == "SUCCEEDED"

    assert [f.function for f in runtime.faults.faulted[before:]] == ["RelayFunction", "RelayFunction"]
    assert len(delivered_once(outbound, "CaseAccepted", case_id)) == 1
    assert len(delivered_once(outbound, "CertificateIssued", case_id)) == 1
    assert len(delivered_once(outbound, "CaseCompleted", case_id)) == 1


def test_a_decision_whose_write_commits_before_a_crash_resumes_the_case(runtime: LocalRuntime) -> None:
    """The decision and its resumption are one write: a crash right after it loses nothing, and the
    department's retry is answered as the first time."""
    detail = application()
    case_id = str(detail["application_id"])
    crashed: list[int] = []

    def crash_then_retry(event: dict[str, Any]) -> dict[str, Any]:
        runtime.faults.inject("ApiFunction", error="Sandbox.Timedout", times=1, when="after")
        decision = approve(event)
        path = f"/reviews/{event['task_id']}/decision"
        crashed.append(runtime.signed_http(event["partner_id"], "POST", path, decision).status)
        return decision  # the department retries with the same decision

    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    simulator = PartnerSimulator(runtime, Script(decide=crash_then_retry))
    assert simulator.run_until_closed(case_id) == "SUCCEEDED"
    assert crashed == [500, 500, 500, 500]
    retries = [
        r.status for e in simulator.exchanges if e.detail_type == "ReviewRequested" for r in e.responses
    ]
    assert retries == [200, 200, 200, 200]
    assert cases.get_case(case_id).status is CaseStatus.COMPLETED


@pytest.mark.parametrize("through", ["route", "command"])
def test_a_failed_case_resumes_from_the_failed_step_without_repeating_what_was_done(
    runtime: LocalRuntime, outbound: OutboundEvents, through: str, capsys: pytest.CaptureFixture[str]
) -> None:
    runtime.faults.inject("CertificateFunction", error="DependencyUnavailable", times=None)
    case_id = submit(runtime, held_transfer(runtime, **ON_THE_CLOCK))
    assert run(runtime, case_id) == "FAILED"
    failed = cases.get_case(case_id)
    assert failed.status is CaseStatus.FAILED
    assert failed.failure is not None
    assert failed.failure.step == "certificate"
    reviews_before = [t.task_id for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW]

    runtime.faults.clear("CertificateFunction")
    if through == "route":
        answer = runtime.signed_http("operations", "POST", f"/cases/{case_id}/resume")
        assert answer.status == 200
        assert answer.body["step"] == "certificate"
        again = runtime.signed_http("operations", "POST", f"/cases/{case_id}/resume")
        assert again.body["execution_arn"] == answer.body["execution_arn"]
        assert runtime.signed_http("service-network", "POST", f"/cases/{case_id}/resume").status == 403
    else:
        with runtime.exclusive():
            assert cli.main(["case", "resume", case_id, "--stack", STACK_NAME]) == 0
        runtime.drain()
        assert f"case {case_id} resumed at certificate" in capsys.readouterr().out
    assert runtime.execution_arn(case_id).endswith(f":{case_id}.run2")
    assert run(runtime, case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert case.failure is None
    assert [f.step for f in case.failures] == ["certificate"]
    tasks = cases.tasks(case_id)
    assert [t.task_id for t in tasks if t.kind is TaskKind.REVIEW] == reviews_before
    assert len([t for t in tasks if t.kind is TaskKind.PAYMENT]) == 1
    assert len([t for t in tasks if t.kind is TaskKind.DELIVERY]) == 1
    assert case.certificate_id is not None
    title = certificates.get_certificate(case.certificate_id)
    assert title is not None
    held = certificates.library(title.holder_id)
    assert [c.identifier for c in held if c.case_id == case_id] == [case.certificate_id]
    assert len(delivered_once(outbound, "CertificateIssued", case_id)) == 1
    assert len(delivered_once(outbound, "CaseResumed", case_id)) == 1
    # failed is not closed: the applicant was told it stopped, and it ends once, completed
    [stopped] = delivered_once(outbound, "CaseFailed", case_id)
    assert (stopped["step"], stopped["error"]) == ("certificate", "DependencyUnavailable")
    assert delivered_once(outbound, "CaseClosed", case_id) == []
    assert len(delivered_once(outbound, "CaseCompleted", case_id)) == 1


@pytest.mark.parametrize(
    ("partner", "route", "status"),
    [
        ("operations", "/cases/{case_id}/refusal", "rejected"),
        ("service-network", "/applications/{case_id}/withdrawal", "withdrawn"),
    ],
)
def test_settling_a_failed_case_cancels_the_order_its_failure_left_open(
    runtime: LocalRuntime, outbound: OutboundEvents, partner: str, route: str, status: str
) -> None:
    """The payment step writes its order, then fails on every try: the case fails with the order
    open (the applicant has not paid). Refused by operations or withdrawn by the applicant, the
    order is cancelled: the payment platform is told and no longer lists it, and the sweep never
    takes it up again."""
    runtime.faults.inject("PaymentFunction", error="DependencyUnavailable", times=None, when="after")
    case_id = submit(runtime, held_transfer(runtime, **ON_THE_CLOCK))
    assert run(runtime, case_id, Script(pay=_silent_payment)) == "FAILED"
    [order] = [t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT]
    assert order.status is TaskStatus.OPEN

    def listed() -> list[str]:
        answer = runtime.signed_http("payment-platform", "GET", "/tasks", query="limit=50")
        assert answer.status == 200
        return [task["task_id"] for task in answer.body["tasks"]]

    assert order.task_id in listed()
    reason = "缴款平台无法恢复本案订单，不予登记"
    settled = runtime.signed_http(partner, "POST", route.format(case_id=case_id), {"reason": reason})
    assert (settled.status, settled.body) == (200, {"case_id": case_id, "status": status})
    assert [e["outcome"] for e in delivered_once(outbound, "CaseClosed", case_id)] == [status]

    cancelled = cases.get_task(TaskRef(case_id=case_id, task_id=order.task_id))
    assert (cancelled.status, cancelled.next_alarm_at) == (TaskStatus.CANCELLED, None)
    assert order.task_id not in listed()
    [told] = delivered_once(outbound, "TaskCancelled", case_id)
    assert (told["task_id"], told["partner_id"], told["reason"]) == (order.task_id, order.partner, reason)
    clock.advance(timedelta(days=60))
    assert "payment_expired" not in sweeper.sweep(clock.now())
    assert cases.get_task(TaskRef(case_id=case_id, task_id=order.task_id)).status is TaskStatus.CANCELLED


def test_a_case_failed_at_payment_resumes_there_and_completes_once_paid(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    """The payment step writes its order, then fails on every try. Resumed once the cause is
    fixed, the case goes back to payment (the fee is still due), the applicant pays, and the case
    completes with one order paid and none left open."""
    runtime.faults.inject("PaymentFunction", error="DependencyUnavailable", times=None, when="after")
    case_id = submit(runtime, held_transfer(runtime, **ON_THE_CLOCK))
    assert run(runtime, case_id, Script(pay=_silent_payment)) == "FAILED"
    [order] = [t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT]

    runtime.faults.clear("PaymentFunction")
    answer = runtime.signed_http("operations", "POST", f"/cases/{case_id}/resume")
    assert (answer.status, answer.body["step"]) == (200, "payment")
    waiting = waited_on_again(runtime, TaskRef(case_id=case_id, task_id=order.task_id), order.token)
    assert waiting.status is TaskStatus.OPEN  # the same order: the platform listed it all along
    paid = runtime.signed_http("payment-platform", "POST", "/callbacks/payment", pay_in_full(waiting))
    assert paid.status == 200
    assert run(runtime, case_id) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    orders = [t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT]
    assert [t.status for t in orders if t.status is not TaskStatus.CANCELLED] == [TaskStatus.ANSWERED]
    assert not [t for t in orders if t.status is TaskStatus.OPEN]
    assert len(delivered_once(outbound, "CertificateIssued", case_id)) == 1
    assert len(delivered_once(outbound, "CaseCompleted", case_id)) == 1


def test_a_never_paid_case_closes_as_withdrawn_and_the_applicants_time_is_not_the_offices(
    runtime: LocalRuntime,
) -> None:
    case_id = submit(runtime, held_transfer(runtime, **ON_THE_CLOCK))
    simulator = PartnerSimulator(runtime, Script(pay=_silent_payment))
    status = simulator.run_until_closed(case_id, clock_step=timedelta(hours=12), timeout_seconds=120)

    assert status == "SUCCEEDED"
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.WITHDRAWN
    assert case.outcome_reason == "the fee was not paid within the payment limit"
    order = next(t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT)
    assert order.status is TaskStatus.EXPIRED
    paying = [s for s in case.suspensions if s.reason is SuspensionReason.APPLICANT_PAYMENT]
    assert len(paying) == 1
    assert paying[0].ended_on is not None
    # ten working days waited for the fee; the office's own review took at most three
    assert case.working_days_used is not None
    assert case.working_days_used <= 3
    assert not [e for e in cases.timeline(case_id) if e.event.endswith("limit overdue")]


def test_an_unpaid_order_stays_open_until_its_last_working_day_ends_and_the_case_is_then_withdrawn(
    runtime: LocalRuntime,
) -> None:
    """The payment limit is counted in working days on the domain clock from the day the order is
    made: a minute before it ends the case still waits; once it ends, the sweep expires the order
    and the case closes as withdrawn, its office days stopped on the day the fee was asked for."""
    detail = held_transfer(runtime, **ON_THE_CLOCK)
    case_id = submit(runtime, detail)
    simulator = PartnerSimulator(runtime, Script(pay=_silent_payment))
    answer_until(simulator, "PaymentRequested")
    order = next(t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT)
    matter = next(m for m in read_catalog(CATALOG_DIR.glob("*.yaml")) if m.code == detail["matter_code"])
    asked_on = order.created_at.astimezone(CHINA).date()
    limit_day = add_working_days(asked_on, matter.waits.payment_working_days).due
    assert order.due_on == limit_day

    sweep_at(runtime, end_of_day(limit_day) - timedelta(minutes=1))
    assert cases.get_task(TaskRef.parse(order.task_id)).status is TaskStatus.OPEN
    # the platform holding the order was reminded once, although the applicant's time stops the office's clock
    assert [e.event for e in cases.timeline(case_id) if e.step == "payment"] == [
        "payment requested",
        "reminded",
    ]
    waiting = cases.get_case(case_id)
    assert waiting.status is CaseStatus.AWAITING_PAYMENT
    assert runtime.execution_status(case_id) == "RUNNING"

    sweep_at(runtime, end_of_day(limit_day))
    assert simulator.run_until_closed(case_id) == "SUCCEEDED"
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.WITHDRAWN
    assert case.closed_at is not None
    assert case.closed_at.astimezone(CHINA).date() == limit_day + timedelta(days=1)
    assert cases.get_task(TaskRef.parse(order.task_id)).status is TaskStatus.EXPIRED
    assert case.accepted_on is not None
    assert case.working_days_used == working_days_between(case.accepted_on, asked_on)


def answer_until(simulator: PartnerSimulator, detail_type: str, timeout_seconds: float = 60.0) -> None:
    """Answer the partners' tasks until one of this type has been seen; bounded in real time."""
    deadline = time.monotonic() + timeout_seconds
    while not any(e.detail_type == detail_type for e in simulator.exchanges):
        assert time.monotonic() < deadline, f"no {detail_type} within {timeout_seconds}s"
        if not simulator.answer_pending():
            time.sleep(0.05)


def sweep_at(runtime: LocalRuntime, moment: datetime) -> None:
    """Move the domain clock to ``moment`` and sweep there, as the schedule would."""
    runtime.advance(moment - clock.now())
    with runtime.exclusive():
        sweeper.sweep(clock.now())
    runtime.drain()


def waited_on_again(runtime: LocalRuntime, ref: TaskRef, token: str | None, seconds: float = 30.0) -> Task:
    """The task once a new execution waits on it (its token changes), within ``seconds`` of real
    time."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        runtime.drain()
        task = cases.get_task(ref)
        if task.token != token:
            return task
        time.sleep(0.05)
    raise TimeoutError(f"nothing waits on {ref.task_id} again after {seconds}s")


def pay_in_full(order: Task) -> dict[str, Any]:
    amount = int(order.details["amount_fen"])
    return {
        "order_id": order.task_id,
        "status": "paid",
        "amount_fen": amount,
        "transaction_id": "TXN-RESUMED",
    }


def _silent_payment(event: dict[str, Any]) -> dict[str, Any]:
    """The applicant never pays: the platform is asked, nobody answers."""
    return {}


def test_a_rejection_closes_the_case_at_once_and_a_late_approval_gets_409(runtime: LocalRuntime) -> None:
    case_id = submit(runtime, held_transfer(runtime, **ON_THE_CLOCK))
    late: list[dict[str, Any]] = []

    def tax_rejects_others_wait(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["department"] == "SW-DEED-TAX":
            return {"decision": "reject", "comments": "计税价格不符"}
        late.append(event)
        return None  # the others have not answered yet

    status = run(runtime, case_id, Script(decide=tax_rejects_others_wait))

    assert status == "SUCCEEDED"
    case = cases.get_case(case_id)
    assert case.status is CaseStatus.REJECTED
    assert case.outcome_reason == "税务局（契税）: 计税价格不符"
    joint = {t.details["department"]: t.status for t in cases.tasks(case_id) if t.stage == 0}
    assert joint["SW-DEED-TAX"] is TaskStatus.ANSWERED
    assert {joint["BDC"], joint["ZJ-FILING"]} == {TaskStatus.CANCELLED}
    answer = runtime.signed_http(
        late[0]["partner_id"], "POST", f"/reviews/{late[0]['task_id']}/decision", {"decision": "approve"}
    )
    assert answer.status == 409


def test_two_sweeps_at_once_raise_each_alarm_once(runtime: LocalRuntime) -> None:
    case_id = submit(runtime, application())
    next_partner_task(runtime, "ReviewRequested", case_id)  # the department stays silent
    clock.advance(timedelta(days=30))
    results: list[dict[str, int]] = []

    def sweep() -> None:
        results.append(sweeper.sweep(clock.now()))

    with runtime.concurrently():
        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    runtime.drain()
    case = cases.get_case(case_id)
    assert case.alarms_raised
    assert sorted(case.alarms_raised) == sorted(set(case.alarms_raised))
    alarms = [e for e in cases.timeline(case_id) if e.step == "supervision"]
    assert len(alarms) == len(case.alarms_raised)
    escalated = [e for e in cases.timeline(case_id) if e.event == "escalated"]
    assert len(escalated) == 1
    review = next(t for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW)
    assert review.escalations == 1
    assert len(results) == 2  # both sweeps ran; other scenarios' open cases may be swept too
    with runtime.exclusive():
        recovery.withdraw(case_id, "test over", "applicant")
    runtime.drain()
