"""HTTP API: applications, case status, certificates (verification, a holder's library, revocation)
and the partners' callbacks.

Every route but certificate verification is signed by a partner (see zerovisit.domain.signature).
What is checked before a route runs is in ``handler``; which records a partner may see, in each route.
"""

import zerovisit.coldstart  # noqa: F401 - first: no garbage collection while the modules load

from datetime import date, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field
from search_routes import router as search_router  # type: ignore[import-not-found]  # the function folder
from zerovisit.api.boundary import Admitted, admit, give_up, refusal, remember
from zerovisit.api.models import (
    Accepted,
    CaseStatusAnswer,
    CorrectionAnswer,
    DecisionAnswer,
    EvaluationAnswer,
    PaymentAnswer,
    Report3550,
    ResumeAnswer,
    ShipmentRecipient,
    TrackingAnswer,
)
from zerovisit.api.router import Answer, Body, Path, Query, Router, request_context
from zerovisit.domain.base import Model
from zerovisit.domain.certificate import REASON_MAX_LENGTH
from zerovisit.domain.identity import mask_id_number
from zerovisit.domain.model import Application, SubmittedMaterial
from zerovisit.domain.review import DepartmentDecision
from zerovisit.errors import (
    CaseNotFound,
    Conflict,
    DependencyUnavailable,
    InvalidInput,
    NotPermitted,
)
from zerovisit.observability import cold_start, lambda_entry, logger
from zerovisit.services import (
    delivery,
    evaluation,
    intake,
    library,
    payment,
    prereview,
    queries,
    recovery,
    report,
    review,
    revocation,
    search,
    verification,
)
from zerovisit.services.ports import Keep

cold_start()
app = Router()
app.include_router(search_router)

CaseId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{5,63}$", max_length=64)]
TaskId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9.-]{5,127}$", max_length=128)]
CertificateIdentifier = Annotated[str, Path(max_length=128)]
CreditCode = Annotated[str, Path(pattern=r"^[0-9A-Z]{18}$", max_length=18)]
HolderId = Annotated[
    str, Path(max_length=64, description="identity number or unified social credit code of the holder")
]


class Correction(Model):
    materials: list[SubmittedMaterial] = Field(min_length=1, max_length=50)


@app.exception_handler(InvalidInput)
def _invalid(e: InvalidInput) -> Answer:
    return refusal(422, "the request is invalid", e.problems)


@app.exception_handler(NotPermitted)
def _forbidden(e: NotPermitted) -> Answer:
    return refusal(403, str(e))


@app.exception_handler(CaseNotFound)
def _not_found(e: CaseNotFound) -> Answer:
    return refusal(404, "not found")


@app.exception_handler(Conflict)
def _conflict(e: Conflict) -> Answer:
    return refusal(409, str(e))


@app.exception_handler(DependencyUnavailable)
def _unavailable(e: DependencyUnavailable) -> Answer:
    return refusal(503, "temporarily unavailable, try again")


def caller() -> str:
    return str(request_context()["partner"])


def kept_with_the_change(answer: type[BaseModel]) -> Keep | None:
    """The route's answer (``answer`` of its service's result), kept for replays in the service's
    own write rather than in a write of its own after it; written as the router writes it."""
    admitted: Admitted = request_context()["admitted"]
    return admitted.keeper(
        lambda result: answer.model_validate(result).model_dump(mode="json", by_alias=True)
    )


def own_records_only(act: Any) -> Any:
    """A record of another partner, read or written, is answered as one that does not exist (404,
    the same body), so that no partner learns what exists beyond its own."""
    try:
        return act()
    except NotPermitted as e:
        logger.warning("another partner's record", extra={"partner": caller(), "reason": str(e)})
        raise CaseNotFound("not found") from e


