"""HTTP API: applications, case status, certificate verification and the partners' callbacks.

Every route but certificate verification is signed by a partner (see zerovisit.domain.signature).
"""

import json
import re
from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from search_routes import router as search_router  # type: ignore[import-not-found]  # the function folder
from zerovisit.adapters.secrets import partner_secret
from zerovisit.clock import clock
from zerovisit.domain.model import SubmittedMaterial
from zerovisit.domain.review import DepartmentDecision
from zerovisit.domain.signature import authenticate
from zerovisit.errors import (
    CaseNotFound,
    Conflict,
    DependencyUnavailable,
    InvalidInput,
    NotAuthenticated,
    NotPermitted,
)
from zerovisit.observability import cold_start, lambda_entry, logger
from zerovisit.services import (
    delivery,
    evaluation,
    intake,
    payment,
    prereview,
    queries,
    report,
    review,
    verification,
)

cold_start()
app = APIGatewayHttpResolver(enable_validation=True)
app.include_router(search_router)

SERVICE_NETWORK = "service-network"
SUPERVISION = "supervision"
PUBLIC_ROUTES = (("GET", re.compile(r"^/certificates/[^/]+/verify$")),)
# Routes only one partner may call, checked before the body is read; a department's right to a
# review task is checked against the task itself.
ROUTE_OWNERS = (
    ("POST", re.compile(r"^/applications(/[^/]+/corrections)?$"), SERVICE_NETWORK),
    ("POST", re.compile(r"^/cases/[^/]+/evaluation$"), SERVICE_NETWORK),
    ("POST", re.compile(r"^/callbacks/payment$"), payment.PAYMENT_PARTNER),
    ("POST", re.compile(r"^/callbacks/ems$"), delivery.EMS_PARTNER),
    ("GET", re.compile(r"^/shipments/[^/]+$"), delivery.EMS_PARTNER),
    ("GET", re.compile(r"^/reports/3550$"), SUPERVISION),
)
CaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$")]


class Correction(BaseModel):
    materials: list[SubmittedMaterial] = Field(min_length=1)


class Accepted(BaseModel):
    application_id: str
    case_id: str
    created: bool


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@app.exception_handler(InvalidInput)
def _invalid(e: InvalidInput) -> Response[dict[str, Any]]:
    return _json(422, {"message": "the request is invalid", "problems": e.problems})


@app.exception_handler(NotPermitted)
def _forbidden(e: NotPermitted) -> Response[dict[str, Any]]:
    return _json(403, {"message": str(e)})


@app.exception_handler(CaseNotFound)
def _not_found(e: CaseNotFound) -> Response[dict[str, Any]]:
    return _json(404, {"message": "not found"})


@app.exception_handler(Conflict)
def _conflict(e: Conflict) -> Response[dict[str, Any]]:
    return _json(409, {"message": str(e)})


@app.exception_handler(DependencyUnavailable)
def _unavailable(e: DependencyUnavailable) -> Response[dict[str, Any]]:
    return _json(503, {"message": "temporarily unavailable, try again"})


def caller() -> str:
    return str(app.context["partner"])


def route_owner(method: str, path: str) -> str | None:
    return next((owner for m, pattern, owner in ROUTE_OWNERS if m == method and pattern.match(path)), None)


@app.post("/applications")
def submit_application(application: Annotated[dict[str, Any], Body()]) -> Response[dict[str, Any]]:
    """Submit an application (the same validation and idempotency as the ApplicationSubmitted event)."""
    result = intake.take_in(application)
    body = Accepted(application_id=result.case_id, case_id=result.case_id, created=result.created)
    return _json(202, body.model_dump())


@app.post("/applications/<application_id>/corrections")
def submit_correction(application_id: CaseId, correction: Annotated[Correction, Body()]) -> dict[str, Any]:
    """The applicant's corrected materials, answering the one-time correction notice."""
    return prereview.submit_correction(application_id, correction.materials)


@app.get("/cases/<case_id>")
def get_case(case_id: CaseId) -> dict[str, Any]:
    """Status, current step, deadlines, working days used and remaining, and the timeline."""
    return queries.case_view(case_id)


@app.post("/cases/<case_id>/evaluation")
def evaluate(case_id: CaseId, rating: Annotated[evaluation.Evaluation, Body()]) -> dict[str, Any]:
    """The applicant's service evaluation (好差评): five levels, exactly one per closed case."""
    return evaluation.evaluate(case_id, rating)


@app.post("/reviews/<task_id>/decision")
def decide(task_id: str, decision: Annotated[DepartmentDecision, Body()]) -> dict[str, Any]:
    """A department's decision on its review task."""
    return review.decide(task_id, caller(), decision)


@app.post("/callbacks/payment")
def payment_callback(confirmation: Annotated[payment.PaymentConfirmation, Body()]) -> dict[str, Any]:
    """The unified payment platform confirms a payment order."""
    return payment.confirm_payment(caller(), confirmation)


@app.post("/callbacks/ems")
def ems_callback(event: Annotated[delivery.TrackingEvent, Body()]) -> dict[str, Any]:
    """EMS reports a parcel's tracking state."""
    return delivery.track(caller(), event)


@app.get("/shipments/<order_id>")
def shipment_recipient(order_id: str) -> dict[str, Any]:
    """EMS fetches where to deliver; the address never travels on the event bus."""
    return delivery.recipient(caller(), order_id)


@app.get("/reports/3550")
def report_3550(
    region: Annotated[str, Query(pattern=r"^[0-9]{6}$")],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> dict[str, Any]:
    """The 3550 report for a region: per flagship matter, cases closed in [from, to], mean working
    days against the target, documents and procedures."""
    return report.report_3550(region, first, last)


@app.get("/certificates/<identifier>/verify")
def verify_certificate(identifier: str) -> dict[str, Any]:
    """Anyone holding a certificate's identifier can check it; public, no signature needed."""
    return verification.verify(identifier)


def _refusal(status: int, message: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps({"message": message}),
    }


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = APIGatewayProxyEventV2(event)
    method = request.request_context.http.method.upper()
    path = request.raw_path
    app.append_context(partner=None)
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if request.body and content_type not in ("application/json", ""):
        return _refusal(415, "send the body as application/json")
    if not any(method == m and pattern.match(path) for m, pattern in PUBLIC_ROUTES):
        body = request.decoded_body or ""
        try:
            partner = authenticate(request.headers, method, path, body, clock.now(), partner_secret)
        except NotAuthenticated as e:
            logger.warning("request refused", extra={"path": path, "reason": str(e)})
            return _refusal(401, str(e))
        except DependencyUnavailable:
            return _refusal(503, "temporarily unavailable, try again")
        owner = route_owner(method, path)
        if owner is not None and partner != owner:
            logger.warning("request refused", extra={"path": path, "partner": partner})
            return _refusal(403, f"partner {partner} may not call {method} {path}")
        app.append_context(partner=partner)
    return app.resolve(event, context)
