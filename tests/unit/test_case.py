"""The case aggregate's transition table: what it allows happens, what it does not is refused."""

from datetime import date, datetime, timedelta
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.clock import CHINA
from zerovisit.domain.application import parse_application
from zerovisit.domain.case import ALWAYS_ALLOWED, TRANSITIONS, Case, Verdict
from zerovisit.domain.model import CLOSED_STATUSES, CaseStatus, CaseStep, Failure, Task, TaskKind
from zerovisit.domain.plan import due_after
from zerovisit.domain.review import StageOutcome
from zerovisit.errors import Conflict

from tests.support import application

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
AT = datetime(2026, 2, 24, 10, tzinfo=CHINA)


def case_at(status: CaseStatus, **fields: Any) -> Case:
    return Case.model_validate(
        {
            "case_id": "C-000001",
            "application": parse_application(application()),
            "status": status,
            "accepted_on": date(2026, 2, 13),
            "promised_limit": 3,
            "statutory_limit": 20,
        }
        | fields
    )


def allowed(source: CaseStatus, target: CaseStatus) -> bool:
    always = ALWAYS_ALLOWED if source not in CLOSED_STATUSES else frozenset()
    return target is source or target in TRANSITIONS.get(source, frozenset()) | always


@pytest.mark.parametrize(("source", "target"), list(product(CaseStatus, CaseStatus)))
def test_a_status_changes_only_as_the_table_allows(source: CaseStatus, target: CaseStatus) -> None:
    case = case_at(source)
    if allowed(source, target):
        assert case._moved(target, CaseStep.REVIEW).status is target
    else:
        with pytest.raises(Conflict, match=f"a case {source.value} cannot become {target.value}"):
            case._moved(target, CaseStep.REVIEW)


S = CaseStatus
# The case's lifecycle as the service office runs it, written out move by move: every open case may
# also be withdrawn or fail; a closed case goes nowhere; a failed one is resumed where it stood,
# refused by operations, or withdrawn by the applicant.
LIFECYCLE = {
    S.SUBMITTED: {S.AWAITING_CORRECTION, S.IN_REVIEW, S.NOT_ACCEPTED},
    S.AWAITING_CORRECTION: {S.SUBMITTED, S.IN_REVIEW, S.NOT_ACCEPTED},
    S.IN_REVIEW: {S.AWAITING_CORRECTION, S.AWAITING_PAYMENT, S.ISSUING, S.REJECTED},
    S.AWAITING_PAYMENT: {S.ISSUING},
    S.ISSUING: {S.AWAITING_DELIVERY, S.COMPLETED},
    S.AWAITING_DELIVERY: {S.COMPLETED},
}
SETTLED_AFTER_FAILURE = {
    S.SUBMITTED,
    S.AWAITING_CORRECTION,
    S.IN_REVIEW,
    S.AWAITING_PAYMENT,
    S.ISSUING,
    S.AWAITING_DELIVERY,
    S.REJECTED,
    S.WITHDRAWN,
}


def test_the_table_allows_exactly_the_lifecycle() -> None:
    expected = {(s, t) for s, targets in LIFECYCLE.items() for t in targets | {S.WITHDRAWN, S.FAILED}}
    expected |= {(S.FAILED, t) for t in SETTLED_AFTER_FAILURE}
    moves = {(s, t) for s, t in product(CaseStatus, CaseStatus) if s is not t and allowed(s, t)}
    assert moves == expected


def test_a_completed_case_cannot_go_back_into_review() -> None:
    with pytest.raises(Conflict, match="a case completed cannot become in_review"):
        case_at(CaseStatus.COMPLETED)._moved(CaseStatus.IN_REVIEW, CaseStep.REVIEW)


def test_a_method_that_would_skip_a_step_is_refused_and_changes_nothing() -> None:
    """Dispatching a shipment for a case still waiting for its fee: payment → delivery is not a
    transition."""
    case = case_at(CaseStatus.AWAITING_PAYMENT, step=CaseStep.PAYMENT, case_number="32010220260000001")
    task = Task(
        task_id="C-000001#delivery#1",
        case_id=case.case_id,
        kind=TaskKind.DELIVERY,
        partner="ems",
        token="t",
        created_at=AT,
        due_on=date(2026, 3, 2),
        details={"waybill": "EA123456789CN"},
    )
    with pytest.raises(Conflict, match="a case awaiting_payment cannot become awaiting_delivery"):
        case.dispatch(AT, task)
    assert case.status is CaseStatus.AWAITING_PAYMENT


def test_refusing_a_failed_case_goes_through_the_table() -> None:
    failed = case_at(
        CaseStatus.FAILED,
        step=CaseStep.CERTIFICATE,
        failure=Failure(step="certificate", error="TitleNotValid", cause="revoked"),
    )
    refused = failed.refuse_after_failure(AT, [], "不予登记", "operations").case
    assert refused is not None
    assert (refused.status, refused.outcome_reason) == (CaseStatus.REJECTED, "不予登记")
    with pytest.raises(Conflict, match="only a failed case can be refused"):
        case_at(CaseStatus.COMPLETED).refuse_after_failure(AT, [], "不予登记", "operations")


def test_a_review_stage_verdict_is_the_aggregates() -> None:
    case = case_at(CaseStatus.IN_REVIEW)
    escalated = StageOutcome(outcome="escalated", stage_index=0, reasons=["A silent"], silent=["A"])
    rejected = StageOutcome(outcome="rejected", stage_index=0, reasons=["no fire exit", "no permit"])

    lapsed = "no decision within the final limit: A, B"
    assert case.review_verdict(0, escalated, ["B", "A"]) == Verdict("expired", lapsed, lapsed)
    assert case.review_verdict(0, escalated, []) == Verdict("escalated", "A silent")
    assert case.review_verdict(0, rejected, []).reason == "no fire exit; no permit"
    withdrawn = case_at(CaseStatus.WITHDRAWN).review_verdict(0, rejected, [])
    assert withdrawn == Verdict("withdrawn", "the case is withdrawn")


def test_a_stage_plan_takes_its_moment_and_reads_no_clock() -> None:
    """Planned an hour later on the same day: the same due dates, each backstop an hour nearer."""
    matter = next(m for m in read_catalog(CATALOG.glob("*.yaml")) if m.code == "BUSINESS-STARTUP")
    case = case_at(CaseStatus.IN_REVIEW)
    ten = datetime(2026, 3, 2, 10, tzinfo=CHINA)
    first, later = (case.stage_plan(matter, 0, at)["departments"] for at in (ten, ten + timedelta(hours=1)))

    assert first
    for a, b in zip(first, later, strict=True):
        assert a["due_on"] == b["due_on"] == str(due_after(ten, a["limit_working_days"]))
        assert a["timeout_seconds"] - b["timeout_seconds"] == 3600
