"""Intake: an ApplicationSubmitted event from the service network opens a case."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.errors import Conflict, InvalidInput
from zerovisit.metrics import step_metrics
from zerovisit.observability import cold_start, lambda_entry, logger
from zerovisit.services import intake

cold_start()


@step_metrics("intake")
@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    detail = event.get("detail")
    try:
        result = intake.take_in(detail)
    except InvalidInput as e:
        # Rejected for good: an ApplicationRejected event has told the network; retrying cannot help.
        logger.warning("application rejected", extra={"problems": e.problems})
        return {"status": "rejected", "problems": e.problems}
    except Conflict as e:
        logger.warning("application refused", extra={"problem": str(e)})
        return {"status": "rejected", "problems": [str(e)]}
    logger.info("application taken in", extra={"case_id": result.case_id, "new_case": result.created})
    return {"status": "accepted" if result.created else "duplicate", "case_id": result.case_id}
