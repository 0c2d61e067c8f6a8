"""Intake: a valid application opens exactly one case and starts its execution."""

from typing import Any

from pydantic import BaseModel

from zerovisit.adapters import aws
from zerovisit.clock import clock
from zerovisit.domain.application import validated_application
from zerovisit.domain.model import Case
from zerovisit.errors import InvalidInput
from zerovisit.services.common import note
from zerovisit.storage import cases, catalog


class IntakeResult(BaseModel):
    case_id: str
    created: bool
    execution_arn: str


def take_in(data: Any) -> IntakeResult:
    """Validate and open the case; InvalidInput names every problem, after an
    ``ApplicationRejected`` event has told the service network."""
    try:
        application, matter = validated_application(data, catalog.get_matter, clock.today())
    except InvalidInput as e:
        application_id = data.get("application_id") if isinstance(data, dict) else None
        aws.publish(
            "ApplicationRejected",
            {
                "application_id": application_id if isinstance(application_id, str) else None,
                "problems": e.problems,
            },
        )
        raise
    case = Case(
        case_id=application.application_id,
        application=application,
        fee_fen=matter.fee_fen,
        delivery_required=matter.certificate.paper_original,
    )
    filed_by = f"; filed by agent {application.agent.name}" if application.agent else ""
    created = cases.create_case(
        case,
        note(
            "intake", "submitted", f"{matter.name}, region {application.region_code}{filed_by}", "applicant"
        ),
    )
    execution_arn = aws.start_case_execution(case.case_id)
    return IntakeResult(case_id=case.case_id, created=created, execution_arn=execution_arn)
