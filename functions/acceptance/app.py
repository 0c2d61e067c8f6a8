"""Acceptance: case number, statutory clock, review plan; or where a resumed case continues."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import acceptance
from zerovisit.steps import AcceptanceInput

cold_start()


@step_metrics("acceptance")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = AcceptanceInput.model_validate(event)
    if request.action == "resume":
        return acceptance.resume_plan(request.case_id)
    return acceptance.accept(request.case_id)
