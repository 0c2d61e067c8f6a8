"""The `zerovisit` command: deadlines, and the operator's loads of catalog and holiday schedules.

zerovisit deadline --from 2026-09-30 --working-days 5
zerovisit catalog check infra/catalog/*.yaml
zerovisit catalog load infra/catalog/*.yaml          (tables from CATALOG_TABLE, CASES_TABLE, ...)
zerovisit calendar load schedule-2027.yaml
zerovisit partner add|rotate|remove dept-new       (see zerovisit.partner_cli)
"""

import argparse
import sys
from datetime import date
from pathlib import Path

import yaml

from zerovisit import partner_cli
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.workdays import add_working_days
from zerovisit.errors import InvalidInput, ZeroVisitError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="zerovisit", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    deadline = commands.add_parser("deadline", help="the n-th working day after a date")
    deadline.add_argument(
        "--from", dest="start", type=date.fromisoformat, required=True, help="YYYY-MM-DD, not counted"
    )
    deadline.add_argument("--working-days", type=int, required=True)
    deadline.add_argument("--explain", action="store_true", help="also print the calendar basis")

    catalog = commands.add_parser("catalog", help="check or load matter catalog files")
    catalog.add_argument("action", choices=["check", "load"])
    catalog.add_argument("files", nargs="+", type=Path)

    calendar = commands.add_parser("calendar", help="load a year's official holiday schedule")
    calendar.add_argument("action", choices=["load"])
    calendar.add_argument("file", type=Path, help="YAML: year, holidays (dates), makeup_workdays (dates)")

    partner_cli.register(commands)
    args = parser.parse_args(argv)
    try:
        if args.command == "partner":
            return partner_cli.run(args)
        if args.command == "deadline":
            return _deadline(args.start, args.working_days, args.explain)
        if args.command == "catalog":
            return _catalog(args.action, args.files)
        return _calendar(args.file)
    except InvalidInput as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{len(e.problems)} problem(s); nothing was written", file=sys.stderr)
        return 1
    except ZeroVisitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


def _deadline(start: date, working_days: int, explain: bool) -> int:
    if working_days < 0:
        raise InvalidInput(["--working-days: must not be negative"])
    result = add_working_days(start, working_days)
    print(result.due.isoformat())
    if explain or result.provisional:
        print(("provisional: " if result.provisional else "") + result.basis, file=sys.stderr)
    return 0


def _catalog(action: str, files: list[Path]) -> int:
    missing = [f"{path}: no such file" for path in files if not path.is_file()]
    if missing:
        raise InvalidInput(missing)
    matters = read_catalog(files)
    if action == "check":
        print(f"{len(matters)} matter(s) valid: {', '.join(m.code for m in matters)}")
        return 0
    from zerovisit.observability import cold_start
    from zerovisit.storage.catalog import put_matters

    cold_start()
    put_matters(matters)
    print(f"loaded {len(matters)} matter(s): {', '.join(m.code for m in matters)}")
    return 0


def _calendar(file: Path) -> int:
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
        year = int(data["year"])
        holidays = {date.fromisoformat(str(d)) for d in data.get("holidays") or []}
        makeup = {date.fromisoformat(str(d)) for d in data.get("makeup_workdays") or []}
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        raise InvalidInput([f"{file}: not a schedule file ({e})"]) from e
    from zerovisit.observability import cold_start
    from zerovisit.services.calendar import load_schedule

    cold_start()
    try:
        result = load_schedule(year, holidays, makeup)
    except ValueError as e:
        raise InvalidInput([str(e)]) from e
    print(f"loaded the {year} schedule; recomputed {len(result['recomputed'])} provisional deadline(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
