"""What every step shares: the read-decide-write loop, the callback preamble, the clock's moments."""

from collections.abc import Callable
from datetime import date
from typing import Any

from zerovisit.clock import clock
from zerovisit.domain import plan
from zerovisit.domain.case import Case, Change
from zerovisit.domain.catalog import Matter
from zerovisit.domain.model import Task, TaskKind, TaskRef, TimelineEntry
from zerovisit.errors import CaseNotFound, Conflict, InvalidInput, NotPermitted, TaskClosed
from zerovisit.services.ports import KeptAnswer, ports


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


def task_ref(task_id: str, noun: str = "task") -> TaskRef:
    """A partner's task reference, parsed once at the edge; one that names nothing of ours is
    no such task."""
    try:
        return TaskRef.parse(task_id)
    except ValueError as e:
        raise CaseNotFound(f"no such {noun}") from e


def order_ref(order_id: str, noun: str) -> TaskRef:
    """The order a partner's callback names in its body: one that names nothing of ours is invalid
    input (its body is wrong), where a path that names nothing is no such task."""
    try:
        return TaskRef.parse(order_id)
    except ValueError as e:
        raise InvalidInput([f"order_id: not a {noun} of this system"]) from e


def held_task(
    ref: TaskRef,
    partner: str,
    kind: TaskKind,
    read: tuple[Case, list[Task]] | None = None,
    noun: str = "task",
) -> tuple[Case, list[Task], Task]:
    """The callback preamble: the task's case and tasks in one read (or ``read``, just made), the
    task, and the check that the calling partner holds it."""
    case, tasks = read if read is not None else ports().cases.case_and_tasks(ref.case_id)
    task = next((t for t in tasks if t.task_id == ref.task_id), None)
    if task is None:
        raise CaseNotFound(f"no such {noun}")
    if task.kind is not kind or task.partner != partner:
        raise NotPermitted(f"this {noun} is not assigned to the calling partner")
    return case, tasks, task


def answer_task(
    ref: TaskRef,
    partner: str,
    kind: TaskKind,
    answer: dict[str, Any],
    decide: Callable[[Case, Task, list[Task]], Change],
    read: tuple[Case, list[Task]] | None = None,
    noun: str = "task",
    kept: KeptAnswer | None = None,
) -> Task:
    """The one callback path, for reviews, payment and EMS: the preamble (``held_task``), then
    the answer written with the case change and the task's resumption (and ``kept``, the
    request's answer for its replays). The same answer again (a retry, or a twin sent at the
    same moment) returns the task as first answered; a different answer on a closed task is
    refused. ``decide`` gets the case, the task and all the case's tasks as read; ``read``: the
    case and its tasks the caller has just read, for the first attempt."""
    repository = ports().cases
    for attempt in range(ATTEMPTS):
        case, tasks, task = held_task(ref, partner, kind, read if attempt == 0 else None, noun)
        if not task.is_open:
            if task.same_answer(answer):
                return task
            raise TaskClosed(f"the task is already {task.status.value}")
        try:
            repository.save(decide(case, task, tasks), kept)
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


def seconds_until_end_of(day: date) -> int:
    """Seconds from now to the end of ``day`` (China time) plus the backstop grace; at least 60."""
    return plan.seconds_until_end_of(day, clock.now())


def due_after(working_days: int) -> date:
    return plan.due_after(clock.now(), working_days)
