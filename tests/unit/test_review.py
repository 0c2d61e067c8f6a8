from datetime import date
from pathlib import Path
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.catalog import Matter, Phase, TimeoutPolicy
from zerovisit.domain.enterprise import ServiceKind, ServiceOutcome
from zerovisit.domain.model import TaskPhase
from zerovisit.domain.review import (
    Decision,
    DepartmentDecision,
    answer_problems,
    consolidate,
    settle_services,
)

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
BUSINESS_STARTUP = MATTERS["BUSINESS-STARTUP"]
CONSTRUCTION = MATTERS["INDUSTRIAL-CONSTRUCTION-PERMIT"]
REAL_ESTATE = MATTERS["REAL-ESTATE-TRANSFER"]
JIANGNING, XUANWU = "320115", "320102"  # a district with on-site inspection, and one without

APPROVE = DepartmentDecision(decision=Decision.APPROVE)
SCJG = "市场监督管理局"
BDC = "不动产登记中心"
DEED_TAX = "税务局（契税）"
FILING = "住房和城乡建设局（交易备案）"
CREDIT_CODE = "91320102MAE0000022"


def reject(comments: str = "") -> DepartmentDecision:
    return DepartmentDecision(decision=Decision.REJECT, comments=comments)


def correction(*items: str, comments: str = "") -> DepartmentDecision:
    return DepartmentDecision(decision=Decision.NEEDS_CORRECTION, items=list(items), comments=comments)


def all_approve(matter: Matter, stage_index: int) -> dict[str, DepartmentDecision | None]:
    return {d.code: APPROVE for d in matter.stages[stage_index].departments}


def joint_stage(**decisions: DepartmentDecision | None) -> dict[str, DepartmentDecision | None]:
    """The transfer's one parallel stage: BDC, SW-DEED-TAX, ZJ-FILING, approving unless told."""
    answers: dict[str, DepartmentDecision | None] = {
        "BDC": APPROVE,
        "SW-DEED-TAX": APPROVE,
        "ZJ-FILING": APPROVE,
    }
    answers.update({code.replace("_", "-"): decision for code, decision in decisions.items()})
    return answers


def test_the_catalog_holds_the_policies_these_tests_rely_on() -> None:
    departments = {d.code: d for d in REAL_ESTATE.stages[0].departments}
    assert list(departments) == ["BDC", "SW-DEED-TAX", "ZJ-FILING"]
    assert departments["ZJ-FILING"].timeout_policy is TimeoutPolicy.DEEM_APPROVED
    assert departments["SW-DEED-TAX"].timeout_policy is TimeoutPolicy.ESCALATE
    assert departments["BDC"].timeout_policy is TimeoutPolicy.ESCALATE
    assert [d.name for d in departments.values()] == [BDC, DEED_TAX, FILING]
    services = BUSINESS_STARTUP.stages[1]
    assert services.phase is Phase.POST_ISSUANCE
    assert [(d.code, d.service, d.timeout_policy) for d in services.departments] == [
        ("GA-SEAL", ServiceKind.SEAL, TimeoutPolicy.DEEM_APPROVED),
        ("SW-INVOICE", ServiceKind.TAX, TimeoutPolicy.ESCALATE),
        ("BANK-ACCOUNT", ServiceKind.BANK_ACCOUNT, TimeoutPolicy.ESCALATE),
    ]


# --- approvals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("matter", "stage_index"), [(CONSTRUCTION, 0), (CONSTRUCTION, 2), (CONSTRUCTION, 3)])
def test_all_approve_in_a_non_final_stage_goes_to_the_next(matter: Matter, stage_index: int) -> None:
    outcome = consolidate(matter, stage_index, all_approve(matter, stage_index))

    assert outcome.outcome == "next_stage"
    assert outcome.stage_index == stage_index + 1
    assert outcome.reasons == []
    assert outcome.correction_items == []


