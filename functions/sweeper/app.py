"""Sweeper: on its schedule, raises deadline alarms and applies department timeout policies."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.clock import clock
from zerovisit.observability import cold_start, lambda_entry, logger
from zerovisit.services import sweeper

cold_start()


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    counts = sweeper.sweep(clock.now())
    logger.info("sweep done", extra=counts)
    return counts
