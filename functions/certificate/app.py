"""Certificate: the signed electronic certificate."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import certificate
from zerovisit.steps import StepInput

cold_start()


@step_metrics("certificate")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return certificate.issue(StepInput.model_validate(event).case_id)
