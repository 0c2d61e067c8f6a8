"""Review dispatch: one department's review task, waiting on its decision callback."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import review
from zerovisit.steps import ReviewDispatchInput

cold_start()


@step_metrics("review_dispatch")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ReviewDispatchInput.model_validate(event)
    return review.dispatch(
        request.case_id, request.stage, request.department, request.task_token, request.round
    )
