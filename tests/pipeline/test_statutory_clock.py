"""The statutory clock on the running pipeline: deadlines, suspensions, alarms, department limits,
and provisional deadlines — with simulated time only; nothing sleeps."""

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import boto3
import pytest
from zerovisit.clock import clock
from zerovisit.domain.model import CaseStatus
from zerovisit.domain.workdays import default_calendar
from zerovisit.services.calendar import load_schedule
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator, Script, silent
from infra.local.runtime import REGION, LocalRuntime
from tests.conftest import OutboundEvents
from tests.support import application, held_transfer, next_partner_task

pytestmark = pytest.mark.pipeline


@pytest.fixture
def supervision_queue(runtime: LocalRuntime) -> str:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"supervisors-{datetime.now().timestamp():.0f}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(
        TopicArn=runtime.outputs["SupervisionTopicArn"], Protocol="sqs", Endpoint=arn
    )
    return url


def sns_messages(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    found: list[dict[str, Any]] = []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in messages:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_a_five_day_case_accepted_on_30_september_is_due_13_october(runtime: LocalRuntime) -> None:
    clock.set(datetime.fromisoformat("2026-09-30T10:15:00+08:00"))
    detail = held_transfer(runtime)
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)

    assert PartnerSimulator(runtime).run_until_closed(detail["application_id"]) == "SUCCEEDED"

    case = cases.get_case(detail["application_id"])
    assert case.accepted_on == date(2026, 9, 30)
    assert case.promised_due == date(2026, 10, 13)
    assert case.status is CaseStatus.COMPLETED
    assert case.working_days_used is not None
    assert case.working_days_used <= 5


