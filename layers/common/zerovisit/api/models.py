"""The typed answers of the HTTP API's routes, as the OpenAPI document shows them."""

from datetime import date
from typing import Literal

from pydantic import Field

from zerovisit.domain.base import Model
from zerovisit.domain.model import SuspensionReason
from zerovisit.domain.review import Decision


class ErrorBody(Model):
    """Every 4xx and 5xx answer: a message for a person, and every problem found."""

    message: str
    problems: list[str] = Field(default_factory=list)


class Accepted(Model):
    application_id: str
    case_id: str
    created: bool


class CorrectionAnswer(Model):
    case_id: str
    task_id: str
    status: Literal["resumed"]


class EvaluationAnswer(Model):
    case_id: str
    level: int = Field(ge=1, le=5)


class RecordedDecision(Model):
    decision: Decision
    comments: str = ""
    items: list[str] = Field(default_factory=list)


class DecisionAnswer(Model):
    task_id: str
    status: Literal["recorded", "suspended"]
    decision: RecordedDecision | None = None
    reason: SuspensionReason | None = None


class PaymentAnswer(Model):
    order_id: str
    status: Literal["paid"]


class TrackingAnswer(Model):
    order_id: str
    status: Literal["picked_up", "in_transit", "out_for_delivery", "signed_for", "refused", "damaged", "lost"]


class Recipient(Model):
    recipient: str
    phone: str
    address: str


class ShipmentRecipient(Model):
    order_id: str
    waybill: str
    recipient: Recipient


class MatterFigures(Model):
    region_code: str
    region_name: str
    matter_code: str
    name: str
    target_working_days: int
    procedures: int
    required_documents: int
    completed: int
    closed_without_result: int
    mean_working_days: float | None
    max_working_days: int | None
    within_target: int
    within_target_share: float | None
    mean_documents_submitted: float | None


class Report3550(Model):
    region_code: str
    region_name: str
    first: date = Field(alias="from")
    last: date = Field(alias="to")
    matters: list[MatterFigures] = Field(description="the region's figures per flagship matter")
    regions: list[MatterFigures] = Field(
        description="the same per city of a province, or per district of a city"
    )


class CaseStatusAnswer(Model):
    case_id: str
    status: str


class ResumeAnswer(Model):
    case_id: str
    status: str = Field(description="where the case stands again")
    step: str = Field(description="the step it continues from")
    execution_arn: str