@pytest.mark.parametrize(
    ("matter", "last_review"), [(BUSINESS_STARTUP, 0), (CONSTRUCTION, 5), (REAL_ESTATE, 0)]
)
def test_all_approve_in_the_last_review_stage_is_approved(matter: Matter, last_review: int) -> None:
    outcome = consolidate(matter, last_review, all_approve(matter, last_review))

    assert outcome.outcome == "approved"
    assert outcome.stage_index == last_review
    assert outcome.reasons == []


def test_the_licence_follows_registration_and_the_services_follow_the_licence() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"SCJG": APPROVE}, region_code=XUANWU)

    assert outcome.outcome == "approved"
    assert BUSINESS_STARTUP.next_stage(None, Phase.POST_ISSUANCE, XUANWU) == 1
    assert BUSINESS_STARTUP.next_stage(None, Phase.REVIEW, XUANWU) == 0


@pytest.mark.parametrize(
    ("region", "outcome", "index"), [(JIANGNING, "next_stage", 5), (XUANWU, "approved", 4)]
)
def test_the_on_site_inspection_follows_only_where_the_region_has_one(
    region: str, outcome: str, index: int
) -> None:
    result = consolidate(CONSTRUCTION, 4, all_approve(CONSTRUCTION, 4), region_code=region)

    assert (result.outcome, result.stage_index) == (outcome, index)
    assert CONSTRUCTION.stages[5].onsite_inspection is not None
    assert CONSTRUCTION.stages[5].onsite_inspection.time_counted is True


def test_decisions_of_other_departments_do_not_stand_in_for_the_stage() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"GA-SEAL": APPROVE, "BANK-ACCOUNT": APPROVE})

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["SCJG: no decision"]


# --- rejection ----------------------------------------------------------------------------------------


def test_one_rejection_among_approvals_rejects() -> None:
    outcome = consolidate(REAL_ESTATE, 0, joint_stage(SW_DEED_TAX=reject("计税价格明显偏低")))

    assert outcome.outcome == "rejected"
    assert outcome.stage_index == 0
    assert outcome.reasons == [f"{DEED_TAX}: 计税价格明显偏低"]


def test_rejection_wins_over_a_correction_request() -> None:
    outcome = consolidate(
        REAL_ESTATE,
        0,
        joint_stage(ZJ_FILING=correction("合同编号不符"), SW_DEED_TAX=reject("计税价格明显偏低")),
    )

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{DEED_TAX}: 计税价格明显偏低"]
    assert outcome.correction_items == []


def test_rejection_wins_over_silence() -> None:
    outcome = consolidate(REAL_ESTATE, 0, joint_stage(SW_DEED_TAX=None, BDC=reject("房屋已查封")))

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{BDC}: 房屋已查封"]


def test_every_rejection_is_a_reason() -> None:
    outcome = consolidate(
        REAL_ESTATE, 0, joint_stage(ZJ_FILING=reject("合同未网签"), BDC=reject("房屋已查封"))
    )

    assert outcome.reasons == [f"{BDC}: 房屋已查封", f"{FILING}: 合同未网签"]


def test_rejection_without_comments_still_names_the_department() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"SCJG": reject()})

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{SCJG}: rejected"]


# --- correction ---------------------------------------------------------------------------------------


def test_correction_requests_are_merged_into_one_notice() -> None:
    outcome = consolidate(
        REAL_ESTATE,
        0,
        joint_stage(
            ZJ_FILING=correction("合同编号不符", "缺少网签备案表"), BDC=correction("权籍调查表不清晰")
        ),
    )

    assert outcome.outcome == "correction"
    assert outcome.stage_index == 0
    assert outcome.correction_items == [
        f"{BDC}: 权籍调查表不清晰",
        f"{FILING}: 合同编号不符",
        f"{FILING}: 缺少网签备案表",
    ]
    assert outcome.reasons == []


