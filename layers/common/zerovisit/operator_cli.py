"""Operator commands: one case in full, lists of cases, the cases that stopped moving, and the
revocation of a certificate.

zerovisit case show CASE_ID --stack zerovisit-prod
zerovisit cases list --applicant 360426199101010071 --stack zerovisit-prod
zerovisit cases list --region 320102 --overdue --stack zerovisit-prod
zerovisit cases stuck --older-than 2d --stack zerovisit-prod
zerovisit cases tasks --partner dept-scjg --stack zerovisit-prod
zerovisit certificate revoke 1.2.156.3005.2.... --reason "issued in error" --stack zerovisit-prod

Tables and the rest come from the stack's Outputs (--stack NAME; the local runtime's stack is
zerovisit-local), or else from the functions' environment variables (CASES_TABLE, ...).
"""

import argparse
import os
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from zerovisit.clock import CHINA
from zerovisit.domain.model import CaseStep
from zerovisit.errors import ConfigurationError, InvalidInput
from zerovisit.wording import counted

# Stack output -> the environment variable the functions (and zerovisit.config) read it from.
OUTPUT_ENVIRONMENT = {
    "CasesTableName": "CASES_TABLE",
    "CatalogTableName": "CATALOG_TABLE",
    "CertificatesTableName": "CERTIFICATES_TABLE",
    "CaseEventBusName": "EVENT_BUS_NAME",
    "CertificateSigningKeyId": "CERTIFICATE_KEY_ID",
    "PartnerSecretPrefix": "PARTNER_SECRET_PREFIX",
    "CaseStateMachineArn": "STATE_MACHINE_ARN",
}
DURATION = re.compile(r"^(\d+)([dhm])$")
UNITS = {"d": "days", "h": "hours", "m": "minutes"}
Command = Callable[[argparse.Namespace], int]


def add_stack_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stack", help="read table names and the rest from this CloudFormation stack's Outputs"
    )


def use_stack(name: str | None) -> None:
    """Point every command at the stack's resources, as its functions' environment would."""
    if not name:
        return
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from zerovisit.config import settings

    try:
        stack = boto3.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    except (BotoCoreError, ClientError) as e:
        raise ConfigurationError(f"cannot read the outputs of stack {name}: {e}") from e
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    missing = sorted(set(OUTPUT_ENVIRONMENT) - set(outputs))
    if missing:
        raise ConfigurationError(f"stack {name} lacks the outputs {', '.join(missing)}")
    for output, variable in OUTPUT_ENVIRONMENT.items():
        os.environ[variable] = outputs[output]
    settings.cache_clear()


def duration(text: str) -> timedelta:
    match = DURATION.fullmatch(text)
    if match is None:
        raise argparse.ArgumentTypeError("a number and d, h or m, e.g. 2d, 36h")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


def _days(span: timedelta) -> str:
    days = span / timedelta(days=1)
    return f"{days:g} day{'' if days == 1 else 's'}"


