"""Simulated partners: departments, the payment platform, EMS and the applicant.

They learn of their tasks the way a partner integration does, from the partner task
queue fed by the case bus, and answer through the HTTP API's callback routes, as a
real partner would. Each answer waits its partner's latency on the domain clock
first, so a case's timeline reads like a real one.
"""

import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import boto3
from zerovisit.clock import clock

from infra.local.runtime import REGION, HttpResponse, LocalRuntime

Answer = dict[str, Any]
# How long nothing must happen in the runtime before partners answer: a stage's review requests
# are all out by then (each comes a dispatch of some 15 ms after the last). A wait ends early when
# the runtime delivers a message or ends an execution.
POLL_SECONDS = 0.03


def approve(event: dict[str, Any]) -> Answer:
    """Approve what the task asks for: a review, an on-site inspection with its report, or a
    service after issuance with its result."""
    answer: Answer = {"decision": "approve", "comments": "符合要求"}
    if event.get("phase") == "onsite_inspection":
        answer["inspection"] = {
            "findings": "施工场地已具备施工条件，与申报材料一致",
            "inspectors": ["张建国", "李敏"],
            "inspected_on": clock.today().isoformat(),
        }
    elif event.get("phase") == "post_issuance":
        answer["result"] = service_result(event)
    return answer


def silent(*departments: str) -> Callable[[dict[str, Any]], Answer | None]:
    """A ``Script.decide`` in which these departments never answer and the others approve."""
    return lambda event: None if event["department"] in departments else approve(event)


def service_result(event: dict[str, Any]) -> Answer:
    """A plausible result of a service after the licence, numbered after the task."""
    serial = f"{zlib.crc32(event['task_id'].encode()):010d}"
    if event["service"] == "seal":
        return {"kind": "seal", "filing_number": f"3201{serial}", "seals": ["official", "finance", "invoice"]}
    if event["service"] == "tax":
        return {
            "kind": "tax",
            "taxpayer_id": event["credit_code"],
            "invoice_types": ["digital_general"],
            "monthly_quota_fen": 10_000_000,
        }
    return {
        "kind": "bank_account",
        "bank_name": "中国工商银行南京玄武支行",
        "account_number": f"430102{serial}",
        "account_code": f"J3010{serial[:9]}",
    }


def pay_in_full(event: dict[str, Any]) -> Answer:
    return {
        "order_id": event["order_id"],
        "status": "paid",
        "amount_fen": event["amount_fen"],
        "transaction_id": f"TXN-{event['order_id'].replace('.', '-')}",
    }


@dataclass
class Script:
    """How each partner answers. The defaults approve, pay and deliver."""

    decide: Callable[[dict[str, Any]], Answer | None] = approve  # None: the department stays silent
    correct: Callable[[dict[str, Any]], list[dict[str, str]]] = lambda event: []
    pay: Callable[[dict[str, Any]], Answer] = pay_in_full
    tracking: Callable[[dict[str, Any]], list[str]] = lambda event: ["picked_up", "in_transit", "signed_for"]
    latency: dict[str, timedelta] = field(
        default_factory=lambda: {
            "ReviewRequested": timedelta(hours=5),
            "CorrectionRequested": timedelta(hours=20),
            "PaymentRequested": timedelta(hours=1),
            "ShipmentDispatched": timedelta(hours=8),
        }
    )


@dataclass
class Exchange:
    """One task a partner saw and the answer it gave, for progress display and tests."""

    detail_type: str
    detail: dict[str, Any]
    responses: list[HttpResponse]


class PartnerSimulator:
    def __init__(self, runtime: LocalRuntime, script: Script | None = None) -> None:
        self.runtime = runtime
        self.script = script or Script()
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = runtime.outputs["PartnerTaskQueueUrl"]
        self.exchanges: list[Exchange] = []

    def answer_pending(self) -> list[Exchange]:
        """Answer every task now waiting in the partner queue; returns what was answered."""
        answered: list[Exchange] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not messages:
                return answered
            for message in messages:
                event = json.loads(message["Body"])
                answered.append(self._answer(event["detail-type"], event["detail"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def run_until_closed(
        self,
        case_id: str,
        timeout_seconds: float = 60.0,
        on_exchange: Callable[[Exchange], None] | None = None,
        clock_step: timedelta | None = None,
    ) -> str:
        """Answer tasks until the case's execution ends; returns its status. Bounded in real time.
        Partners answer only after a wait in which nothing happened in the runtime, so that every
        request of a parallel stage is out before the first answer, as it is when departments take
        hours. With ``clock_step``, such a round with nothing to answer moves the domain clock on by
        that much (firing the schedules), so a silent department meets its limit."""
        deadline = time.monotonic() + timeout_seconds
        quiet = False  # the last wait saw nothing happen in the runtime
        while (left := deadline - time.monotonic()) > 0:
            seen = self.runtime.activity.count
            answered = self.answer_pending() if quiet else []
            for exchange in answered:
                if on_exchange is not None:
                    on_exchange(exchange)
            status = self.runtime.execution_status(case_id)
            if status is not None and status != "RUNNING":
                return status
            if clock_step is not None and not answered and quiet:
                self.runtime.advance(clock_step)
            quiet = self.runtime.activity.wait_after(seen, min(POLL_SECONDS, left)) == seen
        raise TimeoutError(f"case {case_id} still running after {timeout_seconds}s of real time")

    def _answer(self, detail_type: str, detail: dict[str, Any]) -> Exchange:
        clock.advance(self.script.latency.get(detail_type, timedelta()))
        responses: list[HttpResponse] = []
        if detail_type == "ReviewRequested":
            decision = self.script.decide(detail)
            if decision is not None:
                path = f"/reviews/{detail['task_id']}/decision"
                responses.append(self._post(path, decision, detail["partner_id"]))
        elif detail_type == "CorrectionRequested":
            materials = self.script.correct(detail)
            responses.append(
                self._post(
                    f"/applications/{detail['case_id']}/corrections",
                    {"materials": materials},
                    "service-network",
                )
            )
        elif detail_type == "PaymentRequested":
            responses.append(self._post("/callbacks/payment", self.script.pay(detail), "payment-platform"))
        elif detail_type == "ShipmentDispatched":
            responses.append(self.runtime.signed_http("ems", "GET", f"/shipments/{detail['order_id']}"))
            for status in self.script.tracking(detail):
                body = {"order_id": detail["order_id"], "waybill": detail["waybill"], "status": status}
                responses.append(self._post("/callbacks/ems", body, "ems"))
        exchange = Exchange(detail_type, detail, responses)
        self.exchanges.append(exchange)
        return exchange

    def _post(self, path: str, body: Any, partner: str) -> HttpResponse:
        return self.runtime.signed_http(partner, "POST", path, body)
