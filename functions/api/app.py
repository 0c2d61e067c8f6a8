"""HTTP API: applications, case status, and the partners' callbacks."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Header
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from zerovisit.domain.model import SubmittedMaterial, task_case_id
from zerovisit.domain.review import DepartmentDecision
from zerovisit.errors import CaseNotFound, Conflict, DependencyUnavailable, InvalidInput
from zerovisit.observability import cold_start, logger
from zerovisit.services import delivery, intake, payment, prereview, queries, review

cold_start()
app = APIGatewayHttpResolver(enable_validation=True)

PartnerHeader = Annotated[str, Header(alias="X-ZV-Partner", min_length=1, max_length=64)]


class Correction(BaseModel):
    materials: list[SubmittedMaterial] = Field(min_length=1)


def _error(status: int, message: str, problems: list[str] | None = None) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {"message": message}
    if problems is not None:
        body["problems"] = problems
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(InvalidInput)
def _invalid(e: InvalidInput) -> Response[dict[str, Any]]:
    return _error(422, "the request is invalid", e.problems)


@app.exception_handler(CaseNotFound)
def _not_found(e: CaseNotFound) -> Response[dict[str, Any]]:
    return _error(404, "not found")


@app.exception_handler(Conflict)
def _conflict(e: Conflict) -> Response[dict[str, Any]]:
    return _error(409, str(e))


@app.exception_handler(DependencyUnavailable)
def _unavailable(e: DependencyUnavailable) -> Response[dict[str, Any]]:
    return _error(503, "temporarily unavailable, try again")


@app.post("/applications")
def submit_application(application: Annotated[dict[str, Any], Body()]) -> Response[dict[str, Any]]:
    result = intake.take_in(application)
    return Response(
        status_code=202,
        content_type=content_types.APPLICATION_JSON,
        body={"application_id": result.case_id, "case_id": result.case_id, "created": result.created},
    )


@app.post("/applications/<application_id>/corrections")
def submit_correction(application_id: str, correction: Annotated[Correction, Body()]) -> dict[str, Any]:
    return prereview.submit_correction(application_id, correction.materials)


@app.get("/cases/<case_id>")
def get_case(case_id: str) -> dict[str, Any]:
    return queries.case_view(case_id)


@app.post("/reviews/<task_id>/decision")
def decide(
    task_id: str, decision: Annotated[DepartmentDecision, Body()], partner: PartnerHeader
) -> dict[str, Any]:
    try:
        case_id = task_case_id(task_id)
    except ValueError as e:
        raise CaseNotFound("no such task") from e
    return review.decide(task_id, case_id, partner, decision)


@app.post("/callbacks/payment")
def payment_callback(
    confirmation: Annotated[payment.PaymentConfirmation, Body()], partner: PartnerHeader
) -> dict[str, Any]:
    return payment.confirm_payment(partner, confirmation)


@app.post("/callbacks/ems")
def ems_callback(event: Annotated[delivery.TrackingEvent, Body()], partner: PartnerHeader) -> dict[str, Any]:
    return delivery.track(partner, event)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
