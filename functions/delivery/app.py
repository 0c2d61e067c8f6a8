"""Delivery: the EMS shipment, waiting until it is signed for; and what to do when it is not."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import delivery
from zerovisit.steps import DeliveryInput

cold_start()


@step_metrics("delivery")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = DeliveryInput.model_validate(event)
    if request.action == "assess":
        return delivery.assess_problem(request.case_id)
    if request.task_token is None:
        raise ValueError("dispatch needs the task token")
    return delivery.dispatch(request.case_id, request.task_token, request.round)
