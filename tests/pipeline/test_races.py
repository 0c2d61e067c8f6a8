"""Callbacks that arrive at the same moment, through the real API with handlers running at once."""

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from zerovisit.domain.model import TaskKind, TaskRef, TaskStatus
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator, Script
from infra.local.runtime import HttpResponse, LocalRuntime
from tests.support import application, held_transfer, next_partner_task

pytestmark = pytest.mark.pipeline

SOURCE = "gov.service-network"


def at_once(runtime: LocalRuntime, *calls: Callable[[], HttpResponse]) -> list[HttpResponse]:
    """Run the calls on their own threads, released together, with handlers running concurrently."""
    results: list[HttpResponse | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def call(index: int) -> None:
        start.wait(timeout=10)
        results[index] = calls[index]()

    with runtime.concurrently():
        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(calls))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    runtime.drain()
    assert all(r is not None for r in results)
    return [r for r in results if r is not None]


def decision(runtime: LocalRuntime, task: dict[str, Any], body: dict[str, Any]) -> Callable[[], HttpResponse]:
    path = f"/reviews/{task['task_id']}/decision"
    return lambda: runtime.signed_http(task["partner_id"], "POST", path, body)


def first_review(runtime: LocalRuntime) -> dict[str, Any]:
    detail = application()
    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    return next_partner_task(runtime, "ReviewRequested", detail["application_id"])


def test_two_different_decisions_at_once_exactly_one_wins(runtime: LocalRuntime) -> None:
    task = first_review(runtime)
    approve = {"decision": "approve", "comments": "ok"}
    reject = {"decision": "reject", "comments": "no"}

    responses = at_once(runtime, decision(runtime, task, approve), decision(runtime, task, reject))

    assert sorted(r.status for r in responses) == [200, 409], [(r.status, r.body) for r in responses]
    winner = next(r for r in responses if r.status == 200)
    stored = cases.get_task(TaskRef.parse(task["task_id"]))
    assert stored.status is TaskStatus.ANSWERED
    assert stored.answer == winner.body["decision"]
    decided = [e for e in cases.timeline(task["case_id"]) if e.event == "decided"]
    assert len(decided) == 1


def test_the_same_decision_twice_at_once_gets_the_first_answer_both_times(runtime: LocalRuntime) -> None:
    task = first_review(runtime)
    approve = {"decision": "approve", "comments": "ok"}

    responses = at_once(runtime, decision(runtime, task, approve), decision(runtime, task, approve))

    assert [r.status for r in responses] == [200, 200]
    assert responses[0].body == responses[1].body
    decided = [e for e in cases.timeline(task["case_id"]) if e.event == "decided"]
    assert len(decided) == 1


def test_the_same_payment_confirmation_twice_at_once_has_one_effect(runtime: LocalRuntime) -> None:
    detail = held_transfer(runtime, submitted_at="2026-02-13T09:30:00+08:00")
    case_id = detail["application_id"]
    runtime.put_event(SOURCE, "ApplicationSubmitted", detail)
    orders: list[dict[str, Any]] = []

    def hold_the_order(event: dict[str, Any]) -> dict[str, Any]:
        orders.append(event)
        return {}  # the platform's own confirmations are sent below, twice at once

    simulator = PartnerSimulator(runtime, Script(pay=hold_the_order))
    deadline = time.monotonic() + 120
    while not orders and time.monotonic() < deadline:  # the departments approve; the order comes
        simulator.answer_pending()
        time.sleep(0.05)
    [order] = orders
    body = {
        "order_id": order["order_id"],
        "status": "paid",
        "amount_fen": order["amount_fen"],
        "transaction_id": "TXN-RACE-1",
    }

    def pay() -> HttpResponse:
        return runtime.signed_http("payment-platform", "POST", "/callbacks/payment", body)

    responses = at_once(runtime, pay, pay)

    assert [r.status for r in responses] == [200, 200]
    paid = [e for e in cases.timeline(case_id) if e.event == "paid"]
    assert len(paid) == 1
    [stored] = [t for t in cases.tasks(case_id) if t.kind is TaskKind.PAYMENT]
    assert stored.status is TaskStatus.ANSWERED
    assert stored.version == 2  # opened once, answered once
