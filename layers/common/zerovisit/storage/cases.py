"""Cases, their timelines and tasks, in one partition per case.

Storage errors become domain errors here: a lost condition is ``Conflict``,
anything else from DynamoDB is ``DependencyUnavailable`` (the state machine
retries it).
"""

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple
from uuid import uuid4

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from zerovisit.clock import CHINA
from zerovisit.domain.case import Case, Change
from zerovisit.domain.enterprise import ServiceRecord
from zerovisit.domain.model import Task, TaskRef, TaskStatus, TimelineEntry
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.errors import CaseNotFound, Conflict, DependencyUnavailable
from zerovisit.storage import replays
from zerovisit.storage.common import applicant_key, storage_errors
from zerovisit.storage.search_keys import index_case, index_task
from zerovisit.storage.tables import CaseTableItem, CertificateItem, certificate_item

CASE_SK = "CASE"
# Tasks sort right after their case, so that one query reads a case with its tasks.
TASK_SK_PREFIX = "CASE#TASK#"
# Outbox items stay a week after the relay has seen them, then expire (the table's TTL).
OUTBOX_RETENTION = timedelta(days=7)


class ClosedFigures(NamedTuple):
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


def _timeline_item(case_id: str, entry: TimelineEntry, n: int = 0) -> CaseTableItem:
    """``n``: the entry's place in its write, so entries of one moment read in the order written."""
    sort_key = f"TL#{entry.at.isoformat(timespec='microseconds')}#{n:03d}{uuid4().hex[:8]}"
    return CaseTableItem(case_pk(case_id), sort_key, kind="timeline", body=entry.model_dump_json())


def _task_item(task: Task) -> CaseTableItem:
    item = CaseTableItem(
        case_pk(task.case_id),
        f"{TASK_SK_PREFIX}{task.task_id}",
        kind="task",
        body=task.model_dump_json(),
        status=task.status.value,
        version=task.version,
    )
    if task.next_alarm_at is not None and task.status is TaskStatus.OPEN:
        item.alarm_shard = alarm_shard(task.case_id)
        item.next_alarm_at = moment_key(task.next_alarm_at)
    index_task(item, task)
    return item


def holder_pk(credit_code: str) -> str:
    """The partition of what an enterprise keeps from its cases (a digest, like the applicant index)."""
    return f"HOLDER#{applicant_key(credit_code)}"


def _record_item(record: ServiceRecord) -> CaseTableItem:
    return CaseTableItem(
        holder_pk(record.credit_code),
        f"SERVICE#{record.case_id}#{record.department}",
        kind="service",
        body=record.model_dump_json(),
    )


def enterprise_records(credit_code: str) -> list[ServiceRecord]:
    """The enterprise's records of the services after its licence, case by case."""
    with storage_errors():
        items = CaseTableItem.query(holder_pk(credit_code), CaseTableItem.sk.startswith("SERVICE#"))
        return [ServiceRecord.model_validate_json(i.body or "") for i in items]


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


def _outbox_item(message: OutboxMessage, now: datetime) -> CaseTableItem:
    return CaseTableItem(
        case_pk(message.case_id),
        f"OUTBOX#{message.message_id}",
        kind="outbox",
        body=message.model_dump_json(),
        expires_at=int((now + OUTBOX_RETENTION).timestamp()),
    )


class ReplayAnswer(NamedTuple):
    """A signed request's answer to keep with the change it makes (see storage/replays.py)."""

    digest: str
    answer: replays.Answer
    at: datetime  # the real time the answer was made: the record is kept from then


@contextmanager
def _answer_not_kept_yet(kept: ReplayAnswer | None) -> Iterator[None]:
    """A transaction that fails because the request's answer is kept already (a replay, or a twin
    that wrote first) fails as unavailable, not as a lost race: deciding again cannot win it, and
    the kept answer is the request's. The answer is the transaction's last put."""
    try:
        yield
    except Conflict as e:
        failure = e.__cause__
        reasons = getattr(failure, "cancellation_reasons", None) or []
        last = reasons[-1] if reasons else None
        if kept is not None and last is not None and last.code == "ConditionalCheckFailed":
            raise DependencyUnavailable("the request is answered already") from e
        raise


