"""Cases, their timelines and tasks, in one partition per case.

Storage errors become domain errors here: a lost condition is ``Conflict``,
anything else from DynamoDB is ``DependencyUnavailable`` (the state machine
retries it).
"""

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import uuid4

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from zerovisit.clock import CHINA
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import Case, Task, TaskStatus, TimelineEntry
from zerovisit.errors import Conflict
from zerovisit.storage.common import applicant_key, storage_errors
from zerovisit.storage.search_keys import index_case, index_task
from zerovisit.storage.tables import CaseTableItem, CertificateItem, certificate_item

CASE_SK = "CASE"


@dataclass(frozen=True)
class ClosedFigures:
    status: str
    working_days: int | None
    documents: int


OPEN_SHARD = "OPEN"
ALARM_SHARDS = 8


def alarm_shard(case_id: str) -> str:
    return f"ALARM#{int(hashlib.sha256(case_id.encode()).hexdigest()[:8], 16) % ALARM_SHARDS}"


def moment_key(moment: datetime) -> str:
    """Sortable UTC text of a moment, the index's range key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def case_pk(case_id: str) -> str:
    return f"CASE#{case_id}"


def _connection() -> Connection:
    return CaseTableItem._get_connection().connection


def _case_item(case: Case, version: int) -> CaseTableItem:
    application = case.application
    identity = application.applicant.id_number or application.applicant.credit_code or ""
    item = CaseTableItem(
        case_pk(case.case_id),
        CASE_SK,
        kind="case",
        body=case.model_copy(update={"version": version}).model_dump_json(),
        status=case.status.value,
        version=version,
        applicant_key=applicant_key(identity),
        submitted_at=application.submitted_at.isoformat(),
    )
    due = case.promised_due
    if due is not None and not case.is_closed:
        item.open_shard = OPEN_SHARD
        item.deadline_at = f"{due.isoformat()}#{case.case_id}"
    if case.next_alarm_at is not None and not case.is_closed:
        item.alarm_shard = alarm_shard(case.case_id)
        item.next_alarm_at = moment_key(case.next_alarm_at)
    if case.is_closed and case.closed_at is not None:
        item.report_key = report_key(application.matter_code, application.region_code)
        item.closed_on = f"{case.closed_at.astimezone(CHINA).date().isoformat()}#{case.case_id}"
        item.report_days = case.working_days_used
        item.report_documents = len(application.materials)
    index_case(item, case)
    return item


def report_key(matter_code: str, region_code: str) -> str:
    return f"{matter_code}#{region_code}"


def closed_cases(matter_code: str, region_code: str, first: date, last: date) -> Iterator[ClosedFigures]:
    """Status, working days used and documents submitted of the cases closed in [first, last]."""
    with storage_errors():
        for item in CaseTableItem.closed_by_matter_region.query(
            report_key(matter_code, region_code),
            CaseTableItem.closed_on.between(first.isoformat(), f"{last.isoformat()}#~"),
        ):
            yield ClosedFigures(
                status=str(item.status),
                working_days=None if item.report_days is None else int(item.report_days),
                documents=int(item.report_documents or 0),
            )


def _timeline_item(case_id: str, entry: TimelineEntry) -> CaseTableItem:
    sort_key = f"TL#{entry.at.isoformat(timespec='microseconds')}#{uuid4().hex[:8]}"
    return CaseTableItem(case_pk(case_id), sort_key, kind="timeline", body=entry.model_dump_json())


def _task_item(task: Task) -> CaseTableItem:
    item = CaseTableItem(
        case_pk(task.case_id),
        f"TASK#{task.task_id}",
        kind="task",
        body=task.model_dump_json(),
        status=task.status.value,
    )
    if task.next_alarm_at is not None and task.status is TaskStatus.OPEN:
        item.alarm_shard = alarm_shard(task.case_id)
        item.next_alarm_at = moment_key(task.next_alarm_at)
    index_task(item, task)
    return item


def create_case(case: Case, entry: TimelineEntry) -> bool:
    """Store a new case with its first timeline entry; False if the case already exists."""
    try:
        with storage_errors(), TransactWrite(connection=_connection()) as tx:
            tx.save(_case_item(case, 1), condition=CaseTableItem.pk.does_not_exist())
            tx.save(_timeline_item(case.case_id, entry))
    except Conflict:
        return False
    return True


def get_case(case_id: str) -> Case:
    with storage_errors():
        item = CaseTableItem.get(case_pk(case_id), CASE_SK, consistent_read=True)
    assert item.body is not None
    return Case.model_validate_json(item.body)


def save_case(
    case: Case,
    entries: Sequence[TimelineEntry] = (),
    new_tasks: Sequence[Task] = (),
    certificate: Certificate | None = None,
    answered_task: Task | None = None,
) -> Case:
    """Write the case if nobody changed it since it was read, with its new timeline entries,
    new tasks, a task's answer (only if it is still open) and a new certificate, all or nothing.
    Returns the case with its new version."""
    version = case.version + 1
    with storage_errors(), TransactWrite(connection=_connection()) as tx:
        tx.save(_case_item(case, version), condition=CaseTableItem.version == case.version)
        for entry in entries:
            tx.save(_timeline_item(case.case_id, entry))
        for task in new_tasks:
            tx.save(_task_item(task))
        if answered_task is not None:
            tx.save(_task_item(answered_task), condition=CaseTableItem.status == TaskStatus.OPEN.value)
        if certificate is not None:
            tx.save(certificate_item(certificate), condition=CertificateItem.identifier.does_not_exist())
    return case.model_copy(update={"version": version})


def append_timeline(case_id: str, entries: Sequence[TimelineEntry], tasks: Sequence[Task] = ()) -> None:
    """Timeline entries and tasks that do not change the case item (parallel branches write these)."""
    with storage_errors(), TransactWrite(connection=_connection()) as tx:
        for entry in entries:
            tx.save(_timeline_item(case_id, entry))
        for task in tasks:
            tx.save(_task_item(task))


def timeline(case_id: str) -> list[TimelineEntry]:
    with storage_errors():
        items = CaseTableItem.query(
            case_pk(case_id), CaseTableItem.sk.startswith("TL#"), consistent_read=True
        )
        return [TimelineEntry.model_validate_json(i.body or "") for i in items]


def get_task(case_id: str, task_id: str) -> Task:
    with storage_errors():
        item = CaseTableItem.get(case_pk(case_id), f"TASK#{task_id}", consistent_read=True)
    return Task.model_validate_json(item.body or "")


def tasks(case_id: str) -> list[Task]:
    with storage_errors():
        items = CaseTableItem.query(
            case_pk(case_id), CaseTableItem.sk.startswith("TASK#"), consistent_read=True
        )
        return [Task.model_validate_json(i.body or "") for i in items]


def answer_task(task: Task, entry: TimelineEntry) -> None:
    """Record the answer if the task is still open; Conflict if another answer won the race."""
    with storage_errors(), TransactWrite(connection=_connection()) as tx:
        tx.save(_task_item(task), condition=CaseTableItem.status == TaskStatus.OPEN.value)
        tx.save(_timeline_item(task.case_id, entry))


def next_number(counter: str, at: datetime) -> int:
    """An atomic counter (case numbers, waybill serials)."""
    item = CaseTableItem(f"COUNTER#{counter}", "COUNTER", kind="counter")
    with storage_errors():
        item.update(actions=[CaseTableItem.counter.add(1), CaseTableItem.submitted_at.set(at.isoformat())])
    return int(item.counter or 0)


def put_evaluation(case_id: str, body: str, entry: TimelineEntry) -> None:
    """The case's one evaluation; Conflict if it already has one."""
    item = CaseTableItem(case_pk(case_id), "EVALUATION", kind="evaluation", body=body)
    with storage_errors(), TransactWrite(connection=_connection()) as tx:
        tx.save(item, condition=CaseTableItem.pk.does_not_exist())
        tx.save(_timeline_item(case_id, entry))


def due_alarm_keys(now: datetime) -> Iterator[tuple[str, str]]:
    """(pk, sk) of every open case and review task whose next alarm moment has come, shard by
    shard from the DueAlarms index: reads grow with the due items, not with all open cases."""
    with storage_errors():
        for shard in range(ALARM_SHARDS):
            for item in CaseTableItem.due_alarms.query(
                f"ALARM#{shard}", CaseTableItem.next_alarm_at <= moment_key(now)
            ):
                yield item.pk, item.sk


def open_cases_due_from(day: str) -> Iterator[str]:
    """Ids of open cases whose promised deadline is on or after ``day`` (ISO date)."""
    with storage_errors():
        for item in CaseTableItem.open_by_deadline.query(OPEN_SHARD, CaseTableItem.deadline_at >= day):
            yield item.pk.removeprefix("CASE#")


def refresh_token(task: Task, token: str) -> None:
    """A retried step gets a new task token; the open task keeps its id, answers and limits."""
    append_timeline(task.case_id, [], [task.model_copy(update={"token": token})])
