"""Intake: a valid application opens exactly one case and starts its execution."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.application import changed_fields, validated_application
from zerovisit.domain.base import Model
from zerovisit.domain.case import Case, DomainEvent, EventType
from zerovisit.domain.catalog import Phase
from zerovisit.domain.model import answer_digest
from zerovisit.domain.payment import payment_items
from zerovisit.errors import Conflict, InvalidInput
from zerovisit.services.common import note
from zerovisit.services.ports import ports

# A refusal names every problem, within what one event can carry (EventBridge: 256 KB).
MAX_PROBLEMS = 50
MAX_PROBLEM_LENGTH = 300
KEPT_START = 60


class IntakeResult(Model):
    case_id: str
    created: bool
    execution_arn: str


def cut(problem: str) -> str:
    """A long problem loses the middle, not its end: a problem is 'field: reason', and a field
    named by the sender can be of any length; its start and the reason stay."""
    if len(problem) <= MAX_PROBLEM_LENGTH:
        return problem
    return problem[:KEPT_START] + "…" + problem[-(MAX_PROBLEM_LENGTH - KEPT_START - 1) :]


def bounded(problems: list[str]) -> list[str]:
    """At most MAX_PROBLEMS problems, each cut to a readable length, and a count of the rest."""
    shown = [cut(p) for p in problems]
    if len(shown) > MAX_PROBLEMS:
        rest = len(shown) - (MAX_PROBLEMS - 1)
        shown = [*shown[: MAX_PROBLEMS - 1], f"and {rest} more problems"]
    return shown


def take_in(data: Any) -> IntakeResult:
    """Validate and open the case; InvalidInput names every problem, after an
    ``ApplicationRejected`` event has told the service network."""
    try:
        application, matter = validated_application(data, ports().catalog.matter, clock.today(), clock.now())
    except InvalidInput as e:
        problems = bounded(e.problems)
        application_id = data.get("application_id") if isinstance(data, dict) else None
        if not isinstance(application_id, str) or len(application_id) > 64:
            application_id = None
        ports().gateway.publish(
            DomainEvent(
                EventType.APPLICATION_REJECTED,
                {"application_id": application_id, "problems": problems},
            )
        )
        raise InvalidInput(problems) from e
    digest = answer_digest(application.model_dump(mode="json"))
    case = Case(
        case_id=application.application_id,
        application=application,
        application_digest=digest,
        fee_fen=sum(item.amount_fen for item in payment_items(matter, application, clock.today())),
        delivery_required=matter.certificate.paper_original,
        services_follow=matter.next_stage(None, Phase.POST_ISSUANCE, application.region_code) is not None,
    )
    filed_by = f"; filed by agent {application.agent.name}" if application.agent else ""
    created = ports().cases.create(
        case,
        note(
            "intake", "submitted", f"{matter.name}, region {application.region_code}{filed_by}", "applicant"
        ),
    )
    stored = None if created else ports().cases.get(case.case_id)
    if stored is not None and stored.application_digest != digest:
        changed = ", ".join(changed_fields(stored.application, application))
        problem = (
            f"application_id {case.case_id} was already submitted with a different body "
            f"(differs in: {changed}); a changed application needs a new application_id"
        )
        ports().gateway.publish(
            DomainEvent(
                EventType.APPLICATION_REJECTED, {"application_id": case.case_id, "problems": [problem]}
            )
        )
        raise Conflict(problem)
    execution_arn = ports().gateway.start_execution(case.case_id, case.execution_name, resume=False)
    return IntakeResult(case_id=case.case_id, created=created, execution_arn=execution_arn)
