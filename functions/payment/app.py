"""Payment: the order, waiting on the payment platform's confirmation."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import payment
from zerovisit.steps import CallbackStepInput

cold_start()


@step_metrics("payment")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CallbackStepInput.model_validate(event)
    return payment.request_payment(request.case_id, request.task_token)
