"""The outbox relay: publishes each message that a case change wrote, and resumes waiting tasks.

Delivery is at least once: a failed message is reported back to the stream (partial batch
response) and comes again; events carry their stable ``event_id`` for consumers to drop repeats.
"""

import contextlib
from collections.abc import Sequence
from typing import NamedTuple

from zerovisit.adapters import aws, supervision
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.errors import DependencyUnavailable, TaskClosed


class Delivery(NamedTuple):
    """One stream record's message, with the id the stream knows it by."""

    record_id: str
    message: OutboxMessage


def relay(deliveries: Sequence[Delivery]) -> list[str]:
    """Deliver every message; returns the record ids that failed and must come again."""
    failed: list[str] = []
    events = [d for d in deliveries if d.message.action == "publish"]
    for record_id in aws.publish_many([(d.record_id, d.message) for d in events]):
        failed.append(record_id)
    for delivery in deliveries:
        message = delivery.message
        if message.action == "publish":
            continue
        try:
            if message.action == "notify":
                supervision.notify(message.subject or "", message.message or "")
                continue
            assert message.token is not None
            # A task that no longer waits (answered by a retry, timed out, cancelled) needs nothing.
            with contextlib.suppress(TaskClosed):
                if message.action == "resume":
                    aws.resume_task(message.token, message.output or {})
                else:
                    aws.fail_task(message.token, message.error or "Failed", message.cause or "")
        except DependencyUnavailable:
            failed.append(delivery.record_id)
    return failed