def test_correction_without_items_uses_the_comments() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"SCJG": correction(comments="章程第五条需修改")})

    assert outcome.outcome == "correction"
    assert outcome.correction_items == [f"{SCJG}: 章程第五条需修改"]


# --- silence ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("leave_out", [False, True], ids=["answered None", "absent"])
def test_silent_department_deemed_approved_counts_as_approval(leave_out: bool) -> None:
    decisions = joint_stage(ZJ_FILING=None)
    if leave_out:
        del decisions["ZJ-FILING"]

    outcome = consolidate(REAL_ESTATE, 0, decisions)

    assert outcome.outcome == "approved"


def test_silent_department_with_escalate_escalates() -> None:
    outcome = consolidate(REAL_ESTATE, 0, joint_stage(SW_DEED_TAX=None))

    assert outcome.outcome == "escalated"
    assert outcome.stage_index == 0
    assert outcome.reasons == ["SW-DEED-TAX: no decision"]


def test_every_silent_escalating_department_is_named() -> None:
    outcome = consolidate(REAL_ESTATE, 0, joint_stage(ZJ_FILING=None, SW_DEED_TAX=None, BDC=None))

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["BDC: no decision", "SW-DEED-TAX: no decision"]


def test_policy_defaults_to_escalate_when_the_catalog_names_none() -> None:
    # The construction permit's departments carry no timeout_policy in the YAML.
    outcome = consolidate(CONSTRUCTION, 0, {"FGW": None})

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["FGW: no decision"]


# --- the services after issuance ----------------------------------------------------------------------

SEAL = {"kind": "seal", "filing_number": "32010000000001", "seals": ["official", "finance"]}
TAX = {
    "kind": "tax",
    "taxpayer_id": CREDIT_CODE,
    "invoice_types": ["digital_general"],
    "monthly_quota_fen": 1,
}
BANK = {
    "kind": "bank_account",
    "bank_name": "中国工商银行南京玄武支行",
    "account_number": "4301020000000001",
    "account_code": "J3010000000001",
}


def done(result: dict[str, Any]) -> DepartmentDecision:
    return DepartmentDecision.model_validate({"decision": "approve", "result": result})


def test_each_service_is_settled_on_its_own_and_a_refusal_refuses_only_itself() -> None:
    decisions = {
        "GA-SEAL": done(SEAL),
        "SW-INVOICE": done(TAX),
        "BANK-ACCOUNT": reject("受益所有人信息未能核实"),
    }

    outcome = settle_services(BUSINESS_STARTUP, 1, decisions)

    assert outcome.outcome == "services_done"
    assert [(s.department, s.outcome, s.reason) for s in outcome.settled] == [
        ("GA-SEAL", ServiceOutcome.COMPLETED, None),
        ("SW-INVOICE", ServiceOutcome.COMPLETED, None),
        ("BANK-ACCOUNT", ServiceOutcome.REFUSED, "受益所有人信息未能核实"),
    ]
    assert outcome.settled[0].result is not None
    assert outcome.settled[0].result.kind == "seal"


def test_a_silent_service_follows_its_timeout_policy_and_past_its_final_limit_expires() -> None:
    silent = {"GA-SEAL": None, "SW-INVOICE": None, "BANK-ACCOUNT": done(BANK)}

    asked_again = settle_services(BUSINESS_STARTUP, 1, silent)
    given_up = settle_services(BUSINESS_STARTUP, 1, silent, expired={"SW-INVOICE"})

    assert asked_again.outcome == "escalated"
    assert asked_again.silent == ["SW-INVOICE"]
    assert [(s.department, s.outcome) for s in asked_again.settled] == [
        ("GA-SEAL", ServiceOutcome.DEEMED_COMPLETED),
        ("BANK-ACCOUNT", ServiceOutcome.COMPLETED),
    ]
    assert given_up.outcome == "services_done"
    assert [(s.department, s.outcome) for s in given_up.settled][1] == ("SW-INVOICE", ServiceOutcome.EXPIRED)


