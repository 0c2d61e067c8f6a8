"""Completion: closes the case with its outcome, or records the failure that ended it."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import completion
from zerovisit.steps import CloseInput

cold_start()


@step_metrics("completion")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = CloseInput.model_validate(event)
    return completion.close(request.case_id, request.outcome, request.reason or "", request.error)
