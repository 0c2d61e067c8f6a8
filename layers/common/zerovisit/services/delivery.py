"""Delivery (快递送): an EMS shipment tracked until signed for; problems are not ignored."""

import contextlib
from typing import Any, Literal

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.identity import s10_check_digit
from zerovisit.domain.model import CaseStatus, Frozen, ShortText, Task, TaskKind, TaskStatus, task_case_id
from zerovisit.errors import CaseNotFound, DeliveryFailed, InvalidInput, NotPermitted, TaskClosed
from zerovisit.services.common import due_after, note, reopen
from zerovisit.services.review import resume_again
from zerovisit.storage import cases

EMS_PARTNER = "ems"
DELIVERY_LIMIT_WORKING_DAYS = 5
MAX_SHIPMENTS = 2
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


def dispatch(case_id: str, token: str) -> dict[str, Any]:
    """Create the shipment. A retried call (a refused or lost parcel) sends a new one."""
    case = cases.get_case(case_id)
    still_open, earlier = reopen(case_id, lambda t: t.kind is TaskKind.DELIVERY, token)
    if still_open is not None:
        return {"order_id": still_open.task_id, "waybill": still_open.details["waybill"]}
    delivery = case.application.delivery
    if delivery is None:
        raise InvalidInput(["delivery: the case has no delivery address"])
    waybill = waybill_for(cases.next_number("EMS", clock.now()))
    task = Task(
        task_id=f"{case_id}.EMS{earlier + 1}",
        case_id=case_id,
        kind=TaskKind.DELIVERY,
        partner=EMS_PARTNER,
        created_at=clock.now(),
        due_on=due_after(DELIVERY_LIMIT_WORKING_DAYS),
        token=token,
        details={"waybill": waybill},
    )
    cases.save_case(
        case.model_copy(
            update={"status": CaseStatus.AWAITING_DELIVERY, "step": "delivery", "waybill": waybill}
        ),
        [note("delivery", "shipment dispatched", f"EMS {waybill}")],
        new_tasks=[task],
    )
    aws.publish(
        "ShipmentDispatched",
        {
            "case_id": case_id,
            "case_number": case.case_number,
            "order_id": task.task_id,
            "waybill": waybill,
            "certificate_id": case.certificate_id,
        },
    )
    return {"order_id": task.task_id, "waybill": waybill}


def assess_problem(case_id: str) -> dict[str, Any]:
    """After a refused, damaged or lost parcel: another shipment while attempts remain."""
    shipments = [t for t in cases.tasks(case_id) if t.kind is TaskKind.DELIVERY]
    redeliver = len(shipments) < MAX_SHIPMENTS
    detail = f"shipment {len(shipments)} of {MAX_SHIPMENTS} failed; " + (
        "sending again" if redeliver else "no attempt left"
    )
    cases.append_timeline(case_id, [note("delivery", "redelivery" if redeliver else "undeliverable", detail)])
    return {"redeliver": redeliver}


def recipient(partner: str, order_id: str) -> dict[str, Any]:
    """Where EMS delivers: personal data, so it travels only on EMS's own signed request,
    never on the event bus."""
    try:
        case_id = task_case_id(order_id)
    except ValueError as e:
        raise CaseNotFound("no such shipment") from e
    task = cases.get_task(case_id, order_id)
    if task.kind is not TaskKind.DELIVERY or task.partner != partner:
        raise NotPermitted("this shipment is not assigned to the calling partner")
    delivery = cases.get_case(case_id).application.delivery
    if delivery is None:
        raise CaseNotFound("the case has no delivery address")
    return {"order_id": order_id, "waybill": task.details["waybill"], "recipient": delivery.model_dump()}


def track(partner: str, event: TrackingEvent) -> dict[str, Any]:
    try:
        case_id = task_case_id(event.order_id)
    except ValueError as e:
        raise InvalidInput(["order_id: not a shipment of this system"]) from e
    task = cases.get_task(case_id, event.order_id)
    if task.kind is not TaskKind.DELIVERY or task.partner != partner:
        raise NotPermitted("this shipment is not assigned to the calling partner")
    if task.details.get("waybill") != event.waybill:
        raise InvalidInput(["waybill: does not match the shipment"])
    detail = f"EMS {event.waybill}: {event.status}" + (f" ({event.note})" if event.note else "")
    final = event.status == "signed_for" or event.status in FINAL_PROBLEMS
    if not final:
        if task.status is TaskStatus.ANSWERED:
            raise TaskClosed("the shipment is already closed")
        cases.append_timeline(case_id, [note("delivery", "tracking", detail, partner)])
        return {"order_id": task.task_id, "status": event.status}
    answer = event.model_dump(mode="json")
    if task.status is TaskStatus.ANSWERED:
        if not task.same_answer(answer):
            raise TaskClosed("the shipment is already closed")
    else:
        cases.answer_task(
            task.answered(answer, clock.now()),
            note(
                "delivery",
                "signed for" if event.status == "signed_for" else "delivery problem",
                detail,
                partner,
            ),
        )
    if event.status == "signed_for":
        resume_again(task.token, {"waybill": event.waybill, "status": event.status})
        if task.status is TaskStatus.OPEN:
            aws.publish(
                "ShipmentDelivered", {"case_id": case_id, "order_id": task.task_id, "waybill": event.waybill}
            )
    else:
        with contextlib.suppress(TaskClosed):
            aws.fail_task(task.token, DeliveryFailed.__name__, f"EMS {event.waybill}: {event.status}")
    return {"order_id": task.task_id, "status": event.status}
