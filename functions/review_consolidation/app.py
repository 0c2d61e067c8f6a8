"""Review consolidation: a stage's decisions become one outcome."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import review
from zerovisit.steps import ConsolidationInput

cold_start()


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = ConsolidationInput.model_validate(event)
    return review.consolidate_stage(request.case_id, request.stage)
