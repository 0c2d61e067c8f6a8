"""Review consolidation: a stage's decisions become one outcome; after the certificate, the services
its holder gets begin."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry
from zerovisit.services import review
from zerovisit.steps import BeginServicesInput, ConsolidationInput

cold_start()


@step_metrics("review_consolidation")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "begin_services":
        return review.begin_services(BeginServicesInput.model_validate(event).case_id)
    request = ConsolidationInput.model_validate(event)
    return review.consolidate_stage(request.case_id, request.stage)
