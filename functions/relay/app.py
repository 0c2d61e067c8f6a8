"""Relay: the cases table's stream of outbox messages, published and resumed at least once."""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.observability import cold_start, logged_entry, without_storage
from zerovisit.services.relay import Delivery, relay

cold_start(bind=without_storage)


@logged_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deliveries = [
        Delivery(
            record_id=record["dynamodb"]["SequenceNumber"],
            message=OutboxMessage.model_validate_json(record["dynamodb"]["NewImage"]["body"]["S"]),
        )
        for record in event.get("Records", [])
    ]
    failed = relay(deliveries)
    return {"batchItemFailures": [{"itemIdentifier": record_id} for record_id in failed]}