def save(change: Change, now: datetime, kept: ReplayAnswer | None = None) -> Case | None:
    """Write the change all or nothing: the case only if nobody changed it since it was read, each
    task only if it is new or unchanged since read, a certificate only if new, and the outbox
    messages with them, and ``kept`` only while the request has no answer kept. Returns the case
    with its new version (None for a task-only change)."""
    if change.is_empty and not change.notices and kept is None:
        return None
    version = change.base_version + 1
    anchor = change.anchor()
    saved = None if change.case is None else change.case.model_copy(update={"version": version})
    with _answer_not_kept_yet(kept), storage_errors(), TransactWrite(connection=_connection()) as tx:
        if saved is not None:
            tx.save(_case_item(saved, version), condition=CaseTableItem.version == change.base_version)
        for n, entry in enumerate(change.entries):
            tx.save(_timeline_item(change.case_id, entry, n))
        for task in change.tasks:
            if task.version == 0:
                tx.save(
                    _task_item(task.model_copy(update={"version": 1})),
                    condition=CaseTableItem.sk.does_not_exist(),
                )
            else:
                tx.save(
                    _task_item(task.model_copy(update={"version": task.version + 1})),
                    condition=CaseTableItem.version == task.version,
                )
        for message in change.messages(anchor, now):
            tx.save(_outbox_item(message, now))
        if change.certificate is not None:
            tx.save(
                certificate_item(change.certificate), condition=CertificateItem.identifier.does_not_exist()
            )
        for revoked in change.revoked:
            tx.save(certificate_item(revoked), condition=CertificateItem.status == "valid")
        for record in change.records:
            tx.save(_record_item(record))
        if kept is not None:
            replays.keep_answer_in(tx, kept.digest, kept.answer, kept.at)
    return saved


def timeline(case_id: str) -> list[TimelineEntry]:
    with storage_errors():
        items = CaseTableItem.query(
            case_pk(case_id), CaseTableItem.sk.startswith("TL#"), consistent_read=True
        )
        return [TimelineEntry.model_validate_json(i.body or "") for i in items]


def get_task(ref: TaskRef) -> Task:
    with storage_errors():
        item = CaseTableItem.get(case_pk(ref.case_id), f"{TASK_SK_PREFIX}{ref.task_id}", consistent_read=True)
    return _task(item)


def _task(item: CaseTableItem) -> Task:
    task = Task.model_validate_json(item.body or "")
    return task.model_copy(update={"version": int(item.version or 0)})


def case_and_tasks(case_id: str) -> tuple[Case, list[Task]]:
    """The case and all its tasks, in one query."""
    case: Case | None = None
    found: list[Task] = []
    with storage_errors():
        for item in CaseTableItem.query(
            case_pk(case_id), CaseTableItem.sk.startswith(CASE_SK), consistent_read=True
        ):
            if item.sk == CASE_SK:
                assert item.body is not None
                case = Case.model_validate_json(item.body)
            else:
                found.append(_task(item))
    if case is None:
        raise CaseNotFound("no such record")
    return case, found


def tasks(case_id: str) -> list[Task]:
    with storage_errors():
        items = CaseTableItem.query(
            case_pk(case_id), CaseTableItem.sk.startswith(TASK_SK_PREFIX), consistent_read=True
        )
        return [_task(i) for i in items]


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


def due_items(now: datetime, after: str | None = None) -> Iterator[tuple[str, TaskRef | None, str]]:
    """Every open case and task whose next alarm moment has come, shard by shard from the
    DueAlarms index: reads grow with the due items, not with all open cases. Each comes with its
    position, from which ``after`` goes on (the index key of the entry: shard, moment, table key)."""
    first_shard, start_key = _due_position(after)
    with storage_errors():
        for shard in range(first_shard, ALARM_SHARDS):
            for item in CaseTableItem.due_alarms.query(
                f"ALARM#{shard}",
                CaseTableItem.next_alarm_at <= moment_key(now),
                last_evaluated_key=start_key if shard == first_shard else None,
            ):
                case_id = item.pk.removeprefix("CASE#")
                task_id = item.sk.removeprefix(TASK_SK_PREFIX) if item.sk.startswith(TASK_SK_PREFIX) else None
                ref = TaskRef(case_id=case_id, task_id=task_id) if task_id else None
                yield case_id, ref, _due_key(shard, item)


def _due_key(shard: int, item: CaseTableItem) -> str:
    key = {
        "pk": {"S": item.pk},
        "sk": {"S": item.sk},
        "alarm_shard": {"S": str(item.alarm_shard)},
        "next_alarm_at": {"S": str(item.next_alarm_at)},
    }
    return json.dumps({"shard": shard, "key": key}, sort_keys=True)


def _due_position(after: str | None) -> tuple[int, dict[str, dict[str, str]] | None]:
    if after is None:
        return 0, None
    position = json.loads(after)
    return int(position["shard"]), position["key"]


def open_cases_due_from(day: str) -> Iterator[str]:
    """Ids of open cases whose promised deadline is on or after ``day`` (ISO date)."""
    with storage_errors():
        for item in CaseTableItem.open_by_deadline.query(OPEN_SHARD, CaseTableItem.deadline_at >= day):
            yield item.pk.removeprefix("CASE#")
