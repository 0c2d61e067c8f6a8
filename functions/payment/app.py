"""Payment: the order, waiting on the payment platform's confirmation."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.observability import cold_start, logger
from zerovisit.services import payment
from zerovisit.steps import CallbackStepInput

cold_start()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CallbackStepInput.model_validate(event)
    return payment.request_payment(request.case_id, request.task_token)
