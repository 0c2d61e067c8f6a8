"""Delivery (快递送): an EMS shipment tracked until signed for; problems are not ignored."""

from typing import Any, Literal

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.deadlines import task_first_alarm
from zerovisit.domain.identity import s10_check_digit
from zerovisit.domain.model import Frozen, ShortText, Task, TaskKind
from zerovisit.errors import CaseNotFound, InvalidInput, TaskClosed
from zerovisit.services.common import (
    answer_task,
    apply,
    due_after,
    held_task,
    matter_of,
    note,
    order_ref,
    reopen,
    task_ref,
)
from zerovisit.services.ports import Keep, ports

# EMS's partner id, which owns the tracking callback and the recipient route.
EMS_PARTNER = "ems"
FINAL_PROBLEMS = frozenset({"refused", "damaged", "lost"})

TrackingStatus = Literal[
    "picked_up", "in_transit", "out_for_delivery", "signed_for", "refused", "damaged", "lost"
]


class TrackingEvent(Frozen):
    order_id: ShortText
    waybill: ShortText
    status: TrackingStatus
    note: str = ""


def waybill_for(serial: int) -> str:
    """A UPU S10 EMS number: EA + 8-digit serial + check digit + CN."""
    digits = f"{serial % 100_000_000:08d}"
    return f"EA{digits}{s10_check_digit(digits)}CN"


def dispatch(case_id: str, token: str, round_: str | None = None) -> dict[str, Any]:
    """Create the shipment and tell EMS, in one write. A retried call waits on the open shipment;
    after a refused, damaged or lost parcel a new shipment goes out."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    case.require_open()
    still_open, earlier = reopen(case, tasks, lambda t: t.kind is TaskKind.DELIVERY, token, round_)
    if still_open is not None:
        return {"order_id": still_open.task_id, "waybill": still_open.details["waybill"]}
    if case.application.delivery is None:
        raise InvalidInput(["delivery: the case has no delivery address"])
    waybill = waybill_for(ports().cases.next_number("EMS"))
    due = due_after(matter_of(case).waits.delivery_working_days)
    task = Task(
        task_id=f"{case_id}.EMS{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.DELIVERY,
        partner=matter_of(case).partners.delivery,
        created_at=clock.now(),
        due_on=due,
        next_alarm_at=task_first_alarm(clock.now(), due),
        token=token,
        details={"waybill": waybill, "round": round_},
    )
    apply(case_id, lambda current: current.dispatch(clock.now(), task), case)
    return {"order_id": task.task_id, "waybill": waybill}


def assess_problem(case_id: str) -> dict[str, Any]:
    """After a refused, damaged or lost parcel: another shipment while attempts remain."""
    case, tasks = ports().cases.case_and_tasks(case_id)
    limit = matter_of(case).waits.max_shipments
    shipments = [t for t in tasks if t.kind is TaskKind.DELIVERY]
    redeliver = len(shipments) < limit
    detail = f"shipment {len(shipments)} of {limit} failed; " + (
        "sending again" if redeliver else "no attempt left"
    )
    entry = note("delivery", "redelivery" if redeliver else "undeliverable", detail)
    ports().cases.save(Change(case_id, case.version, None, (entry,)))
    return {"redeliver": redeliver}


def recipient(partner: str, order_id: str) -> dict[str, Any]:
    """Where EMS delivers: personal data, so it travels only on EMS's own signed request,
    never on the event bus."""
    case, _, task = held_task(task_ref(order_id, "shipment"), partner, TaskKind.DELIVERY, noun="shipment")
    delivery = case.application.delivery
    if delivery is None:
        raise CaseNotFound("the case has no delivery address")
    return {"order_id": order_id, "waybill": task.details["waybill"], "recipient": delivery.model_dump()}


def track(partner: str, event: TrackingEvent, keep: Keep | None = None) -> dict[str, Any]:
    """EMS's tracking state of one of its parcels; ``keep``: the route's answer, written with what
    the state changes."""
    ref = order_ref(event.order_id, "shipment")
    case, tasks, task = held_task(ref, partner, TaskKind.DELIVERY, noun="shipment")
    if task.details.get("waybill") != event.waybill:
        raise InvalidInput(["waybill: does not match the shipment"])
    detail = f"EMS {event.waybill}: {event.status}" + (f" ({event.note})" if event.note else "")
    result = {"order_id": task.task_id, "status": event.status}
    kept = keep(result) if keep else None
    if event.status != "signed_for" and event.status not in FINAL_PROBLEMS:
        if not task.is_open:
            raise TaskClosed("the shipment is already closed")
        entry = note("delivery", "tracking", detail, partner)
        ports().cases.save(Change(task.case_id, 0, None, (entry,)), kept)
        return result
    answer = event.model_dump(mode="json")

    def record(case: Case, current: Task, _: list[Task]) -> Change:
        return case.shipment_ended(clock.now(), current, answer, event.status, detail)

    answer_task(
        ref, partner, TaskKind.DELIVERY, answer, record, read=(case, tasks), noun="shipment", kept=kept
    )
    return result
