"""Sweeper: on its schedule, raises deadline alarms and applies department timeout policies.

A backlog that outlasts one invocation is continued by the function itself: it queues an
asynchronous invocation of its own ARN (``{"continue": true}``); the schedule goes on from the
stored cursor as well, so a continuation that never runs loses nothing."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.observability import cold_start, lambda_entry, logger
from zerovisit.services import sweeper

cold_start()
CONTINUE = {"continue": True}


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    invocation = sweeper.Invocation(
        owner=context.aws_request_id,
        time_left=lambda: timedelta(milliseconds=context.get_remaining_time_in_millis()),
        continue_later=lambda: aws.invoke_later(context.invoked_function_arn, CONTINUE),
    )
    counts = sweeper.sweep(clock.now(), invocation)
    logger.info("sweep done", extra={**counts, "continuation": event.get("continue") is True})
    return counts
