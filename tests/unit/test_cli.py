"""The `zerovisit` command: deadlines, catalog checks and loads, holiday schedule loads."""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from zerovisit import config
from zerovisit.cli import main
from zerovisit.domain.workdays import default_calendar
from zerovisit.storage import catalog, tables
from zerovisit.wording import counted

from infra.bench.sweeper import create_table
from tests.support import aws_of_its_own

ROOT = Path(__file__).resolve().parents[2]
TABLE_MODELS = (tables.CaseTableItem, tables.CatalogItem, tables.CertificateItem)
CATALOG_FILES = sorted((ROOT / "infra" / "catalog").glob("*.yaml"))  # three matters, the divisions
MATTERS = ["BUSINESS-STARTUP", "INDUSTRIAL-CONSTRUCTION-PERMIT", "REAL-ESTATE-TRANSFER"]
REGION = "us-east-1"
ENVIRONMENT = {
    "CASES_TABLE": "cli-cases",
    "CATALOG_TABLE": "cli-catalog",
    "CERTIFICATES_TABLE": "cli-certificates",
    "EVENT_BUS_NAME": "cli-bus",
    "CERTIFICATE_KEY_ID": "00000000-0000-0000-0000-000000000000",
    "PARTNER_SECRET_PREFIX": "cli/partners/",
    "AWS_DEFAULT_REGION": REGION,
}
SCHEDULE_2027: dict[str, Any] = {
    "year": 2027,
    "holidays": ["2027-01-01", *(f"2027-02-{day:02d}" for day in range(6, 13))],
    "makeup_workdays": ["2027-02-13"],  # a Saturday
}


# --- helpers ----------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_yaml(directory: Path, name: str, data: object) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def defective_matter() -> dict[str, Any]:
    """The business start-up entry with four defects."""
    data: dict[str, Any] = copy.deepcopy(
        yaml.safe_load((ROOT / "infra" / "catalog" / "business_startup.yaml").read_text(encoding="utf-8"))
    )
    data["code"] = "bad code"
    data["promised_working_days"] = 30  # above the statutory 3
    data["waits"]["max_shipments"] = 0
    data["materials"].append(copy.deepcopy(data["materials"][0]))  # a repeated material code
    return data


