"""`make run` with each kind of sample: a clear outcome, exit 0 when the case ended as designed."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pipeline
ROOT = Path(__file__).resolve().parents[2]


def make_run(sample: str) -> subprocess.CompletedProcess[str]:
    """A separate process: the run starts its own local stack."""
    path = os.pathsep.join([str(ROOT / "layers" / "common"), str(ROOT)])
    return subprocess.run(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", "infra.local.run", "--event", f"events/application_submitted.{sample}.json"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_an_invalid_sample_is_refused_at_once_with_every_problem() -> None:
    run = make_run("real_estate_transfer.invalid")

    assert run.returncode == 0, run.stdout + run.stderr
    assert "Refused at once (HTTP 422), nothing was opened; 5 problems:" in run.stdout
    assert "  - transfer.seller_title: must start with '1.2.156.3005.2.'" in run.stdout
    assert "Refused as designed for an invalid sample." in run.stdout
    assert "Traceback" not in run.stdout + run.stderr


def test_the_paperless_industrial_permit_completes_without_ems_and_exits_0() -> None:
    run = make_run("industrial_construction_permit")

    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert "electronic only, nothing to send by EMS" in run.stdout
    assert "EMS None" not in run.stdout
    assert "Completed as designed." in lines
    assert not [line for line in lines if line.lstrip().startswith("{")]  # no log lines in the timeline
    requested = [
        line.split("stage 5: ")[1].split(",")[0]
        for line in lines
        if "review requested" in line and "stage 5" in line
    ]
    assert requested == ["住房和城乡建设局（合同备案）", "建设工程质量安全监督站"]
    # 江宁区 inspects the site, as its own step after stage 5, before the permit
    inspection = next(i for i, line in enumerate(lines) if "stage 6 on-site inspection: " in line)
    assert "住房和城乡建设局（现场勘查）" in lines[inspection]
    assert "by 张建国, 李敏" in lines[inspection + 1]
    assert inspection < next(i for i, line in enumerate(lines) if "certificate issued" in line)
    assert "1 working days" not in run.stdout


def test_the_business_start_up_shows_seal_tax_and_bank_after_the_licence_in_catalog_order() -> None:
    run = make_run("business_startup")

    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    licence = next(i for i, line in enumerate(lines) if "certificate issued" in line)
    requested = [
        (i, line.split("stage 2 after issuance: ")[1].split(",")[0])
        for i, line in enumerate(lines)
        if "service requested" in line
    ]
    assert [name for _, name in requested] == [
        "公安局（印章刻制备案）",
        "税务局（发票申领）",
        "开户银行（银行开户）",
    ]
    assert all(i > licence for i, _ in requested)
    assert len([line for line in lines if "service completed" in line]) == 3
    assert "Completed as designed." in lines


def test_the_transfer_revokes_the_sellers_old_title_and_exits_0() -> None:
    run = make_run("real_estate_transfer")

    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    old = "1.2.156.3005.2.11100000MB0143028R002.11320100MB0C00773R.00000007.001.S"  # the sample's
    registered = next(i for i, line in enumerate(lines) if line.startswith("Registry: "))
    assert f"the seller holds title {old}" in lines[registered]
    assert registered < next(i for i, line in enumerate(lines) if line.startswith("Submitting "))
    [payment] = [line for line in lines if "payment requested" in line]
    assert "契税（1%） 28500.00 yuan + 不动产登记费（住宅） 80.00 yuan = 28580.00 yuan" in payment
    issued = next(i for i, line in enumerate(lines) if "certificate issued" in line)
    assert "certificate revoked" in lines[issued + 1]
    assert f"{old}: ownership transferred (转移登记)" in lines[issued + 1]
    assert (
        f"  seller's old title {old} now verifies as revoked (GET /certificates/{{id}}/verify)" in run.stdout
    )
    assert "Completed as designed." in lines