@app.post(
    "/applications",
    operation_id="submitApplication",
    status_code=202,
    response_description="Accepted: the case is open (created false: it already was, with this body).",
)
def submit_application(application: Annotated[Application, Body()]) -> Accepted:
    """Submit an application (the same validation and idempotency as the ApplicationSubmitted event).
    The same application_id with a different body is refused with 409."""
    data = application.model_dump(mode="json")
    result = intake.take_in(data)
    return Accepted(application_id=result.case_id, case_id=result.case_id, created=result.created)


@app.post("/applications/<application_id>/corrections", operation_id="submitCorrection")
def submit_correction(application_id: CaseId, correction: Annotated[Correction, Body()]) -> CorrectionAnswer:
    """The applicant's corrected materials, answering the one-time correction notice."""
    return CorrectionAnswer.model_validate(prereview.submit_correction(application_id, correction.materials))


@app.get("/cases/<case_id>", operation_id="getCase")
def get_case(case_id: CaseId) -> queries.CaseView | queries.DepartmentCaseView:
    """The case as the caller may see it: the service network and supervision (its regions) the
    status, deadlines and timeline; a department with a review task what its review needs."""
    return queries.case_view(case_id, caller())


class Withdrawal(Model):
    reason: str = Field(min_length=1, max_length=500, description="why the applicant withdraws")


@app.post("/applications/<application_id>/withdrawal", operation_id="withdrawApplication")
def withdraw(application_id: CaseId, withdrawal: Annotated[Withdrawal, Body()]) -> CaseStatusAnswer:
    """The applicant withdraws the application: the case closes at once and every open task is
    cancelled (its holder is told), a failed case's too. Withdrawing again answers as the first
    time."""
    return CaseStatusAnswer.model_validate(recovery.withdraw(application_id, withdrawal.reason, caller()))


@app.post("/cases/<case_id>/resume", operation_id="resumeCase")
def resume(case_id: CaseId) -> ResumeAnswer:
    """Operations resume a failed case, once its cause is fixed, from the step it failed at: no
    step already done is repeated. 409 for a case that has not failed."""
    return ResumeAnswer.model_validate(recovery.resume(case_id, caller()))


class Refusal(Model):
    reason: str = Field(min_length=1, max_length=500, description="why the case cannot be approved")


@app.post("/cases/<case_id>/refusal", operation_id="refuseCase")
def refuse(case_id: CaseId, closing: Annotated[Refusal, Body()]) -> CaseStatusAnswer:
    """Operations close a failed case that cannot succeed as rejected, with the reason the
    applicant is told; the tasks its failure left open are cancelled (their holders are told).
    409 for a case that has not failed; refusing again with the same reason answers as the first
    time."""
    return CaseStatusAnswer.model_validate(recovery.refuse(case_id, closing.reason, caller()))


@app.post("/cases/<case_id>/evaluation", operation_id="evaluateCase")
def evaluate(case_id: CaseId, rating: Annotated[evaluation.Evaluation, Body()]) -> EvaluationAnswer:
    """The applicant's service evaluation (好差评): five levels, exactly one per closed case; the
    same evaluation again returns the first answer."""
    return EvaluationAnswer.model_validate(evaluation.evaluate(case_id, rating))


@app.post("/reviews/<task_id>/decision", operation_id="decideReview")
def decide(task_id: TaskId, decision: Annotated[DepartmentDecision, Body()]) -> DecisionAnswer:
    """A department's decision on its review task (another department's task: 404)."""
    keep = kept_with_the_change(DecisionAnswer)
    return DecisionAnswer.model_validate(
        own_records_only(lambda: review.decide(task_id, caller(), decision, keep))
    )


@app.post("/callbacks/payment", operation_id="confirmPayment")
def payment_callback(confirmation: Annotated[payment.PaymentConfirmation, Body()]) -> PaymentAnswer:
    """The unified payment platform confirms one of its payment orders."""
    keep = kept_with_the_change(PaymentAnswer)
    return PaymentAnswer.model_validate(
        own_records_only(lambda: payment.confirm_payment(caller(), confirmation, keep))
    )