def test_a_deemed_approval_without_a_result_is_a_deemed_completion() -> None:
    deemed = DepartmentDecision.model_validate({"decision": "approve", "comments": "deemed approved: 1 day"})

    outcome = settle_services(
        BUSINESS_STARTUP, 1, {"GA-SEAL": deemed, "SW-INVOICE": done(TAX), "BANK-ACCOUNT": done(BANK)}
    )

    assert (outcome.settled[0].outcome, outcome.settled[0].reason) == (
        ServiceOutcome.DEEMED_COMPLETED,
        "deemed approved: 1 day",
    )


# --- what an answer must hold -------------------------------------------------------------------------

OPENED, TODAY = date(2026, 3, 2), date(2026, 3, 4)


def problems_of(answer: dict[str, Any], phase: TaskPhase, service: ServiceKind | None = None) -> list[str]:
    return answer_problems(
        DepartmentDecision.model_validate(answer), phase, service, CREDIT_CODE, OPENED, TODAY
    )


def test_a_service_answers_with_its_own_result_for_the_registered_enterprise() -> None:
    other_taxpayer = TAX | {"taxpayer_id": "91320102MA1XXXXX0X"}

    assert problems_of({"decision": "approve", "result": TAX}, TaskPhase.POST_ISSUANCE, ServiceKind.TAX) == []
    assert problems_of({"decision": "approve"}, TaskPhase.POST_ISSUANCE, ServiceKind.SEAL) == [
        "result: the seal result is required with decision 'approve'"
    ]
    assert problems_of(
        {"decision": "approve", "result": BANK}, TaskPhase.POST_ISSUANCE, ServiceKind.SEAL
    ) == ["result.kind: this task answers with a seal result, not bank_account"]
    assert problems_of(
        {"decision": "approve", "result": other_taxpayer}, TaskPhase.POST_ISSUANCE, ServiceKind.TAX
    ) == ["result.taxpayer_id: must be the enterprise's unified social credit code (多证合一)"]


def test_a_service_is_done_or_refused_with_a_reason_nothing_else() -> None:
    assert problems_of({"decision": "reject"}, TaskPhase.POST_ISSUANCE, ServiceKind.BANK_ACCOUNT) == [
        "comments: a refusal gives its reason"
    ]
    assert problems_of(
        {"decision": "needs_correction", "items": ["x"]}, TaskPhase.POST_ISSUANCE, ServiceKind.BANK_ACCOUNT
    ) == ["decision: a service after issuance is approved with its result or rejected with its reason"]
    assert problems_of({"decision": "approve", "result": SEAL}, TaskPhase.REVIEW) == [
        "result: only a service after issuance answers with a result"
    ]


def test_an_inspection_reports_its_findings_two_inspectors_and_a_day_within_the_task() -> None:
    report = {"findings": "场地具备施工条件", "inspectors": ["张建国", "李敏"], "inspected_on": "2026-03-03"}
    late = report | {"inspected_on": "2026-03-05"}

    assert problems_of({"decision": "approve", "inspection": report}, TaskPhase.ONSITE_INSPECTION) == []
    assert problems_of({"decision": "approve"}, TaskPhase.ONSITE_INSPECTION) == [
        "inspection: an on-site inspection answers with its findings, inspectors and date"
    ]
    assert problems_of({"decision": "reject", "inspection": late}, TaskPhase.ONSITE_INSPECTION) == [
        "inspection.inspected_on: must lie between the task's opening (2026-03-02) and today (2026-03-04)"
    ]
    assert problems_of({"decision": "approve", "inspection": report}, TaskPhase.REVIEW) == [
        "inspection: only an on-site inspection task reports one"
    ]
    with pytest.raises(ValueError, match="at least 2"):
        DepartmentDecision.model_validate(
            {"decision": "approve", "inspection": report | {"inspectors": ["张建国"]}}
        )
