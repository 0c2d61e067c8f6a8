"""The three 3550 flows, run as catalog data by the one state machine."""

from datetime import datetime
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.clock import clock
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import CaseStatus, TaskKind
from zerovisit.storage import cases
from zerovisit.storage.tables import certificate_item

from infra.local.partners import PartnerSimulator, Script
from infra.local.runtime import LocalRuntime
from tests.conftest import OutboundEvents
from tests.support import application, document, register_seller_title, without_material

pytestmark = pytest.mark.pipeline

FLOWS = [
    ("application_submitted.business_startup", "BUSINESS-STARTUP", 3, "2026-02-13T09:30:00+08:00"),
    ("application_submitted.real_estate_transfer", "REAL-ESTATE-TRANSFER", 5, "2026-09-30T10:15:00+08:00"),
    (
        "application_submitted.industrial_construction_permit",
        "INDUSTRIAL-CONSTRUCTION-PERMIT",
        50,
        "2026-03-02T09:00:00+08:00",
    ),
]


def map_parallelism(history: list[dict[str, Any]]) -> list[int]:
    """For each Map state run: how many iterations had started before the first one finished."""
    runs: list[int] = []
    started = finished = 0
    inside = False
    for event in history:
        kind = event["type"]
        if kind == "MapStateEntered":
            inside, started, finished = True, 0, 0
        elif inside and kind == "MapIterationStarted":
            started += 1 if finished == 0 else 0
        elif inside and kind == "MapIterationSucceeded":
            finished += 1
        elif inside and kind == "MapStateExited":
            runs.append(started)
            inside = False
    return runs


@pytest.mark.parametrize(("sample", "matter_code", "promised", "at"), FLOWS, ids=[f[1] for f in FLOWS])
def test_each_flow_runs_its_stages_in_order_each_in_parallel_within_its_limit(
    runtime: LocalRuntime, sample: str, matter_code: str, promised: int, at: str
) -> None:
    clock.set(datetime.fromisoformat(at))
    matter = next(m for m in read_catalog(runtime_catalog()) if m.code == matter_code)
    detail = application(sample, submitted_at=at)
    register_seller_title(runtime, detail)
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)

    assert PartnerSimulator(runtime).run_until_closed(case_id, timeout_seconds=120) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.status is CaseStatus.COMPLETED
    assert case.promised_limit == promised
    assert case.working_days_used is not None
    assert case.working_days_used <= promised
    skipped = {e.detail.split(":")[0] for e in cases.timeline(case_id) if e.event == "evaluation skipped"}
    region = detail["region_code"]
    expected_stages = [
        [d.code for d in stage.departments if d.code not in skipped]
        if matter.stage_applies(i, region)
        else []
        for i, stage in enumerate(matter.stages)
    ]
    reviews = sorted(
        (t for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW),
        key=lambda t: (t.created_at, t.task_id),
    )
    by_stage: dict[int, list[str]] = {}
    for task in reviews:
        by_stage.setdefault(task.stage or 0, []).append(str(task.details["department"]))
    assert [sorted(by_stage.get(i, [])) for i in range(len(matter.stages))] == [
        sorted(s) for s in expected_stages
    ]
    # stages strictly in catalog order: no task of a stage before every task of the one before it
    stage_order = [task.stage or 0 for task in reviews]
    assert stage_order == sorted(stage_order)
    # within a stage every department's task was out before any answer came back
    parallel = map_parallelism(runtime.history(case_id))
    assert parallel == [len(s) for s in expected_stages if s]


def runtime_catalog() -> list[Any]:
    from infra.local.runtime import CATALOG_DIR

    return list(CATALOG_DIR.glob("*.yaml"))


def test_the_construction_project_in_an_assessed_zone_skips_the_covered_evaluations(
    runtime: LocalRuntime,
) -> None:
    clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    detail = application(
        "application_submitted.industrial_construction_permit", submitted_at=clock.now().isoformat()
    )
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    assert (
        PartnerSimulator(runtime).run_until_closed(detail["application_id"], timeout_seconds=120)
        == "SUCCEEDED"
    )

    skipped = [e.detail for e in cases.timeline(detail["application_id"]) if e.event == "evaluation skipped"]
    assert sorted(s.split(":")[0] for s in skipped) == ["HB", "YJ"]
    assert all("江宁经济技术开发区区域评估" in s and "valid until 2028-06-01" in s for s in skipped)
    departments = {
        t.details["department"] for t in cases.tasks(detail["application_id"]) if t.kind is TaskKind.REVIEW
    }
    assert "HB" not in departments
    assert "FGW-ENERGY" in departments


def test_three_defects_are_named_in_one_notice(runtime: LocalRuntime, outbound: OutboundEvents) -> None:
    detail = without_material(without_material(application(), "PREMISES_PROOF"), "ARTICLES_OF_ASSOCIATION")
    detail["materials"][0]["document_ref"] = "scan-of-the-form.jpg"
    case_id = detail["application_id"]
    fixed = [
        {"code": "PREMISES_PROOF", "document_ref": document("premises.pdf")},
        {"code": "ARTICLES_OF_ASSOCIATION", "document_ref": document("articles.pdf")},
        {"code": "ESTABLISHMENT_FORM", "document_ref": document("form.pdf")},
    ]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)

    assert (
        PartnerSimulator(runtime, Script(correct=lambda event: fixed)).run_until_closed(case_id)
        == "SUCCEEDED"
    )

    notices = outbound.of("CorrectionRequested", case_id=case_id)
    assert len(notices) == 1
    assert sorted(notices[0]["items"]) == sorted(
        [
            "公司设立登记申请书: document cannot be verified",
            "公司章程: not submitted",
            "住所（经营场所）使用证明: not submitted",
        ]
    )
    assert cases.get_case(case_id).correction_round == 1


def test_a_held_business_licence_is_reused_not_asked_for(
    runtime: LocalRuntime, outbound: OutboundEvents
) -> None:
    clock.set(datetime.fromisoformat("2026-03-02T09:00:00+08:00"))
    detail = without_material(
        application(
            "application_submitted.industrial_construction_permit", submitted_at=clock.now().isoformat()
        ),
        "BUSINESS_LICENCE",
    )
    licence = Certificate(
        identifier="1.2.156.3005.2.11100000MB0143028R001.11320100MB0C005112.00000901.001.K",
        kind="BUSINESS_LICENCE",
        name="营业执照",
        holder_id=detail["applicant"]["credit_code"],
        holder_name=detail["applicant"]["name"],
        issuer_code="11320100MB0C005112",
        issuer_name="南京市市场监督管理局",
        case_id="EARLIER-CASE",
        case_number="32011520250000042",
        issued_at=datetime.fromisoformat("2025-06-01T10:00:00+08:00"),
        signing_key_id="earlier-key",
        signature="c2lnbmF0dXJl",
    )
    with runtime.exclusive():
        certificate_item(licence).save()
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)

    assert (
        PartnerSimulator(runtime).run_until_closed(detail["application_id"], timeout_seconds=120)
        == "SUCCEEDED"
    )

    assert outbound.of("CorrectionRequested", case_id=detail["application_id"]) == []
    case = cases.get_case(detail["application_id"])
    assert case.reused_certificates == {"BUSINESS_LICENCE": licence.identifier}
    reused = [e.detail for e in cases.timeline(detail["application_id"]) if e.event == "certificates reused"]
    assert reused == [f"BUSINESS_LICENCE <- {licence.identifier}"]