def add_operator_commands(commands: Any) -> None:
    """The `case` and `cases` commands, on the main parser's subcommands."""
    case = commands.add_parser(
        "case",
        help="one case: show its timeline, deadlines and open tasks; resume it once failed, or refuse it"
        " when it cannot succeed",
    )
    case.add_argument("action", choices=["show", "resume", "refuse"])
    case.add_argument("case_id")
    case.add_argument("--reason", help="refuse: why the case cannot be approved (the applicant is told)")
    add_stack_option(case)
    case.set_defaults(run=_case)

    cases = commands.add_parser(
        "cases", help="lists of cases (as GET /cases), a partner's open tasks, and the stuck cases"
    )
    actions = cases.add_subparsers(dest="cases_action", required=True)
    listing = actions.add_parser("list", help="cases by applicant, status, step, region or due date")
    listing.add_argument("--applicant", help="identity number or unified social credit code")
    listing.add_argument("--status")
    listing.add_argument("--step")
    open_only = "; without --applicant, --status or --step, open cases only"
    listing.add_argument("--region", help="six-digit division code" + open_only)
    listing.add_argument("--due-from", type=date.fromisoformat, help="YYYY-MM-DD, promised due" + open_only)
    listing.add_argument("--due-to", type=date.fromisoformat, help="YYYY-MM-DD, promised due" + open_only)
    listing.add_argument("--overdue", action="store_true", help="only the overdue ones")
    listing.add_argument("--limit", type=int, default=25)
    listing.add_argument("--cursor", help="the next_cursor a previous page printed")
    add_stack_option(listing)
    listing.set_defaults(run=_cases_list)
    stuck = actions.add_parser("stuck", help="open cases whose step has not moved for a while")
    stuck.add_argument("--older-than", type=duration, required=True, help="e.g. 2d, 36h")
    stuck.add_argument("--limit", type=int, default=100)
    add_stack_option(stuck)
    stuck.set_defaults(run=_cases_stuck)
    tasks = actions.add_parser("tasks", help="a partner's open tasks, soonest due first (as GET /tasks)")
    tasks.add_argument("--partner", required=True, help="the partner's id, e.g. dept-scjg, ems")
    tasks.add_argument("--limit", type=int, default=25)
    tasks.add_argument("--cursor", help="the next_cursor a previous page printed")
    add_stack_option(tasks)
    tasks.set_defaults(run=_cases_tasks)

    certificate = commands.add_parser("certificate", help="revoke a certificate, with a reason")
    certificate.add_argument("action", choices=["revoke"])
    certificate.add_argument("identifier", help="the certificate's identifier, 1.2.156.3005.2....")
    certificate.add_argument(
        "--reason", required=True, help="why: shown to anyone who verifies it, so no personal data"
    )
    add_stack_option(certificate)
    certificate.set_defaults(run=_certificate_revoke)


def _prepare() -> None:
    from zerovisit.observability import cold_start

    cold_start()


def _local(moment: str | None) -> str:
    if not moment:
        return "-"
    return datetime.fromisoformat(moment).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _case(args: argparse.Namespace) -> int:
    actions = {"resume": _case_resume, "refuse": _case_refuse, "show": _case_show}
    return actions[args.action](args)


def _case_refuse(args: argparse.Namespace) -> int:
    """Close a failed case that cannot succeed as rejected, with the reason the applicant is told."""
    if not args.reason:
        raise InvalidInput(["--reason: say why the case cannot be approved"])
    _prepare()
    from zerovisit.services import recovery

    refused = recovery.refuse(args.case_id, args.reason, "operator")
    print(f"case {args.case_id} {refused['status']}: {args.reason.strip()}")
    return 0


def _case_resume(args: argparse.Namespace) -> int:
    """Continue a failed case from the step it failed at, once its cause is fixed."""
    _prepare()
    from zerovisit.services import recovery

    resumed = recovery.resume(args.case_id, "operator")
    print(f"case {args.case_id} resumed at {resumed['step']} ({resumed['status']})")
    print(f"execution {resumed['execution_arn']}")
    return 0


def _case_show(args: argparse.Namespace) -> int:
    _prepare()
    from zerovisit.domain.model import TaskStatus
    from zerovisit.services.queries import operator_view
    from zerovisit.services.search import step_since
    from zerovisit.storage import cases

    view = operator_view(args.case_id).model_dump(mode="json")
    timeline = cases.timeline(args.case_id)
    since = step_since(timeline)
    print(f"case {view['case_id']}  number {view['case_number'] or '-'}  matter {view['matter_code']}")
    print(
        f"  status {view['status']}, step {view['step']} since {_local(since.isoformat() if since else None)}"
    )
    print(
        f"  promised due {view['promised_due'] or '-'} ({view['promised_limit'] or '-'} working days), "
        f"statutory due {view['statutory_due'] or '-'} ({view['statutory_limit'] or '-'})"
        + (" provisional" if view["deadline_provisional"] else "")
    )
    used, remaining = view["working_days_used"], view["working_days_remaining"]
    alarms = ", ".join(view["alarms_raised"]) or "none"
    print(
        f"  working days used {_or_dash(used)}, remaining {_or_dash(remaining)}; "
        f"suspended: {'yes' if view['suspended'] else 'no'}; alarms: {alarms}"
    )
    if view["failure"]:
        failure = view["failure"]
        print(f"  FAILED at {failure['step']}: {failure['error']}: {failure['cause']}")
    print("timeline")
    for entry in timeline:
        detail = f"  {entry.detail}" if entry.detail else ""
        at = _local(entry.at.isoformat())
        print(f"  {at}  {entry.step:<{STEP_WIDTH}} {entry.event:<24} {entry.actor}{detail}")
    open_tasks = [t for t in cases.tasks(args.case_id) if t.status is TaskStatus.OPEN]
    print(f"open tasks ({len(open_tasks)})")
    for task in open_tasks:
        due = task.due_on.isoformat() if task.due_on else "-"
        kind = task.kind.value
        print(f"  {task.task_id:<28} {kind:<10} {task.partner:<18} due {due}  escalations {task.escalations}")
    return 0


