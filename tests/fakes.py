"""In-memory adapters for the services' ports: the same contract as DynamoDB's, with no AWS at all.

``FakeCases.save`` keeps the storage rules: the case is written only at the version it was read,
a new task only once, a changed task only at its version, and every outbox message with its id.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from zerovisit.catalog_files import read_catalog
from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change, DomainEvent
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import Task, TaskRef, TimelineEntry
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.domain.sweep import SweepCursor
from zerovisit.errors import CaseNotFound, Conflict
from zerovisit.services.ports import DueItem, Ports

CATALOG = Path(__file__).resolve().parents[1] / "infra" / "catalog"


@dataclass
class FakeCases:
    cases: dict[str, Case] = field(default_factory=dict)
    task_store: dict[str, Task] = field(default_factory=dict)
    timelines: dict[str, list[TimelineEntry]] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)
    certificates: list[str] = field(default_factory=list)
    issued: list[Certificate] = field(default_factory=list)
    revoked: list[Certificate] = field(default_factory=list)
    before_save: Callable[[Change], object] | None = None  # a race: another writer runs here
    cursor: SweepCursor = field(default_factory=SweepCursor)
    before_cursor_save: Callable[[SweepCursor], object] | None = None  # every time, until unset

    def get(self, case_id: str) -> Case:
        if case_id not in self.cases:
            raise CaseNotFound("no such record")
        return self.cases[case_id]

    def tasks(self, case_id: str) -> list[Task]:
        return [t for t in self.task_store.values() if t.case_id == case_id]

    def task(self, ref: TaskRef) -> Task:
        if ref.task_id not in self.task_store:
            raise CaseNotFound("no such record")
        return self.task_store[ref.task_id]

    def create(self, case: Case, entry: TimelineEntry) -> bool:
        if case.case_id in self.cases:
            return False
        self.cases[case.case_id] = case.model_copy(update={"version": 1})
        self.timelines[case.case_id] = [entry]
        return True

    def save(self, change: Change) -> Case | None:
        if self.before_save is not None:
            hook, self.before_save = self.before_save, None
            hook(change)
        if change.is_empty and not change.notices:
            return None
        if change.case is not None and self.cases[change.case_id].version != change.base_version:
            raise Conflict("the record changed or is not in the expected state")
        for task in change.tasks:
            stored = self.task_store.get(task.task_id)
            if (task.version == 0) != (stored is None) or (
                stored is not None and stored.version != task.version
            ):
                raise Conflict("the record changed or is not in the expected state")
        version = change.base_version + 1
        anchor = change.anchor()
        saved = None
        if change.case is not None:
            saved = change.case.model_copy(update={"version": version})
            self.cases[change.case_id] = saved
        for task in change.tasks:
            self.task_store[task.task_id] = task.model_copy(update={"version": task.version + 1})
        self.timelines.setdefault(change.case_id, []).extend(change.entries)
        self.outbox.extend(change.messages(anchor, clock.now()))
        if change.certificate is not None:
            self.certificates.append(change.certificate.identifier)
            self.issued.append(change.certificate)
        self.revoked.extend(change.revoked)
        return saved

    def next_number(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def due(self, now: datetime, after: str | None = None) -> Iterable[DueItem]:
        """In a fixed order (case id, then task id), as an index keeps its entries; an entry that
        stops being due leaves it, as it leaves the DueAlarms range."""
        entries = [
            DueItem(case.case_id, None, f"{case.case_id}#")
            for case in self.cases.values()
            if case.next_alarm_at is not None and case.next_alarm_at <= now and not case.is_closed
        ] + [
            DueItem(t.case_id, TaskRef(case_id=t.case_id, task_id=t.task_id), f"{t.case_id}#{t.task_id}")
            for t in self.task_store.values()
            if t.is_open and t.next_alarm_at is not None and t.next_alarm_at <= now
        ]
        for entry in sorted(entries, key=lambda e: e.position):
            if after is None or entry.position > after:
                yield entry

    def sweep_cursor(self) -> SweepCursor:
        return self.cursor

    def save_sweep_cursor(self, cursor: SweepCursor) -> SweepCursor:
        if self.before_cursor_save is not None:
            self.before_cursor_save(cursor)
        if cursor.version != self.cursor.version:
            raise Conflict("the record changed or is not in the expected state")
        self.cursor = replace(cursor, version=cursor.version + 1)
        return self.cursor

    # what a test reads
    def published(self, detail_type: str | None = None) -> list[OutboxMessage]:
        return [
            m
            for m in self.outbox
            if m.action == "publish" and (detail_type is None or m.detail_type == detail_type)
        ]

    def resumed(self) -> list[OutboxMessage]:
        return [m for m in self.outbox if m.action in ("resume", "fail")]


class FakeCatalog:
    def __init__(self) -> None:
        self.matters = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}

    def matter(self, code: str) -> Matter | None:
        return self.matters.get(code)


@dataclass
class FakeCertificates:
    holdings: dict[str, list[Certificate]] = field(default_factory=dict)

    def library(self, holder_id: str) -> list[Certificate]:
        return self.holdings.get(holder_id, [])

    def get(self, identifier: str) -> Certificate | None:
        return next((c for held in self.holdings.values() for c in held if c.identifier == identifier), None)


@dataclass
class FakeGateway:
    executions: list[tuple[str, str, bool]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    metrics: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def start_execution(self, case_id: str, name: str, resume: bool) -> str:
        self.executions.append((case_id, name, resume))
        return f"arn:aws:states:local:000000000000:execution:cases:{name}"

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def sign(self, message: bytes) -> tuple[str, bytes]:
        return "fake-key", b"signature:" + message[:8]

    def count(self, metric: str, dimensions: dict[str, str]) -> None:
        self.metrics.append((metric, dimensions))


def fake_ports() -> Ports:
    return Ports(FakeCases(), FakeCatalog(), FakeCertificates(), FakeGateway())
