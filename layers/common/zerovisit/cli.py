"""The `zerovisit` command: deadlines, and the operator's loads of catalog and holiday schedules.

zerovisit deadline --from 2026-09-30 --working-days 5
zerovisit catalog check infra/catalog/*.yaml
zerovisit catalog load infra/catalog/*.yaml --stack zerovisit-prod
zerovisit calendar load schedule-2027.yaml --stack zerovisit-prod
zerovisit report 3550 --region 320000 --from 2026-01-01 --to 2026-12-31 --out reports/
(and the operator commands: zerovisit case --help, zerovisit cases --help, zerovisit certificate --help)
zerovisit partner add|rotate|remove dept-new --stack zerovisit-prod  (see zerovisit.partner_cli)
"""

import argparse
import sys
from datetime import date
from pathlib import Path

import yaml

from zerovisit import partner_cli
from zerovisit.catalog_files import read_catalog_files
from zerovisit.domain.workdays import add_working_days
from zerovisit.errors import InvalidInput, ZeroVisitError
from zerovisit.operator_cli import add_operator_commands, add_stack_option, use_stack
from zerovisit.wording import counted


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
    add_stack_option(catalog)

    calendar = commands.add_parser("calendar", help="load a year's official holiday schedule")
    calendar.add_argument("action", choices=["load"])
    calendar.add_argument("file", type=Path, help="YAML: year, holidays (dates), makeup_workdays (dates)")
    add_stack_option(calendar)
    add_operator_commands(commands)

    report = commands.add_parser("report", help="the 3550 report: a CSV table and a PNG chart")
    report.add_argument("kind", choices=["3550"])
    report.add_argument("--region", required=True, help="6-digit region code: a province, city or district")
    report.add_argument("--from", dest="first", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    report.add_argument("--to", dest="last", type=date.fromisoformat, required=True, help="YYYY-MM-DD")
    report.add_argument("--out", type=Path, default=Path("."), help="directory for the CSV and PNG files")

    partner_cli.register(commands)
    args = parser.parse_args(argv)
    try:
        use_stack(getattr(args, "stack", None))
        if args.command == "partner":
            return partner_cli.run(args)
        if hasattr(args, "run"):
            return int(args.run(args))
        if args.command == "deadline":
            return _deadline(args.start, args.working_days, args.explain)
        if args.command == "catalog":
            return _catalog(args.action, args.files)
        if args.command == "report":
            return _report(args.region, args.first, args.last, args.out)
        return _calendar(args.file)
    except InvalidInput as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        print(f"{counted(len(e.problems), 'problem')}; nothing was written", file=sys.stderr)
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
    matters, divisions = read_catalog_files(files)
    provinces = "".join(f"; divisions of {d.province} ({len(d.divisions)} codes)" for d in divisions)
    if action == "check":
        print(f"{counted(len(matters), 'matter')} valid: {', '.join(m.code for m in matters)}{provinces}")
        return 0
    from zerovisit.observability import cold_start
    from zerovisit.storage.catalog import put_divisions, put_matters

    cold_start()
    put_divisions(divisions)
    version = put_matters(matters)  # last: its version tells running functions to read again
    print(
        f"loaded {counted(len(matters), 'matter')}: {', '.join(m.code for m in matters)}{provinces};"
        f" catalog version {version}, which running functions follow within a minute"
    )
    return 0


def _report(region: str, first: date, last: date, out: Path) -> int:
    from zerovisit.observability import cold_start
    from zerovisit.services.report import report_3550
    from zerovisit.services.report_files import report_csv, report_png

    cold_start()
    report = report_3550(region, first, last)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / f"3550-{region}-{first}-{last}"
    csv_path, png_path = stem.with_suffix(".csv"), stem.with_suffix(".png")
    csv_path.write_text(report_csv(report), encoding="utf-8")
    png_path.write_bytes(report_png(report))
    print(f"3550 report for {report['region_name']} ({region}), cases closed {first} to {last}:")
    for row in report["matters"]:
        days = row["mean_working_days"]
        mean = "- working days" if days is None else f"{days:g} working day{'' if days == 1 else 's'}"
        print(
            f"  {row['matter_code']:<32} {row['completed']:>5} completed, mean {mean} "
            f"(target {row['target_working_days']}), {row['within_target']} within target"
        )
    print(f"wrote {csv_path} and {png_path}")
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
    print(
        f"loaded the {year} schedule; recomputed {counted(len(result['recomputed']), 'provisional deadline')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
