"""The payloads the state machine sends to each step function (see case_handling.asl.json)."""

from typing import Any, Literal

from pydantic import ConfigDict

from zerovisit.domain.base import Model


class StepInput(Model):
    model_config = ConfigDict(extra="forbid")

    case_id: str


class WaitingStepInput(StepInput):
    """A step that waits on a task token; ``round`` is when the waiting state was entered, which
    a retry of the state keeps."""

    task_token: str
    round: str | None = None


class AcceptanceInput(StepInput):
    action: Literal["accept", "resume"] = "accept"


class PreReviewInput(StepInput):
    action: Literal["check", "await_correction"]
    source: Literal["pre_review", "review"] = "pre_review"
    task_token: str | None = None
    round: str | None = None


class ReviewDispatchInput(WaitingStepInput):
    stage: int
    department: dict[str, Any]


class ConsolidationInput(StepInput):
    stage: int
    # Sent by the state machine's definitions before the stage's answers were read from the case
    # alone; executions started under them run on that definition until they end.
    answers: list[dict[str, Any]] | None = None


class BeginServicesInput(StepInput):
    action: Literal["begin_services"]


class CallbackStepInput(WaitingStepInput):
    pass


class DeliveryInput(StepInput):
    action: Literal["dispatch", "assess"]
    task_token: str | None = None
    round: str | None = None


class CloseInput(StepInput):
    outcome: Literal["completed", "rejected", "not_accepted", "withdrawn", "failed"]
    reason: str | None = None
    error: str | None = None
