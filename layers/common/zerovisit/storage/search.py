"""Finding cases and tasks through the search indexes, a page at a time; never a scan.

Every index is keys-only: a page of index keys is read, then the records themselves in one batch,
so the indexes hold no personal data and a record is never stale. A page reads at most ``limit``
index entries; ``next_key`` (DynamoDB's own key, for the service's cursor) is None at the end.
"""

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any, NamedTuple

from zerovisit.domain.case import Case
from zerovisit.domain.model import Task
from zerovisit.storage.cases import OPEN_SHARD
from zerovisit.storage.common import BAD_CURSOR, StartKey, applicant_key, index_page, storage_errors
from zerovisit.storage.search_keys import NO_DUE_DATE
from zerovisit.storage.tables import CaseTableItem

__all__ = ["BAD_CURSOR", "CasePage", "StartKey", "TaskPage"]


class CasePage(NamedTuple):
    cases: list[Case]
    next_key: StartKey


class TaskPage(NamedTuple):
    tasks: list[Task]
    next_key: StartKey


def _keys_page(
    query: Callable[..., Any], hash_key: tuple[str, str], limit: int, start: StartKey
) -> tuple[list[tuple[str, str]], StartKey]:
    """One page of index keys (the records are read after, in one batch)."""
    return index_page(query, hash_key, limit, start, lambda item: (item.pk, item.sk))


def _records(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    keys = list(keys)
    if not keys:
        return {}
    with storage_errors():
        return {(i.pk, i.sk): i.body or "" for i in CaseTableItem.batch_get(keys, consistent_read=True)}


def _cases(keys: list[tuple[str, str]], next_key: StartKey) -> CasePage:
    bodies = _records(keys)
    found = [Case.model_validate_json(bodies[k]) for k in keys if k in bodies]
    return CasePage(found, next_key)


def by_applicant(identity: str, limit: int, start: StartKey) -> CasePage:
    """The applicant's cases, newest first."""
    hashed = applicant_key(identity)
    keys, next_key = _keys_page(
        lambda **page: CaseTableItem.by_applicant.query(hashed, scan_index_forward=False, **page),
        ("applicant_key", hashed),
        limit,
        start,
    )
    return _cases(keys, next_key)


def by_status(
    status: str, region: str | None, due_from: date | None, due_to: date | None, limit: int, start: StartKey
) -> CasePage:
    """Cases in a status; within a region, by promised due date (and within [due_from, due_to])."""
    return _by_region_due(
        CaseTableItem.cases_by_status,
        "status_key",
        CaseTableItem.status_sort,
        status,
        region,
        due_from,
        due_to,
        limit,
        start,
    )


def by_step(
    step: str, region: str | None, due_from: date | None, due_to: date | None, limit: int, start: StartKey
) -> CasePage:
    """Cases at a step; within a region, by promised due date (and within [due_from, due_to])."""
    return _by_region_due(
        CaseTableItem.cases_by_step,
        "step_key",
        CaseTableItem.step_sort,
        step,
        region,
        due_from,
        due_to,
        limit,
        start,
    )


def _by_region_due(
    index: Any,
    hash_name: str,
    sort_key: Any,
    value: str,
    region: str | None,
    due_from: date | None,
    due_to: date | None,
    limit: int,
    start: StartKey,
) -> CasePage:
    condition = None
    if region is not None:
        first = f"{region}#{due_from.isoformat() if due_from else ''}"
        last = f"{region}#{due_to.isoformat() if due_to else NO_DUE_DATE}#~"
        condition = sort_key.between(first, last)
    keys, next_key = _keys_page(
        lambda **page: index.query(value, condition, **page), (hash_name, value), limit, start
    )
    return _cases(keys, next_key)


def open_in_region(region: str, limit: int, start: StartKey) -> CasePage:
    """The region's open cases, oldest first."""
    keys, next_key = _keys_page(
        lambda **page: CaseTableItem.open_by_region.query(region, **page),
        ("open_region", region),
        limit,
        start,
    )
    return _cases(keys, next_key)


def open_due_between(due_from: date | None, due_to: date | None, limit: int, start: StartKey) -> CasePage:
    """Open cases whose promised due date is within [due_from, due_to], soonest first."""
    last = f"{due_to.isoformat() if due_to else NO_DUE_DATE}#~"
    due = CaseTableItem.deadline_at
    condition = due.between(due_from.isoformat(), last) if due_from else due <= last
    keys, next_key = _keys_page(
        lambda **page: CaseTableItem.open_by_deadline.query(OPEN_SHARD, condition, **page),
        ("open_shard", OPEN_SHARD),
        limit,
        start,
    )
    return _cases(keys, next_key)


def open_tasks(partner: str, limit: int, start: StartKey) -> TaskPage:
    """The partner's open tasks, soonest due first."""
    keys, next_key = _keys_page(
        lambda **page: CaseTableItem.open_tasks_by_partner.query(partner, **page),
        ("task_partner", partner),
        limit,
        start,
    )
    bodies = _records(keys)
    return TaskPage([Task.model_validate_json(bodies[k]) for k in keys if k in bodies], next_key)
