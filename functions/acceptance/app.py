"""Acceptance: case number, statutory clock, review plan."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import acceptance
from zerovisit.steps import StepInput

cold_start()


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return acceptance.accept(StepInput.model_validate(event).case_id)