def catalog_codes() -> list[str]:
    client = boto3.client("dynamodb", region_name=REGION)
    items = client.scan(TableName=ENVIRONMENT["CATALOG_TABLE"])["Items"]
    return sorted(str(item["matter_code"]["S"]) for item in items)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The variables the CLI's cold start reads, and fresh settings before and after; the tables
    bound again after as they were (the CLI's cold start binds them to its own, and a local
    runtime started before binds only once)."""
    bound = {model: model.Meta.table_name for model in TABLE_MODELS}
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()
    for model, name in bound.items():
        model.Meta.table_name = name
        model._connection = None  # as bind_tables does: a new name needs a new connection


@pytest.fixture
def catalog_table(environment: None) -> Iterator[None]:
    with aws_of_its_own(REGION):
        create_table("CatalogTable", ENVIRONMENT["CATALOG_TABLE"], REGION)
        yield


@pytest.fixture
def catalog_and_cases_tables(catalog_table: None) -> Iterator[None]:
    create_table("CasesTable", ENVIRONMENT["CASES_TABLE"], REGION)
    yield
    default_calendar().forget_year(2027)


# --- deadline -------------------------------------------------------------------------------------


def test_deadline_counts_working_days_across_national_day(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "deadline", "--from", "2026-09-30", "--working-days", "5")

    assert code == 0
    assert out == "2026-10-13\n"
    assert err == ""


def test_deadline_counts_make_up_saturday_across_spring_festival(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "deadline", "--from", "2026-02-13", "--working-days", "3")

    assert code == 0
    assert out == "2026-02-25\n"


def test_deadline_into_a_year_without_schedule_is_provisional(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "deadline", "--from", "2026-12-28", "--working-days", "10")

    assert code == 0
    assert out == "2027-01-12\n"
    assert err.startswith("provisional: ")
    assert "no official schedule for 2027" in err


def test_a_negative_count_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "deadline", "--from", "2026-09-30", "--working-days", "-1")

    assert code == 1
    assert out == ""
    assert "error: --working-days: must not be negative" in err
    assert "nothing was written" in err


def test_a_malformed_date_is_refused_by_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["deadline", "--from", "2026-13-01", "--working-days", "5"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--from" in err
    assert "'2026-13-01'" in err


# --- catalog --------------------------------------------------------------------------------------


def test_catalog_check_of_the_committed_files_names_the_three_matters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert len(CATALOG_FILES) == 4
    code, out, err = run(capsys, "catalog", "check", *map(str, CATALOG_FILES))

    assert code == 0
    assert out.startswith("3 matters valid: ")
    assert out.endswith("; divisions of 320000 (109 codes)\n")
    assert all(matter in out for matter in MATTERS)
    assert err == ""


def test_catalog_check_names_every_problem_of_a_bad_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = write_yaml(tmp_path, "bad.yaml", defective_matter())

    code, out, err = run(capsys, "catalog", "check", str(bad))

    assert code == 1
    assert out == ""
    problems = [line for line in err.splitlines() if line.startswith("error: ")]
    assert all(line.startswith("error: bad.yaml: ") for line in problems)
    for field in (
        "code",
        "waits.max_shipments",
        "promised_working_days: exceeds statutory.working_days",
        "materials",
    ):
        assert any(line.startswith(f"error: bad.yaml: {field}") for line in problems), field
    assert len(problems) >= 4
    assert err.splitlines()[-1] == f"{len(problems)} problems; nothing was written"


def test_catalog_check_of_a_missing_file_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, "catalog", "check", str(tmp_path / "absent.yaml"))

    assert code == 1
    assert "absent.yaml: no such file" in err


def test_catalog_load_with_a_bad_file_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_table: None
) -> None:
    bad = write_yaml(tmp_path, "bad.yaml", defective_matter())

    code, out, err = run(capsys, "catalog", "load", str(bad), str(CATALOG_FILES[0]))

    assert code == 1
    assert out == ""
    assert "error: bad.yaml: " in err
    assert "nothing was written" in err
    assert catalog_codes() == []


def test_catalog_load_of_good_files_writes_the_three_matters(
    capsys: pytest.CaptureFixture[str], catalog_table: None
) -> None:
    code, out, err = run(capsys, "catalog", "load", *map(str, CATALOG_FILES))

    assert code == 0
    assert out.startswith("loaded 3 matters: ")
    assert f"catalog version {catalog.stored_version()}," in out
    assert err == ""
    assert catalog_codes() == sorted(["CATALOG#VERSION", "DIVISIONS#320000", "MATTERS#ALL", *MATTERS])


# --- calendar -------------------------------------------------------------------------------------


def test_calendar_load_makes_the_year_official(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_and_cases_tables: None
) -> None:
    schedule = write_yaml(tmp_path, "schedule-2027.yaml", SCHEDULE_2027)

    code, out, err = run(capsys, "calendar", "load", str(schedule))

    assert code == 0
    assert out == "loaded the 2027 schedule; recomputed 0 provisional deadlines\n"
    assert err == ""
    assert catalog_codes() == ["CALENDAR#2027"]
    # Spring Festival as loaded, then the make-up Saturday; no longer provisional.
    code, out, err = run(capsys, "deadline", "--from", "2027-02-05", "--working-days", "1")
    assert (code, out, err) == (0, "2027-02-13\n", "")


def test_calendar_load_refuses_a_weekday_make_up_day(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_and_cases_tables: None
) -> None:
    schedule = write_yaml(
        tmp_path, "schedule-2027.yaml", {**SCHEDULE_2027, "makeup_workdays": ["2027-02-15"]}
    )

    code, out, err = run(capsys, "calendar", "load", str(schedule))

    assert code == 1
    assert out == ""
    assert "make-up workday 2027-02-15 is not a Saturday or Sunday" in err
    assert "nothing was written" in err
    assert catalog_codes() == []
    assert not default_calendar().covers(2027)


def test_calendar_load_refuses_a_file_that_is_not_a_schedule(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_and_cases_tables: None
) -> None:
    schedule = write_yaml(tmp_path, "schedule-2027.yaml", {"holidays": ["2027-01-01"]})

    code, _, err = run(capsys, "calendar", "load", str(schedule))

    assert code == 1
    assert "schedule-2027.yaml: not a schedule file" in err
    assert "nothing was written" in err


def test_counts_read_as_plain_words() -> None:
    assert [counted(n, "problem") for n in (0, 1, 2)] == ["0 problems", "1 problem", "2 problems"]
    assert counted(1, "working day") == "1 working day"
    assert counted(3, "matter", "matters") == "3 matters"


def test_the_case_list_keeps_its_columns_for_the_longest_step(capsys: pytest.CaptureFixture[str]) -> None:
    from zerovisit.domain.model import CaseStep
    from zerovisit.operator_cli import CASE_COLUMNS, _print_cases

    longest = max((step.value for step in CaseStep), key=len)
    row = {key: "x" for _, key, _ in CASE_COLUMNS} | {"step": longest, "promised_due": "2026-02-25"}

    _print_cases([row])

    header, line = capsys.readouterr().out.splitlines()
    assert line.index("2026-02-25") == header.index("due")
    assert f"{longest} " in line


def test_refusing_a_case_without_a_reason_is_refused_before_anything_is_read(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["case", "refuse", "JS-320102-20260213-0001"]) == 1
    assert capsys.readouterr().err.splitlines() == [
        "error: --reason: say why the case cannot be approved",
        "1 problem; nothing was written",
    ]
