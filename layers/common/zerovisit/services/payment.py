"""Payment (统一公共支付): an order in integer fen, confirmed by the payment platform's callback."""

from typing import Any, Literal

from pydantic import Field

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.deadlines import task_first_alarm
from zerovisit.domain.model import Frozen, ShortText, Task, TaskKind
from zerovisit.domain.payment import PaymentOrder, payment_items
from zerovisit.errors import InvalidInput
from zerovisit.services.common import answer_task, apply, due_after, matter_of, order_ref, reopen
from zerovisit.services.ports import Keep, ports

# The payment platform's partner id, which owns the payment callback route.
PAYMENT_PARTNER = "payment-platform"


class PaymentConfirmation(Frozen):
    order_id: ShortText
    status: Literal["paid"]
    amount_fen: int = Field(ge=1)
    transaction_id: ShortText


def request_payment(case_id: str, token: str) -> dict[str, Any]:
    """One payment order per case: a retried or resumed step waits on the same order."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    order_id = f"{case_id}.PAY"
    # One order per case, whatever round: a resumed case waits on the order it already has.
    still_open, earlier = reopen(case, tasks, lambda t: t.task_id == order_id, token, round_=order_id)
    if still_open is not None or earlier:
        return {"order_id": order_id}
    matter = matter_of(case)
    due = due_after(matter.waits.payment_working_days)
    order = PaymentOrder(
        order_id=order_id,
        case_id=case_id,
        items=payment_items(matter, case.application, case.accepted_on or clock.today()),
    )
    task = Task(
        task_id=order_id,
        case_id=case_id,
        kind=TaskKind.PAYMENT,
        partner=matter.partners.payment,
        created_at=clock.now(),
        due_on=due,
        next_alarm_at=task_first_alarm(clock.now(), due),
        token=token,
        details={
            "amount_fen": order.total_fen,
            "items": [item.model_dump() for item in order.items],
            "summary": order.summary(),
            "round": order_id,
        },
    )
    apply(case_id, lambda current: current.request_payment(clock.now(), task), case)
    return {"order_id": order_id}


def confirm_payment(
    partner: str, confirmation: PaymentConfirmation, keep: Keep | None = None
) -> dict[str, Any]:
    """The platform's confirmation of one of its orders; ``keep``: the route's answer, written
    with the payment."""
    ref = order_ref(confirmation.order_id, "payment order")
    answer = confirmation.model_dump(mode="json")
    result = {"order_id": ref.task_id, "status": "paid"}

    def record(case: Case, task: Task, _: list[Task]) -> Change:
        expected = int(task.details["amount_fen"])
        if confirmation.amount_fen != expected:
            raise InvalidInput(
                [f"amount_fen: {confirmation.amount_fen} does not match the order's {expected}"]
            )
        return case.pay(clock.now(), task, answer, confirmation.transaction_id)

    kept = keep(result) if keep else None
    answer_task(ref, partner, TaskKind.PAYMENT, answer, record, noun="payment order", kept=kept)
    return result
