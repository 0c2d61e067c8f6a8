"""Certificate: the signed electronic certificate."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.observability import cold_start, logger
from zerovisit.services import certificate
from zerovisit.steps import StepInput

cold_start()


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return certificate.issue(StepInput.model_validate(event).case_id)
