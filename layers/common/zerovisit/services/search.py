"""Lists of cases and tasks for the service network, departments, supervision and operators.

Each list is served by one index (storage/search.py), never a scan. The filters a caller gives
that the chosen index does not key on narrow its page, so a page may hold fewer than ``limit``
items; only a missing ``next_cursor`` means the end. A cursor is opaque to the caller and bound to
the query it came from.
"""

import base64
import binascii
import hashlib
import json
import re
from datetime import date, datetime, timedelta
from typing import Any, cast

from pydantic import ConfigDict, Field

from zerovisit.clock import CHINA, clock
from zerovisit.domain.base import Model
from zerovisit.domain.case import Case
from zerovisit.domain.model import CLOSED_STATUSES, CaseStatus, Task, TimelineEntry
from zerovisit.errors import InvalidInput
from zerovisit.storage import cases, search
from zerovisit.storage.search import BAD_CURSOR, CasePage, StartKey

DEFAULT_LIMIT = 25
MAX_KEY_ATTRIBUTES = 4  # table key (pk, sk) and an index's range key
MAX_LIMIT = 100
OPEN_STATUSES = tuple(s for s in CaseStatus if s not in CLOSED_STATUSES)
IDENTITY = re.compile(r"^[0-9A-Z]{18}$")  # an identity number or a unified social credit code
REGION = re.compile(r"^[0-9]{6}$")
STEP = re.compile(r"^[a-z_]{2,32}$")


class CaseFilter(Model):
    """What the service network (or an operator) asks for; at least one of the first five."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    applicant: str | None = None
    status: str | None = None
    step: str | None = None
    region: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    overdue: bool | None = None


def filter_problems(f: CaseFilter) -> list[str]:
    problems = []
    if f.applicant is not None and not IDENTITY.fullmatch(f.applicant):
        problems.append("applicant: an 18-character identity number or unified social credit code")
    if f.status is not None and f.status not in {s.value for s in CaseStatus}:
        problems.append(f"status: one of {', '.join(s.value for s in CaseStatus)}")
    if f.step is not None and not STEP.fullmatch(f.step):
        problems.append("step: a step name such as pre_review, review, payment, delivery")
    if f.region is not None and not REGION.fullmatch(f.region):
        problems.append("region: a six-digit administrative division code")
    if f.due_from and f.due_to and f.due_from > f.due_to:
        problems.append("due_from: must not be after due_to")
    if not any((f.applicant, f.status, f.step, f.region, f.due_from, f.due_to)):
        problems.append("give at least one of applicant, status, step, region, due_from, due_to")
    return problems


def check_limit(limit: int) -> list[str]:
    return [] if 1 <= limit <= MAX_LIMIT else [f"limit: from 1 to {MAX_LIMIT}"]


def _fingerprint(query: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_cursor(query: dict[str, Any], key: StartKey) -> str | None:
    if key is None:
        return None
    raw = json.dumps({"q": _fingerprint(query), "k": key}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: dict[str, Any], cursor: str | None) -> StartKey:
    if not cursor:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key, fingerprint = data["k"], data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError) as e:
        raise InvalidInput([BAD_CURSOR]) from e
    if fingerprint != _fingerprint(query):
        raise InvalidInput(["cursor: belongs to another query; start again without it"])
    if not _is_key(key):
        raise InvalidInput([BAD_CURSOR])
    return cast(dict[str, Any], key)


def _is_key(key: Any) -> bool:
    """A DynamoDB key as storage/search.py gives it out: a few names, each a non-empty string."""
    return (
        isinstance(key, dict)
        and 0 < len(key) <= MAX_KEY_ATTRIBUTES
        and all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) and v["S"]
            for v in key.values()
        )
    )


def is_overdue(case: Case, today: date) -> bool:
    return not case.is_closed and case.promised_due is not None and case.promised_due < today


class CaseSummary(Model):
    """A case in a list: no applicant, no personal data."""

    case_id: str
    case_number: str | None
    matter_code: str
    region_code: str
    status: str
    step: str
    submitted_at: str
    age_days: int
    promised_due: str | None
    statutory_due: str | None
    overdue: bool


class CaseListPage(Model):
    cases: list[CaseSummary]
    next_cursor: str | None = Field(description="pass back as cursor for the next page; none on the last")


class TaskSummary(Model):
    """A partner's task in its list: never the task token."""

    task_id: str
    case_id: str
    kind: str
    stage: int | None
    department: str | None
    created_at: str
    due_on: str | None
    escalations: int


class TaskListPage(Model):
    tasks: list[TaskSummary]
    next_cursor: str | None = Field(description="pass back as cursor for the next page; none on the last")