STEP_WIDTH = max(len(step.value) for step in CaseStep)
CASE_COLUMNS = (
    ("case", "case_id", 24),
    ("number", "case_number", 20),
    ("matter", "matter_code", 32),
    ("region", "region_code", 7),
    ("status", "status", 18),
    ("step", "step", STEP_WIDTH),
    ("due", "promised_due", 11),
    ("overdue", "overdue", 8),
)


def _or_dash(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _print_table(columns: tuple[tuple[str, str, int], ...], rows: list[dict[str, Any]]) -> None:
    print(" ".join(f"{title:<{width}}" for title, _, width in columns).rstrip())
    for row in rows:
        print(" ".join(f"{_or_dash(row[key]):<{width}}" for _, key, width in columns).rstrip())


def _print_cases(rows: list[dict[str, Any]], extra: tuple[str, str, int] | None = None) -> None:
    _print_table(CASE_COLUMNS + ((extra,) if extra else ()), rows)


def _cases_list(args: argparse.Namespace) -> int:
    _prepare()
    from zerovisit.services.search import CaseFilter, list_cases

    wanted = CaseFilter(
        applicant=args.applicant,
        status=args.status,
        step=args.step,
        region=args.region,
        due_from=args.due_from,
        due_to=args.due_to,
        overdue=True if args.overdue else None,
    )
    page = list_cases(wanted, args.cursor, args.limit)
    _print_cases(page["cases"])
    if page["next_cursor"]:
        print(f"more: --cursor {page['next_cursor']}")
    return 0


def _cases_stuck(args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise InvalidInput(["--limit: at least 1"])
    _prepare()
    from zerovisit.services.search import stuck_cases

    rows = stuck_cases(args.older_than, args.limit)
    _print_cases(rows, ("since", "step_since", 22))
    print(f"{counted(len(rows), 'case')} whose step has not moved for {_days(args.older_than)} or more")
    return 0


TASK_COLUMNS = (
    ("task", "task_id", 28),
    ("kind", "kind", 10),
    ("department", "department", 12),
    ("case", "case_id", 24),
    ("due", "due_on", 11),
    ("escalations", "escalations", 11),
)


def _cases_tasks(args: argparse.Namespace) -> int:
    _prepare()
    from zerovisit.services.search import open_tasks

    page = open_tasks(args.partner, args.cursor, args.limit)
    _print_table(TASK_COLUMNS, page["tasks"])
    print(f"{counted(len(page['tasks']), 'open task')} of {args.partner} on this page")
    if page["next_cursor"]:
        print(f"more: --cursor {page['next_cursor']}")
    return 0


def _certificate_revoke(args: argparse.Namespace) -> int:
    """Idempotent: a certificate already revoked keeps its first reason and time."""
    _prepare()
    from zerovisit.services.revocation import revoke

    revoked = revoke(args.identifier, args.reason, "operator")
    state = "revoked" if revoked.revoked_now else "was already revoked"
    print(f"certificate {revoked.identifier} {state} at {_local(revoked.revoked_at.isoformat())}")
    print(f"reason: {revoked.reason}")
    return 0
