"""Small helpers every step shares."""

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from zerovisit.clock import CHINA, clock
from zerovisit.domain.catalog import Matter, RegionalAssessment
from zerovisit.domain.model import Case, Task, TaskStatus, TimelineEntry
from zerovisit.domain.workdays import add_working_days
from zerovisit.errors import CaseNotFound
from zerovisit.storage import cases, catalog

# Step Functions waits this long past a limit before its own timeout fires: the catalog's
# timeout policy, not the backstop, should normally decide.
BACKSTOP_GRACE = timedelta(hours=12)
BACKSTOP_WORKING_DAYS = 5


def note(step: str, event: str, detail: str = "", actor: str = "system") -> TimelineEntry:
    return TimelineEntry(at=clock.now(), step=step, event=event, detail=detail, actor=actor)


def reopen(case_id: str, belongs: Callable[[Task], bool], token: str) -> tuple[Task | None, int]:
    """A retried step that waits on a task: the open task of this kind gets the new token and is
    returned; otherwise None and how many such tasks came before (to number the next one)."""
    earlier = [t for t in cases.tasks(case_id) if belongs(t)]
    still_open = next((t for t in earlier if t.status is TaskStatus.OPEN), None)
    if still_open is not None:
        cases.refresh_token(still_open, token)
    return still_open, len(earlier)


def matter_of(case: Case) -> Matter:
    matter = catalog.get_matter(case.application.matter_code)
    if matter is None:
        raise CaseNotFound(f"matter {case.application.matter_code} is no longer in the catalog")
    return matter


def end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=CHINA)


def seconds_until_end_of(day: date) -> int:
    """Seconds from now to the end of ``day`` (China time) plus the backstop grace; at least 60."""
    remaining = end_of_day(day) + BACKSTOP_GRACE - clock.now()
    return max(60, int(remaining.total_seconds()))


def due_after(working_days: int) -> date:
    return add_working_days(clock.today(), working_days).due


def is_complex(case: Case) -> bool:
    return bool(case.application.project and case.application.project.complex)


def covered(case: Case, matter: Matter) -> dict[str, RegionalAssessment]:
    """Departments whose evaluation a valid regional assessment of the project's zone replaces."""
    project = case.application.project
    zone = project.zone_code if project else None
    found: dict[str, RegionalAssessment] = {}
    for stage in matter.stages:
        for department in stage.departments:
            assessment = matter.assessment_covering(
                zone, department.code, clock.today(), case.application.region_code
            )
            if assessment is not None:
                found[department.code] = assessment
    return found


def stage_plan(
    matter: Matter,
    index: int,
    only: set[str] | None = None,
    skipped: Mapping[str, object] = MappingProxyType({}),
    complex_project: bool = False,
) -> dict[str, Any]:
    """What the state machine's review Map needs for one stage (or only some of its departments).
    The task timeout is a backstop well past the department's limit: the sweeper applies the
    catalog's timeout policy first, on the domain clock."""
    stage = matter.stages[index]
    departments = []
    for department in stage.departments:
        if (only is not None and department.code not in only) or department.code in skipped:
            continue
        limit = department.limit_for(complex_project)
        due = due_after(limit)
        backstop = add_working_days(due, limit + BACKSTOP_WORKING_DAYS).due
        departments.append(
            {
                "code": department.code,
                "name": department.name,
                "partner_id": department.partner_id,
                "limit_working_days": limit,
                "due_on": due.isoformat(),
                "timeout_seconds": seconds_until_end_of(backstop),
            }
        )
    return {"index": index, "name": stage.name, "departments": departments}