def summary(case: Case, today: date) -> dict[str, Any]:
    """What a list shows of a case: no applicant, no personal data."""
    return {
        "case_id": case.case_id,
        "case_number": case.case_number,
        "matter_code": case.application.matter_code,
        "region_code": case.application.region_code,
        "status": case.status.value,
        "step": case.step,
        "submitted_at": case.application.submitted_at.isoformat(),
        "age_days": (today - case.application.submitted_at.date()).days,
        "promised_due": case.promised_due.isoformat() if case.promised_due else None,
        "statutory_due": case.statutory_due.isoformat() if case.statutory_due else None,
        "overdue": is_overdue(case, today),
    }


def _matches(case: Case, f: CaseFilter, today: date) -> bool:
    application = case.application
    due = case.promised_due
    return (
        (f.status is None or case.status.value == f.status)
        and (f.step is None or case.step == f.step)
        and (f.region is None or application.region_code == f.region)
        and (f.due_from is None or (due is not None and due >= f.due_from))
        and (f.due_to is None or (due is not None and due <= f.due_to))
        and (f.overdue is None or is_overdue(case, today) == f.overdue)
    )


def _page_for(f: CaseFilter, limit: int, start: StartKey) -> CasePage:
    """The one index that serves the filter best: applicant, status, step, region, then due date."""
    if f.applicant is not None:
        return search.by_applicant(f.applicant, limit, start)
    if f.status is not None:
        return search.by_status(f.status, f.region, f.due_from, f.due_to, limit, start)
    if f.step is not None:
        return search.by_step(f.step, f.region, f.due_from, f.due_to, limit, start)
    if f.region is not None:
        return search.open_in_region(f.region, limit, start)
    return search.open_due_between(f.due_from, f.due_to, limit, start)


def list_cases(f: CaseFilter, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    problems = filter_problems(f) + check_limit(limit)
    if problems:
        raise InvalidInput(problems)
    query = {"cases": f.model_dump(mode="json"), "limit": limit}
    page = _page_for(f, limit, decode_cursor(query, cursor))
    today = clock.today()
    return {
        "cases": [summary(c, today) for c in page.cases if _matches(c, f, today)],
        "next_cursor": encode_cursor(query, page.next_key),
    }


def open_cases_of_region(
    region: str, overdue: bool | None = None, cursor: str | None = None, limit: int = DEFAULT_LIMIT
) -> dict[str, Any]:
    """Supervision's view: the region's open cases, oldest first, optionally only the overdue ones."""
    problems = [] if REGION.fullmatch(region) else ["region: a six-digit administrative division code"]
    problems += check_limit(limit)
    if problems:
        raise InvalidInput(problems)
    query = {"region": region, "overdue": overdue, "limit": limit}
    page = search.open_in_region(region, limit, decode_cursor(query, cursor))
    today = clock.today()
    return {
        "cases": [
            summary(c, today) for c in page.cases if overdue is None or is_overdue(c, today) == overdue
        ],
        "next_cursor": encode_cursor(query, page.next_key),
    }


def task_summary(task: Task) -> dict[str, Any]:
    """What a partner sees of its task: never the task token."""
    return {
        "task_id": task.task_id,
        "case_id": task.case_id,
        "kind": task.kind.value,
        "stage": task.stage,
        "department": task.details.get("department"),
        "created_at": task.created_at.isoformat(),
        "due_on": task.due_on.isoformat() if task.due_on else None,
        "escalations": task.escalations,
    }


def open_tasks(partner: str, cursor: str | None = None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
    """A partner's open tasks, soonest due first."""
    if problems := check_limit(limit):
        raise InvalidInput(problems)
    query = {"tasks": partner, "limit": limit}
    page = search.open_tasks(partner, limit, decode_cursor(query, cursor))
    return {
        "tasks": [task_summary(t) for t in page.tasks],
        "next_cursor": encode_cursor(query, page.next_key),
    }


def step_since(timeline: list[TimelineEntry]) -> datetime | None:
    """When the case entered the step of its latest timeline entry."""
    if not timeline:
        return None
    since = timeline[-1]
    for entry in reversed(timeline):
        if entry.step != since.step:
            break
        since = entry
    return since.at


def stuck_cases(older_than: timedelta, limit: int = MAX_LIMIT) -> list[dict[str, Any]]:
    """Open cases whose step has not moved for ``older_than``, longest first: every open status
    through the CasesByStatus index, then each candidate's timeline."""
    now = clock.now()
    today = clock.today()
    found = []
    for status in OPEN_STATUSES:
        start: StartKey = None
        while True:
            page = search.by_status(status.value, None, None, None, MAX_LIMIT, start)
            for case in page.cases:
                since = step_since(cases.timeline(case.case_id))
                if since is not None and now - since >= older_than:
                    found.append(
                        {
                            **summary(case, today),
                            "step_since": since.astimezone(CHINA).isoformat(timespec="minutes"),
                            "stuck_days": round((now - since) / timedelta(days=1), 1),
                        }
                    )
            if page.next_key is None:
                break
            start = page.next_key
    found.sort(key=lambda c: str(c["step_since"]))
    return found[:limit]
