"""What every step shares: the read-decide-write loop, the callback preamble, the review plan."""

from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any

from zerovisit.clock import CHINA, clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Matter, RegionalAssessment
from zerovisit.domain.model import Task, TaskKind, TaskPhase, TaskRef, TimelineEntry
from zerovisit.domain.workdays import add_working_days
from zerovisit.errors import CaseNotFound, Conflict, NotPermitted, TaskClosed
from zerovisit.services.ports import ports

# Step Functions waits this long past a limit before its own timeout fires: the catalog's
# timeout policy, not the backstop, should normally decide.
BACKSTOP_GRACE = timedelta(hours=12)
BACKSTOP_WORKING_DAYS = 5


def note(step: str, event: str, detail: str = "", actor: str = "system") -> TimelineEntry:
    return TimelineEntry(at=clock.now(), step=step, event=event, detail=detail, actor=actor)


# A lost race is decided again on a fresh read: departments of one stage answer at once.
ATTEMPTS = 8


def apply(case_id: str, decide: Callable[[Case], Change], read: Case | None = None) -> tuple[Case, Change]:
    """Read the case (or take ``read``, the case the caller has just read), decide the change, write
    it; on a lost race read again and decide again. Returns the case as written (or as read, if the
    change left the case item alone)."""
    repository = ports().cases
    for attempt in range(ATTEMPTS):
        case = read if read is not None and attempt == 0 else repository.get(case_id)
        change = decide(case)
        try:
            saved = repository.save(change)
        except Conflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return saved or case, change
    raise AssertionError("unreachable")


def reopen(
    case: Case, tasks: list[Task], belongs: Callable[[Task], bool], token: str, round_: str | None = None
) -> tuple[Task | None, int]:
    """A retried step that waits on a task finds, among the case's ``tasks``, the one its first
    attempt opened (the same round, or without a round the one still open): the task takes the new
    token, or, closed meanwhile, resumes it as it resumed the old one; the request went out with
    the first write. Otherwise None, and how many such tasks came before (to number the next one)."""
    earlier = [t for t in tasks if belongs(t)]
    if round_ is not None:
        found = next((t for t in earlier if t.round == round_), None)
    else:
        found = next((t for t in earlier if t.is_open), None)
    if found is not None and found.token != token:
        ports().cases.save(case.rewait(found, token))
    return found, len(earlier)


def answer_task(
    task_id: str,
    partner: str,
    kind: TaskKind,
    answer: dict[str, Any],
    decide: Callable[[Case, Task], Change],
    read: tuple[Case, list[Task]] | None = None,
) -> Task:
    """The one callback path, for reviews, payment and EMS: the task reference, the task, the
    owner check, then the answer written with the case change and the task's resumption. The
    same answer again (a retry, or a twin sent at the same moment) returns the task as first
    answered; a different answer on a closed task is refused. ``read``: the case and its tasks
    the caller has just read, for the first attempt."""
    try:
        ref = TaskRef.parse(task_id)
    except ValueError as e:
        raise CaseNotFound("no such task") from e
    repository = ports().cases
    for attempt in range(ATTEMPTS):
        case, tasks = read if read is not None and attempt == 0 else repository.case_and_tasks(ref.case_id)
        task = next((t for t in tasks if t.task_id == ref.task_id), None)
        if task is None:
            raise CaseNotFound("no such task")
        if task.kind is not kind or task.partner != partner:
            raise NotPermitted("this task is not assigned to the calling partner")
        if not task.is_open:
            if task.same_answer(answer):
                return task
            raise TaskClosed(f"the task is already {task.status.value}")
        try:
            repository.save(decide(case, task))
        except Conflict:
            if attempt == ATTEMPTS - 1:
                raise
            continue
        return task.answered(answer, clock.now())
    raise AssertionError("unreachable")


def matter_of(case: Case) -> Matter:
    matter = ports().catalog.matter(case.application.matter_code)
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
    region_code: str | None = None,
) -> dict[str, Any]:
    """What the state machine's review Map needs for one stage (or only some of its departments):
    a review, an on-site inspection or a service after issuance, each department with its limit.
    The task timeout is a backstop well past the department's limit: the sweeper applies the
    catalog's timeout policy first, on the domain clock."""
    stage = matter.stages[index]
    phase = TaskPhase.ONSITE_INSPECTION if stage.onsite_inspection is not None else TaskPhase(stage.phase)
    departments = []
    for department in stage.departments:
        if (only is not None and department.code not in only) or department.code in skipped:
            continue
        limit = matter.department_limit(department, region_code, complex_project)
        due = due_after(limit)
        backstop = add_working_days(due, limit + BACKSTOP_WORKING_DAYS).due
        planned: dict[str, Any] = {
            "code": department.code,
            "name": department.name,
            "partner_id": department.partner_id,
            "limit_working_days": limit,
            "due_on": due.isoformat(),
            "timeout_seconds": seconds_until_end_of(backstop),
            "phase": phase.value,
        }
        if department.service is not None:
            planned["service"] = department.service.value
        if stage.onsite_inspection is not None:
            planned["inspection"] = stage.onsite_inspection.model_dump()
        departments.append(planned)
    return {"index": index, "name": stage.name, "phase": phase.value, "departments": departments}
