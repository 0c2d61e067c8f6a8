"""Payment (统一公共支付): an order in integer fen, confirmed by the payment platform's callback."""

from typing import Any, Literal

from pydantic import Field

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.model import CaseStatus, Frozen, ShortText, Task, TaskKind, TaskStatus, task_case_id
from zerovisit.errors import InvalidInput, NotPermitted, TaskClosed
from zerovisit.services.common import due_after, note
from zerovisit.services.review import resume_again
from zerovisit.storage import cases

PAYMENT_PARTNER = "payment-platform"
PAYMENT_LIMIT_WORKING_DAYS = 10


class PaymentConfirmation(Frozen):
    order_id: ShortText
    status: Literal["paid"]
    amount_fen: int = Field(ge=1)
    transaction_id: ShortText


def request_payment(case_id: str, token: str) -> dict[str, Any]:
    case = cases.get_case(case_id)
    order_id = f"{case_id}.PAY"
    existing = next((t for t in cases.tasks(case_id) if t.task_id == order_id), None)
    if existing is not None:
        cases.refresh_token(existing, token)
        return {"order_id": order_id}
    due = due_after(PAYMENT_LIMIT_WORKING_DAYS)
    task = Task(
        task_id=order_id,
        case_id=case_id,
        kind=TaskKind.PAYMENT,
        partner=PAYMENT_PARTNER,
        created_at=clock.now(),
        due_on=due,
        token=token,
        details={"amount_fen": case.fee_fen},
    )
    cases.save_case(
        case.model_copy(update={"status": CaseStatus.AWAITING_PAYMENT, "step": "payment"}),
        [note("payment", "payment requested", f"order {order_id}: {case.fee_fen / 100:.2f} yuan, due {due}")],
        new_tasks=[task],
    )
    aws.publish(
        "PaymentRequested",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "order_id": order_id,
            "amount_fen": case.fee_fen,
            "due_on": due.isoformat(),
        },
    )
    return {"order_id": order_id}


def confirm_payment(partner: str, confirmation: PaymentConfirmation) -> dict[str, Any]:
    try:
        case_id = task_case_id(confirmation.order_id)
    except ValueError as e:
        raise InvalidInput(["order_id: not a payment order of this system"]) from e
    task = cases.get_task(case_id, confirmation.order_id)
    if task.kind is not TaskKind.PAYMENT or task.partner != partner:
        raise NotPermitted("this order is not assigned to the calling partner")
    expected = int(task.details["amount_fen"])
    if confirmation.amount_fen != expected:
        raise InvalidInput([f"amount_fen: {confirmation.amount_fen} does not match the order's {expected}"])
    answer = confirmation.model_dump(mode="json")
    output = {"order_id": task.task_id, "transaction_id": confirmation.transaction_id}
    if task.status is TaskStatus.ANSWERED:
        if not task.same_answer(answer):
            raise TaskClosed("the order was already confirmed")
        resume_again(task.token, output)
        return {"order_id": task.task_id, "status": "paid"}
    case = cases.get_case(case_id)
    cases.save_case(
        case.model_copy(update={"status": CaseStatus.ISSUING, "step": "certificate"}),
        [note("payment", "paid", f"transaction {confirmation.transaction_id}", partner)],
        answered_task=task.answered(answer, clock.now()),
    )
    aws.resume_task(task.token, output)
    return {"order_id": task.task_id, "status": "paid"}
