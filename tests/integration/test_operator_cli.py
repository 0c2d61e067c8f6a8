"""The operator's runbook on the local runtime: the `zerovisit` commands find the stack's tables from
its Outputs (--stack), load the catalog and a year's schedule, find a case by applicant, show it,
and find it stuck."""

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from zerovisit.cli import main
from zerovisit.clock import clock
from zerovisit.domain.workdays import default_calendar
from zerovisit.operator_cli import STEP_WIDTH
from zerovisit.storage import calendar
from zerovisit.storage.tables import CatalogItem

from infra.local.runtime import ROOT, LocalRuntime
from infra.local.stack import STACK_NAME
from tests.integration.test_certificate_verification import issued
from tests.integration.test_search import REGION, close, new_applicant, submit_waiting

STACK = ("--stack", STACK_NAME)
SCHEDULE_YEAR = 2028  # a year no other test loads
MORE = "more: --cursor "
EMF = '{"_aws":'  # a function's CloudWatch metric line
MAX_PAGES = 100
OTHER_REGION = "320105"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The command's exit code and what it printed: not what the local functions wrote before it,
    nor the metric lines of a function the state machine runs meanwhile in another thread."""
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    printed = "".join(line for line in captured.out.splitlines(keepends=True) if not line.startswith(EMF))
    return code, printed, captured.err


@pytest.fixture
def schedule_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / f"schedule-{SCHEDULE_YEAR}.yaml"
    schedule = {
        "year": SCHEDULE_YEAR,
        "holidays": [f"{SCHEDULE_YEAR}-01-01", *(f"{SCHEDULE_YEAR}-01-{day}" for day in range(26, 32))],
        "makeup_workdays": [f"{SCHEDULE_YEAR}-01-23"],  # a Sunday
    }
    path.write_text(yaml.safe_dump(schedule), encoding="utf-8")
    yield path
    CatalogItem(calendar.key(SCHEDULE_YEAR)).delete()
    default_calendar().forget_year(SCHEDULE_YEAR)


def test_the_runbook_on_the_local_runtime(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str], schedule_file: Path
) -> None:
    catalog_files = sorted(str(p) for p in (ROOT / "infra" / "catalog").glob("*.yaml"))
    code, out, _ = run(capsys, "catalog", "load", *catalog_files, *STACK)
    assert (code, out.split(":")[0]) == (0, "loaded 3 matters")
    code, out, _ = run(capsys, "calendar", "load", str(schedule_file), *STACK)
    assert (code, out) == (0, f"loaded the {SCHEDULE_YEAR} schedule; recomputed 0 provisional deadlines\n")

    applicant = new_applicant()
    (task,) = submit_waiting(runtime, applicant, 1)
    case_id = task["case_id"]
    try:
        code, out, _ = run(capsys, "cases", "list", "--applicant", applicant, *STACK)
        assert code == 0
        header, row = out.splitlines()
        assert header.split() == ["case", "number", "matter", "region", "status", "step", "due", "overdue"]
        assert row.split()[0] == case_id
        assert row.split()[4:6] == ["in_review", "review"]

        code, out, _ = run(capsys, "case", "show", case_id, *STACK)
        assert code == 0
        assert out.startswith(f"case {case_id}  number {task['case_number']}  matter BUSINESS-STARTUP\n")
        assert "  status in_review, step review since " in out
        assert "timeline\n" in out
        assert f"{'review':<{STEP_WIDTH}} review requested" in out  # steps padded to the longest
        assert f"open tasks (1)\n  {task['task_id']}" in out

        clock.advance(timedelta(days=3))
        code, out, _ = run(capsys, "cases", "stuck", "--older-than", "2d", *STACK)
        assert code == 0
        stuck = [line.split()[0] for line in out.splitlines()[1:-1]]
        assert case_id in stuck
        assert out.splitlines()[-1].endswith("whose step has not moved for 2 days or more")
        code, out, _ = run(capsys, "cases", "stuck", "--older-than", "30d", *STACK)
        assert case_id not in out
    finally:
        close(runtime, [task])


def paged(
    capsys: pytest.CaptureFixture[str], command: str, first_column: str, *argv: str
) -> list[list[list[str]]]:
    """`zerovisit cases <command>` page by page, following each page's cursor: each page's rows, split."""
    found: list[list[list[str]]] = []
    cursor: list[str] = []
    for _ in range(MAX_PAGES):
        code, out, err = run(capsys, "cases", command, *argv, *cursor, *STACK)
        assert (code, err) == (0, "")
        header, *lines = out.splitlines()
        assert header.split()[0] == first_column
        rows = [line for line in lines if not line.startswith(MORE) and not line.endswith(" on this page")]
        found.append([line.split() for line in rows])
        more = [line.removeprefix(MORE) for line in lines if line.startswith(MORE)]
        if not more:
            return found
        cursor = ["--cursor", *more]
    raise AssertionError(f"more than {MAX_PAGES} pages")


def listed_pages(capsys: pytest.CaptureFixture[str], *argv: str) -> list[list[list[str]]]:
    return paged(capsys, "list", "case", *argv)


def test_cases_list_by_status_and_region_follows_its_cursor_page_by_page(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    applicant = new_applicant()
    tasks = submit_waiting(runtime, applicant, 3)
    mine = {t["case_id"] for t in tasks}
    tasks += submit_waiting(runtime, applicant, 1, region=OTHER_REGION)
    try:
        found = listed_pages(capsys, "--status", "in_review", "--region", REGION, "--limit", "2")

        assert len(found) >= 2
        assert all(len(page) <= 2 for page in found)
        listed = [row[0] for page in found for row in page]
        assert len(listed) == len(set(listed))
        assert mine <= set(listed)
        assert tasks[-1]["case_id"] not in listed
        assert {(row[3], row[4]) for page in found for row in page} == {(REGION, "in_review")}

        first = listed_pages(capsys, "--applicant", applicant, "--limit", "1")
        assert [[row[0] for row in page] for page in first] == [[t["case_id"]] for t in reversed(tasks)]
        _, out, _ = run(capsys, "cases", "list", "--applicant", applicant, "--limit", "1", *STACK)
        cursor = out.splitlines()[-1].removeprefix(MORE)
        code, out, err = run(capsys, "cases", "list", "--status", "in_review", "--cursor", cursor, *STACK)
        assert (code, out) == (1, "")
        assert err.startswith("error: cursor: belongs to another query")
    finally:
        close(runtime, tasks)


def listed_tasks(capsys: pytest.CaptureFixture[str], partner: str, limit: int) -> list[list[str]]:
    """Each page's task ids."""
    pages = paged(capsys, "tasks", "task", "--partner", partner, "--limit", str(limit))
    return [[row[0] for row in page] for page in pages]