@app.post("/callbacks/ems", operation_id="trackShipment")
def ems_callback(event: Annotated[delivery.TrackingEvent, Body()]) -> TrackingAnswer:
    """EMS reports the tracking state of one of its parcels."""
    keep = kept_with_the_change(TrackingAnswer)
    return TrackingAnswer.model_validate(own_records_only(lambda: delivery.track(caller(), event, keep)))


@app.get("/shipments/<order_id>", operation_id="getShipmentRecipient")
def shipment_recipient(order_id: TaskId) -> ShipmentRecipient:
    """EMS fetches where to deliver one of its shipments; the address never travels on the event bus."""
    return ShipmentRecipient.model_validate(own_records_only(lambda: delivery.recipient(caller(), order_id)))


@app.get("/reports/3550", operation_id="getReport3550")
def report_3550(
    region: Annotated[str, Query(pattern=r"^[0-9]{6}$", max_length=6)],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> Report3550:
    """The 3550 report for a region supervision oversees: per flagship matter, cases closed in
    [from, to], mean working days against the target, documents and procedures."""
    queries.check_oversees(region)  # the route is supervision's alone (api/access.py)
    return Report3550.model_validate(report.report_3550(region, first, last))


@app.get("/enterprises/<credit_code>/services", operation_id="listEnterpriseServices")
def enterprise_services(credit_code: CreditCode) -> queries.EnterpriseServices:
    """What an enterprise registered here got after its licence (seal filing, tax registration and
    invoices, bank account), each completed, refused or expired, for the service network to show."""
    return queries.enterprise_services(credit_code)


@app.get("/certificates/<identifier>/verify", operation_id="verifyCertificate")
def verify_certificate(
    identifier: CertificateIdentifier,
    code: Annotated[str | None, Query(max_length=16)] = None,
) -> verification.Verification:
    """Anyone holding a certificate's identifier can check it: public, no signature. The holder's
    name is masked unless the verification code printed on the certificate is given."""
    return verification.verify(identifier, code)


@app.get("/holders/<holder_id>/certificates", operation_id="listHolderCertificates")
def holder_certificates(
    holder_id: HolderId,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    limit: Annotated[int, Query(description=f"1 to {search.MAX_LIMIT}")] = search.DEFAULT_LIMIT,
) -> library.LibraryPage:
    """The service network, for the holder: every certificate the person or organisation holds,
    newest first, each with its status today (valid, revoked, expired) and a link to its rendering
    (a PNG with the QR code that verifies it) valid for five minutes."""
    page = library.holder_library(holder_id, cursor, limit)
    logger.info(
        "holder library listed",
        extra={"holder": mask_id_number(holder_id), "certificates": len(page.certificates)},
    )
    return page


class RevocationRequest(Model):
    reason: str = Field(
        min_length=1,
        max_length=REASON_MAX_LENGTH,
        description="why, shown to anyone who verifies the certificate: no personal data",
    )


@app.post("/certificates/<identifier>/revocation", operation_id="revokeCertificate")
def revoke_certificate(
    identifier: CertificateIdentifier, request: Annotated[RevocationRequest, Body()]
) -> revocation.Revocation:
    """Operations revoke a certificate, with a reason that verification then shows with the time.
    Revoking again changes nothing: the first reason and time stand (revoked_now false)."""
    revoked = revocation.revoke(identifier, request.reason, caller())
    logger.info(
        "certificate revoked" if revoked.revoked_now else "certificate already revoked",
        extra={"identifier": identifier, "by": caller()},
    )
    return revoked


@lambda_entry
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    admitted = admit(event, timedelta(milliseconds=context.get_remaining_time_in_millis()))
    if admitted.answer is not None:
        return admitted.answer
    answer: dict[str, Any] | None = None
    try:
        answer = app.resolve(admitted.event, {"partner": admitted.partner, "admitted": admitted})
    finally:
        if answer is None:
            give_up(admitted)  # the route raised
    return remember(admitted, answer)
