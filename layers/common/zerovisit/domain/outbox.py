"""What a case change leaves for the relay: events to publish and waiting tasks to resume.

A message is written in the same transaction as the change that produced it, so a crash after the
write cannot lose it; its id is stable, so consumers drop a message delivered twice.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict

from zerovisit.domain.base import Model


class OutboxMessage(Model):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    case_id: str
    action: Literal["publish", "resume", "fail", "notify"]
    detail_type: str | None = None
    detail: dict[str, Any] | None = None
    token: str | None = None
    output: dict[str, Any] | None = None
    error: str | None = None
    cause: str | None = None
    subject: str | None = None
    message: str | None = None


def event(
    message_id: str, case_id: str, detail_type: str, detail: dict[str, Any], occurred_at: datetime
) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id,
        case_id=case_id,
        action="publish",
        detail_type=detail_type,
        detail={**detail, "occurred_at": occurred_at.isoformat(), "event_id": message_id},
    )


def resumption(message_id: str, case_id: str, token: str, output: dict[str, Any]) -> OutboxMessage:
    return OutboxMessage(message_id=message_id, case_id=case_id, action="resume", token=token, output=output)


def failure(message_id: str, case_id: str, token: str, error: str, cause: str) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id, case_id=case_id, action="fail", token=token, error=error, cause=cause
    )


def notice(message_id: str, case_id: str, subject: str, message: str) -> OutboxMessage:
    return OutboxMessage(
        message_id=message_id, case_id=case_id, action="notify", subject=subject, message=message
    )
