"""The 3550 report rolls districts up into cities and cities into the province, for the catalog's
flagship matters, and `zerovisit report 3550` writes it as CSV and PNG."""

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog_files
from zerovisit.cli import main
from zerovisit.domain.application import parse_application
from zerovisit.domain.case import Case
from zerovisit.domain.model import CaseStatus, TimelineEntry
from zerovisit.observability import cold_start
from zerovisit.services.report import report_3550
from zerovisit.storage import cases
from zerovisit.storage.catalog import put_divisions, put_matters

from tests.support import application
from tests.unit.test_cli import CATALOG_FILES, catalog_and_cases_tables, catalog_table, environment

__all__ = ["catalog_and_cases_tables", "catalog_table", "environment"]  # fixtures used here
CLOSED_AT = datetime.fromisoformat("2026-03-02T15:00:00+08:00")
FIRST, LAST = CLOSED_AT.date() - timedelta(days=30), CLOSED_AT.date()
FLAGSHIP = ["BUSINESS-STARTUP", "REAL-ESTATE-TRANSFER", "INDUSTRIAL-CONSTRUCTION-PERMIT"]


@pytest.fixture
def catalog(catalog_and_cases_tables: None) -> None:
    cold_start()  # binds the tables the environment names
    matters, divisions = read_catalog_files(CATALOG_FILES)
    put_matters(matters)
    put_divisions(divisions)


def closed(region_code: str, working_days: int, status: CaseStatus = CaseStatus.COMPLETED) -> None:
    detail = application(region_code=region_code)
    case = Case(
        case_id=detail["application_id"],
        application=parse_application(detail),
        status=status,
        closed_at=CLOSED_AT,
        working_days_used=working_days,
    )
    assert cases.create_case(case, TimelineEntry(at=CLOSED_AT, step="completion", event="closed"))


def startup(report: dict[str, Any], region: str | None = None) -> dict[str, Any]:
    rows = report["matters"] if region is None else report["regions"]
    return next(
        r
        for r in rows
        if r["matter_code"] == "BUSINESS-STARTUP" and (region is None or r["region_code"] == region)
    )


def test_district_cases_count_for_their_city_and_the_province(catalog: None) -> None:
    closed("320102", 2)
    closed("320115", 4)
    closed("321002", 2)  # Yangzhou promises 2
    closed("321002", 3)
    closed("320104", 1, CaseStatus.REJECTED)

    district = report_3550("320102", FIRST, LAST)
    city = report_3550("320100", FIRST, LAST)
    province = report_3550("320000", FIRST, LAST)

    assert [m["matter_code"] for m in province["matters"]] == FLAGSHIP
    assert (startup(district)["completed"], startup(district)["mean_working_days"]) == (1, 2)
    assert district["regions"] == []
    assert startup(city)["completed"] == 2
    assert startup(city)["closed_without_result"] == 1
    assert startup(city)["mean_working_days"] == 3
    assert startup(city)["within_target"] == 1
    assert [r["region_code"] for r in city["regions"] if r["matter_code"] == "BUSINESS-STARTUP"][:3] == [
        "320102",
        "320104",
        "320105",
    ]
    assert startup(province)["completed"] == 4
    assert startup(province)["within_target"] == 2  # 320102 in 2 of 3, 321002 in 2 of 2
    assert startup(province, "321000")["target_working_days"] == 2
    assert startup(province, "321000")["mean_working_days"] == 2.5
    assert len(province["regions"]) == 13 * len(FLAGSHIP)
    assert (province["region_name"], city["region_name"]) == ("江苏省", "南京市")


def test_the_cli_writes_the_csv_and_the_png(
    catalog: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    closed("320102", 2)
    closed("321002", 3)

    code = main(
        [
            "report",
            "3550",
            "--region",
            "320000",
            "--from",
            str(FIRST),
            "--to",
            str(LAST),
            "--out",
            str(tmp_path),
        ]
    )

    out = capsys.readouterr().out
    assert code == 0
    stem = tmp_path / f"3550-320000-{FIRST}-{LAST}"
    rows = list(csv.DictReader(io.StringIO(stem.with_suffix(".csv").read_text(encoding="utf-8"))))
    totals = [r for r in rows if r["scope"] == "total"]
    assert [r["matter_code"] for r in totals] == FLAGSHIP
    assert (totals[0]["completed"], totals[0]["mean_working_days"]) == ("2", "2.5")
    yangzhou = next(r for r in rows if r["region_code"] == "321000" and r["matter_code"] == FLAGSHIP[0])
    assert (yangzhou["target_working_days"], yangzhou["within_target"]) == ("2", "0")
    png = stem.with_suffix(".png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert int.from_bytes(png[16:20], "big") > 700  # wide enough for the province and 13 cities
    assert "BUSINESS-STARTUP" in out
    assert f"wrote {stem}.csv and {stem}.png" in out


def test_a_bad_region_and_range_are_refused_at_once(
    catalog: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "3550", "--region", "32", "--from", "2026-03-01", "--to", "2026-02-01"])

    err = capsys.readouterr().err
    assert code == 1
    assert "error: region: a 6-digit region code" in err
    assert "error: to: before from" in err


def test_the_cli_says_one_working_day_and_two_working_days(
    catalog: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    closed("320102", 1)
    args = ["report", "3550", "--from", str(FIRST), "--to", str(LAST), "--out", str(tmp_path)]

    assert main([*args, "--region", "320102"]) == 0
    assert "mean 1 working day (target 3)" in capsys.readouterr().out
    closed("320102", 3)
    assert main([*args, "--region", "320102"]) == 0
    assert "mean 2 working days (target 3)" in capsys.readouterr().out
