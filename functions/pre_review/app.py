"""Pre-review: checks materials; or records the correction task and waits for the applicant."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import prereview
from zerovisit.steps import PreReviewInput

cold_start()


@step_metrics("pre_review")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = PreReviewInput.model_validate(event)
    if request.action == "check":
        return prereview.check_materials(request.case_id)
    if request.task_token is None:
        raise ValueError("await_correction needs the task token")
    return prereview.await_correction(request.case_id, request.source, request.task_token, request.round)
