"""The review plan: which departments a stage asks and by when, and whose evaluation a regional
assessment replaces. Pure: the moment is passed in, never read from the clock."""

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

from zerovisit.clock import CHINA
from zerovisit.domain.catalog import Matter, RegionalAssessment
from zerovisit.domain.deadlines import end_of_day
from zerovisit.domain.model import Application, TaskPhase
from zerovisit.domain.workdays import add_working_days

# Step Functions waits this long past a limit before its own timeout fires: the catalog's
# timeout policy, not the backstop, should normally decide.
BACKSTOP_GRACE = timedelta(hours=12)
BACKSTOP_WORKING_DAYS = 5


def seconds_until_end_of(day: date, at: datetime) -> int:
    """Seconds from ``at`` to the end of ``day`` (China time) plus the backstop grace; at least 60."""
    remaining = end_of_day(day) + BACKSTOP_GRACE - at
    return max(60, int(remaining.total_seconds()))


def due_after(at: datetime, working_days: int) -> date:
    return add_working_days(at.astimezone(CHINA).date(), working_days).due


def covered(matter: Matter, application: Application, at: datetime) -> dict[str, RegionalAssessment]:
    """Departments whose evaluation a regional assessment of the project's zone, valid on the day
    of ``at``, replaces."""
    project = application.project
    zone = project.zone_code if project else None
    today = at.astimezone(CHINA).date()
    found: dict[str, RegionalAssessment] = {}
    for stage in matter.stages:
        for department in stage.departments:
            assessment = matter.assessment_covering(zone, department.code, today, application.region_code)
            if assessment is not None:
                found[department.code] = assessment
    return found


def stage_plan(
    matter: Matter,
    index: int,
    at: datetime,
    only: set[str] | None = None,
    skipped: Mapping[str, object] = MappingProxyType({}),
    complex_project: bool = False,
    region_code: str | None = None,
) -> dict[str, Any]:
    """What the state machine's review Map needs for one stage (or only some of its departments),
    planned at ``at``: a review, an on-site inspection or a service after issuance, each department
    with its limit. The task timeout is a backstop well past the department's limit: the sweeper
    applies the catalog's timeout policy first, on the domain clock."""
    stage = matter.stages[index]
    phase = TaskPhase.ONSITE_INSPECTION if stage.onsite_inspection is not None else TaskPhase(stage.phase)
    departments = []
    for department in stage.departments:
        if (only is not None and department.code not in only) or department.code in skipped:
            continue
        limit = matter.department_limit(department, region_code, complex_project)
        due = due_after(at, limit)
        backstop = add_working_days(due, limit + BACKSTOP_WORKING_DAYS).due
        planned: dict[str, Any] = {
            "code": department.code,
            "name": department.name,
            "partner_id": department.partner_id,
            "limit_working_days": limit,
            "due_on": due.isoformat(),
            "timeout_seconds": seconds_until_end_of(backstop, at),
            "phase": phase.value,
        }
        if department.service is not None:
            planned["service"] = department.service.value
        if stage.onsite_inspection is not None:
            planned["inspection"] = stage.onsite_inspection.model_dump()
        departments.append(planned)
    return {"index": index, "name": stage.name, "phase": phase.value, "departments": departments}
