from pathlib import Path

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.catalog import Matter, TimeoutPolicy
from zerovisit.domain.review import Decision, DepartmentDecision, consolidate

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
BUSINESS_STARTUP = MATTERS["BUSINESS-STARTUP"]
CONSTRUCTION = MATTERS["INDUSTRIAL-CONSTRUCTION-PERMIT"]
REAL_ESTATE = MATTERS["REAL-ESTATE-TRANSFER"]

APPROVE = DepartmentDecision(decision=Decision.APPROVE)
SCJG = "市场监督管理局"
GA_SEAL = "公安局（印章刻制备案）"
SW_INVOICE = "税务局（发票申领）"
BANK = "开户银行（银行开户）"


def reject(comments: str = "") -> DepartmentDecision:
    return DepartmentDecision(decision=Decision.REJECT, comments=comments)


def correction(*items: str, comments: str = "") -> DepartmentDecision:
    return DepartmentDecision(decision=Decision.NEEDS_CORRECTION, items=list(items), comments=comments)


def all_approve(matter: Matter, stage_index: int) -> dict[str, DepartmentDecision | None]:
    return {d.code: APPROVE for d in matter.stages[stage_index].departments}


def stage_two(**decisions: DepartmentDecision | None) -> dict[str, DepartmentDecision | None]:
    """The business start-up's parallel stage: GA-SEAL, SW-INVOICE, BANK-ACCOUNT, approving unless told."""
    answers: dict[str, DepartmentDecision | None] = {
        "GA-SEAL": APPROVE,
        "SW-INVOICE": APPROVE,
        "BANK-ACCOUNT": APPROVE,
    }
    answers.update({code.replace("_", "-"): decision for code, decision in decisions.items()})
    return answers


def test_the_catalog_holds_the_policies_these_tests_rely_on() -> None:
    departments = {d.code: d for d in BUSINESS_STARTUP.stages[1].departments}
    assert [d.code for d in BUSINESS_STARTUP.stages[0].departments] == ["SCJG"]
    assert list(departments) == ["GA-SEAL", "SW-INVOICE", "BANK-ACCOUNT"]
    assert departments["GA-SEAL"].timeout_policy is TimeoutPolicy.DEEM_APPROVED
    assert departments["SW-INVOICE"].timeout_policy is TimeoutPolicy.ESCALATE
    assert [d.name for d in departments.values()] == [GA_SEAL, SW_INVOICE, BANK]


# --- approvals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matter", "stage_index"),
    [(BUSINESS_STARTUP, 0), (CONSTRUCTION, 0), (CONSTRUCTION, 2), (CONSTRUCTION, 3)],
)
def test_all_approve_in_a_non_final_stage_goes_to_the_next(matter: Matter, stage_index: int) -> None:
    outcome = consolidate(matter, stage_index, all_approve(matter, stage_index))

    assert outcome.outcome == "next_stage"
    assert outcome.stage_index == stage_index + 1
    assert outcome.reasons == []
    assert outcome.correction_items == []


@pytest.mark.parametrize("matter", [BUSINESS_STARTUP, CONSTRUCTION, REAL_ESTATE])
def test_all_approve_in_the_last_stage_is_approved(matter: Matter) -> None:
    last = len(matter.stages) - 1

    outcome = consolidate(matter, last, all_approve(matter, last))

    assert outcome.outcome == "approved"
    assert outcome.stage_index == last
    assert outcome.reasons == []


def test_decisions_of_other_departments_do_not_stand_in_for_the_stage() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"GA-SEAL": APPROVE, "BANK-ACCOUNT": APPROVE})

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["SCJG: no decision"]


# --- rejection ----------------------------------------------------------------------------------------


def test_one_rejection_among_approvals_rejects() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 1, stage_two(SW_INVOICE=reject("无发票领用资格")))

    assert outcome.outcome == "rejected"
    assert outcome.stage_index == 1
    assert outcome.reasons == [f"{SW_INVOICE}: 无发票领用资格"]


def test_rejection_wins_over_a_correction_request() -> None:
    outcome = consolidate(
        BUSINESS_STARTUP,
        1,
        stage_two(GA_SEAL=correction("印章样式不符"), SW_INVOICE=reject("无发票领用资格")),
    )

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{SW_INVOICE}: 无发票领用资格"]
    assert outcome.correction_items == []


def test_rejection_wins_over_silence() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 1, stage_two(SW_INVOICE=None, BANK_ACCOUNT=reject("账户受限")))

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{BANK}: 账户受限"]


def test_every_rejection_is_a_reason() -> None:
    outcome = consolidate(
        BUSINESS_STARTUP, 1, stage_two(GA_SEAL=reject("印章已备案"), BANK_ACCOUNT=reject("账户受限"))
    )

    assert outcome.reasons == [f"{GA_SEAL}: 印章已备案", f"{BANK}: 账户受限"]


def test_rejection_without_comments_still_names_the_department() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"SCJG": reject()})

    assert outcome.outcome == "rejected"
    assert outcome.reasons == [f"{SCJG}: rejected"]


# --- correction ---------------------------------------------------------------------------------------


def test_correction_requests_are_merged_into_one_notice() -> None:
    outcome = consolidate(
        BUSINESS_STARTUP,
        1,
        stage_two(
            GA_SEAL=correction("印章样式不符", "缺少刻制申请表"),
            BANK_ACCOUNT=correction("预留印鉴不清晰"),
        ),
    )

    assert outcome.outcome == "correction"
    assert outcome.stage_index == 1
    assert outcome.correction_items == [
        f"{GA_SEAL}: 印章样式不符",
        f"{GA_SEAL}: 缺少刻制申请表",
        f"{BANK}: 预留印鉴不清晰",
    ]
    assert outcome.reasons == []


def test_correction_without_items_uses_the_comments() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 0, {"SCJG": correction(comments="章程第五条需修改")})

    assert outcome.outcome == "correction"
    assert outcome.correction_items == [f"{SCJG}: 章程第五条需修改"]


# --- silence ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("leave_out", [False, True], ids=["answered None", "absent"])
def test_silent_department_deemed_approved_counts_as_approval(leave_out: bool) -> None:
    decisions = stage_two(GA_SEAL=None)
    if leave_out:
        del decisions["GA-SEAL"]

    outcome = consolidate(BUSINESS_STARTUP, 1, decisions)

    assert outcome.outcome == "approved"


def test_silent_department_deemed_approved_in_another_matter() -> None:
    decisions = all_approve(REAL_ESTATE, 0) | {"ZJ-FILING": None}

    assert consolidate(REAL_ESTATE, 0, decisions).outcome == "approved"


def test_silent_department_with_escalate_escalates() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 1, stage_two(SW_INVOICE=None))

    assert outcome.outcome == "escalated"
    assert outcome.stage_index == 1
    assert outcome.reasons == ["SW-INVOICE: no decision"]


def test_every_silent_escalating_department_is_named() -> None:
    outcome = consolidate(BUSINESS_STARTUP, 1, stage_two(GA_SEAL=None, SW_INVOICE=None, BANK_ACCOUNT=None))

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["SW-INVOICE: no decision", "BANK-ACCOUNT: no decision"]


def test_policy_defaults_to_escalate_when_the_catalog_names_none() -> None:
    # The construction permit's departments carry no timeout_policy in the YAML.
    outcome = consolidate(CONSTRUCTION, 0, {"FGW": None})

    assert outcome.outcome == "escalated"
    assert outcome.reasons == ["FGW: no decision"]