def test_warning_and_overdue_are_raised_exactly_once_each(
    runtime: LocalRuntime,
    outbound: OutboundEvents,
    supervision_queue: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # a district of its own: the metrics carry no case id, and other tests' cases are in 320102
    detail = application(region_code="320105")
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    unanswered = next_partner_task(runtime, "ReviewRequested", case_id)  # market regulation never answers

    while clock.today() < date(2026, 2, 26):  # due 02-25; overdue from 02-26
        runtime.advance(timedelta(hours=3))

    # 市场主体登记管理条例 art. 19: the statutory limit is the promised 3 working days too.
    # delivery is at least once: a consumer keeps one event per event_id
    warnings = list({e["event_id"]: e for e in outbound.of("DeadlineWarning", case_id=case_id)}.values())
    overdue = list({e["event_id"]: e for e in outbound.of("CaseOverdue", case_id=case_id)}.values())
    assert sorted(w["limit"] for w in warnings) == ["promised", "statutory"]
    assert sorted(o["limit"] for o in overdue) == ["promised", "statutory"]
    assert {o["due_on"] for o in overdue} == {"2026-02-25"}
    case = cases.get_case(case_id)
    assert sorted(case.alarms_raised) == [
        "promised:overdue",
        "promised:warning",
        "statutory:overdue",
        "statutory:warning",
    ]
    subjects = [m["Subject"] for m in sns_messages(supervision_queue) if case.case_number in m["Subject"]]
    assert sorted(subjects) == sorted(
        [
            f"ZeroVisit warning: case {case.case_number} (promised limit)",
            f"ZeroVisit overdue: case {case.case_number} (promised limit)",
            f"ZeroVisit warning: case {case.case_number} (statutory limit)",
            f"ZeroVisit overdue: case {case.case_number} (statutory limit)",
            f"ZeroVisit escalation: 市场监督管理局, case {case.case_number}",
        ]
    )
    metrics = [json.loads(line) for line in capfd.readouterr().out.splitlines() if '"_aws"' in line]
    overdue_metrics = [
        m
        for m in metrics
        if m.get("OverdueCases") == [1.0]
        and m.get("matter") == "BUSINESS-STARTUP"
        and m.get("region") == "320105"
    ]
    assert sorted(m["limit"] for m in overdue_metrics) == ["promised", "statutory"]

    # escalate policy: the silent department was alarmed once and given a new limit
    escalations = outbound.of("ReviewOverdue", case_id=case_id)
    assert len(escalations) == 1
    assert escalations[0]["department"] == "SCJG"
    assert ("review", "escalated") in [(e.step, e.event) for e in cases.timeline(case_id)]

    runtime.signed_http(
        "dept-scjg", "POST", f"/reviews/{unanswered['task_id']}/decision", {"decision": "approve"}
    )
    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"
    runtime.advance(timedelta(days=3))
    assert len(outbound.of("CaseOverdue", case_id=case_id)) == 2  # closed: nothing more


def test_a_silent_department_with_deem_approved_policy_is_deemed_to_approve(runtime: LocalRuntime) -> None:
    detail = application()
    case_id = detail["application_id"]

    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    simulator = PartnerSimulator(runtime, Script(decide=silent("GA-SEAL")))
    assert (
        simulator.run_until_closed(case_id, clock_step=timedelta(hours=4), timeout_seconds=180) == "SUCCEEDED"
    )

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    seal = next(t for t in cases.tasks(case_id) if t.details.get("department") == "GA-SEAL")
    assert seal.answer is not None
    assert seal.answer["comments"] == "deemed approved: no decision within 1 working day"
    assert ("post_issuance", "deemed approved") in [(e.step, e.event) for e in cases.timeline(case_id)]
    [seal_record] = [r for r in case.enterprise_services if r.department == "GA-SEAL"]
    assert (seal_record.outcome.value, seal_record.result) == ("deemed_completed", None)


def test_a_department_suspension_moves_the_deadline_and_pauses_the_alarms(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    detail = application()
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    task = next_partner_task(runtime, "ReviewRequested", case_id)
    path = f"/reviews/{task['task_id']}/decision"
    suspend = {"decision": "suspend", "reason": "expert_review", "comments": "组织专家评审"}

    first = runtime.signed_http("dept-scjg", "POST", path, suspend)
    again = runtime.signed_http("dept-scjg", "POST", path, suspend)
    view = runtime.signed_http("service-network", "GET", f"/cases/{case_id}").body
    while clock.today() < date(2026, 2, 26):  # 02-14, 02-24, 02-25, 02-26: four working days
        runtime.advance(timedelta(hours=6))
    decided = runtime.signed_http("dept-scjg", "POST", path, {"decision": "approve"})

    assert (first.status, again.status, decided.status) == (200, 200, 200)
    assert view["suspended"] is True
    assert len(view["suspensions"]) == 1
    case = cases.get_case(case_id)
    assert case.promised_due == date(2026, 3, 2)  # 02-25 moved by four working days
    assert [(s.reason.value, str(s.started_on), str(s.ended_on)) for s in case.suspensions] == [
        ("expert_review", "2026-02-13", "2026-02-26")
    ]
    assert outbound.of("DeadlineWarning", case_id=case_id) == []
    assert outbound.of("ReviewOverdue", case_id=case_id) == []
    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"
    assert cases.get_case(case_id).working_days_used == 1


@pytest.fixture
def calendar_2027() -> Iterator[None]:
    yield
    default_calendar().forget_year(2027)


def test_a_2027_deadline_is_provisional_until_the_2027_schedule_is_loaded(
    runtime: LocalRuntime, calendar_2027: None
) -> None:
    clock.set(datetime.fromisoformat("2026-11-27T10:00:00+08:00"))
    detail = application("application_submitted.industrial_construction_permit")
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    first_review = next_partner_task(runtime, "ReviewRequested", case_id)  # accepted, and waiting
    provisional = cases.get_case(case_id)
    assert provisional.deadline_provisional is True
    assert "no official schedule for 2027" in (provisional.deadline_basis or "")

    spring_festival = {date(2027, 2, 5) + timedelta(days=n) for n in range(8)}  # 02-05 .. 02-12
    with runtime.exclusive():
        result = load_schedule(2027, {date(2027, 1, 1), *spring_festival}, {date(2027, 2, 20)})

    recomputed = cases.get_case(case_id)
    assert case_id in result["recomputed"]
    assert recomputed.deadline_provisional is False
    assert recomputed.promised_due is not None
    assert provisional.promised_due is not None
    assert recomputed.promised_due > provisional.promised_due
    assert ("clock", "deadline recomputed") in [(e.step, e.event) for e in cases.timeline(case_id)]
    path = f"/reviews/{first_review['task_id']}/decision"
    runtime.signed_http(first_review["partner_id"], "POST", path, {"decision": "approve"})
    assert PartnerSimulator(runtime).run_until_closed(case_id) == "SUCCEEDED"
