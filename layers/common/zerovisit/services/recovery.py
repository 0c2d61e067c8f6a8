"""An operator resumes a failed case, or refuses one that cannot succeed; the applicant withdraws
an open one."""

from typing import Any

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.certificate import reason_problems
from zerovisit.domain.model import CaseStatus
from zerovisit.errors import Conflict, InvalidInput
from zerovisit.services.common import apply
from zerovisit.services.ports import ports


def resume(case_id: str, by: str) -> dict[str, Any]:
    """Continue a failed case from the step it failed at, once its cause is fixed, in a new
    execution. Calling again after a crash starts the same execution once: its name is fixed by
    the write."""

    def decide(case: Case) -> Change:
        if case.status is CaseStatus.FAILED:
            return case.resume_after_failure(clock.now(), by)
        if case.executions > 1 and not case.is_closed:
            return Change(case.case_id, case.version, None)  # resumed already; start its execution
        raise Conflict(f"only a failed case can be resumed; this one is {case.status.value}")

    case, _ = apply(case_id, decide)
    execution_arn = ports().gateway.start_execution(case_id, case.execution_name, resume=True)
    return {
        "case_id": case_id,
        "status": case.status.value,
        "step": case.step.value,
        "execution_arn": execution_arn,
    }


def refuse(case_id: str, reason: str, by: str) -> dict[str, Any]:
    """Close a failed case that cannot succeed as rejected, with the reason the applicant is told.
    Refusing again with the same reason answers as the first time; a case that has not failed is
    refused with ``Conflict``."""
    text = reason.strip()
    problems = reason_problems(text, "the applicant, supervision and the case's timeline show it")
    if problems:
        raise InvalidInput(problems)
    case, _ = apply(
        case_id,
        lambda current: current.refuse_after_failure(clock.now(), ports().cases.tasks(case_id), text, by),
    )
    return {"case_id": case_id, "status": case.status.value}


def withdraw(case_id: str, reason: str, by: str) -> dict[str, Any]:
    """The applicant withdraws: the case closes at once and every open task is cancelled. A
    repeated withdrawal answers as the first."""

    def decide(case: Case) -> Change:
        if case.status is CaseStatus.WITHDRAWN:
            return Change(case.case_id, case.version, None)
        return case.withdraw(clock.now(), ports().cases.tasks(case_id), reason, by)

    case, _ = apply(case_id, decide)
    return {"case_id": case_id, "status": case.status.value}