def test_an_operator_lists_a_partners_open_tasks_page_by_page(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    tasks = submit_waiting(runtime, new_applicant(), 3)
    mine = [t["task_id"] for t in tasks]
    try:
        pages = listed_tasks(capsys, "dept-scjg", 2)
        listed = [task_id for page in pages for task_id in page]
        assert all(len(page) <= 2 for page in pages)
        assert len(listed) == len(set(listed))
        assert set(mine) <= set(listed)
        assert not set(mine) & {t for page in listed_tasks(capsys, "ems", 25) for t in page}

        approve = {"decision": "approve"}
        assert runtime.signed_http("dept-scjg", "POST", f"/reviews/{mine[0]}/decision", approve).status == 200
        still_open = {t for page in listed_tasks(capsys, "dept-scjg", 25) for t in page}
        assert mine[0] not in still_open
        assert set(mine[1:]) <= still_open
    finally:
        close(runtime, tasks)


def test_an_unknown_stack_is_named_and_nothing_runs(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "cases", "stuck", "--older-than", "2d", "--stack", "no-such-stack")
    assert code == 1
    assert out == ""
    assert err.startswith("error: cannot read the outputs of stack no-such-stack")


def test_a_bad_duration_is_refused_by_the_parser(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["cases", "stuck", "--older-than", "two days"])
    assert exit_info.value.code == 2
    assert "a number and d, h or m" in capsys.readouterr().err


def test_an_operator_revokes_a_certificate_once_from_the_command_line(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    identifier = issued(runtime)

    with runtime.exclusive():
        first = run(capsys, "certificate", "revoke", identifier, "--reason", "issued in error", *STACK)
        again = run(capsys, "certificate", "revoke", identifier, "--reason", "another reason", *STACK)
        bad = run(capsys, "certificate", "revoke", "1.2.156.3005.2.X", "--reason", "x\ny", *STACK)
    runtime.drain()

    assert first[0] == 0
    assert first[1].startswith(f"certificate {identifier} revoked at ")
    assert first[1].endswith("reason: issued in error\n")
    assert again[0] == 0
    assert f"certificate {identifier} was already revoked at " in again[1]
    assert again[1].endswith("reason: issued in error\n")
    assert bad[0] == 1
    assert "error: identifier: must have 5 fields after the prefix, got 1" in bad[2]
    assert "error: reason: no control characters (line breaks included)" in bad[2]
    verified = runtime.http("GET", f"/certificates/{identifier}/verify")
    assert (verified.body["status"], verified.body["revoked_reason"]) == ("revoked", "issued in error")
