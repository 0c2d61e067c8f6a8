"""In-memory adapters for the services' ports: the same contract as DynamoDB's, with no AWS at all.

``FakeCases.save`` keeps the storage rules: the case is written only at the version it was read,
a new task only once, a changed task only at its version, a certificate only if new, a revocation
only of a valid certificate, and every outbox message with its id. Certificates it writes go into
the ``FakeCertificates`` library it is given.
"""

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from zerovisit.catalog_files import read_catalog
from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change, DomainEvent
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.enterprise import ServiceRecord
from zerovisit.domain.model import Task, TaskRef, TimelineEntry
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.domain.signing import SigningAlgorithm
from zerovisit.domain.sweep import SweepCursor
from zerovisit.errors import CaseNotFound, Conflict, DependencyUnavailable
from zerovisit.services.ports import DueItem, HeldPage, KeptAnswer, Link, Ports, Signed

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
    records: list[ServiceRecord] = field(default_factory=list)  # the holders' records
    before_save: Callable[[Change], object] | None = None  # a race: another writer runs here
    reads: int = 0  # requests a DynamoDB repository would make to read
    library: "FakeCertificates | None" = None
    cursor: SweepCursor = field(default_factory=SweepCursor)
    before_cursor_save: Callable[[SweepCursor], object] | None = None  # every time, until unset
    kept: dict[str, KeptAnswer] = field(default_factory=dict)  # answers kept with their changes

    def get(self, case_id: str) -> Case:
        self.reads += 1
        return self._case(case_id)

    def tasks(self, case_id: str) -> list[Task]:
        self.reads += 1
        return self._tasks(case_id)

    def case_and_tasks(self, case_id: str) -> tuple[Case, list[Task]]:
        self.reads += 1
        return self._case(case_id), self._tasks(case_id)

    def _case(self, case_id: str) -> Case:
        if case_id not in self.cases:
            raise CaseNotFound("no such record")
        return self.cases[case_id]

    def _tasks(self, case_id: str) -> list[Task]:
        return [t for t in self.task_store.values() if t.case_id == case_id]

    def task(self, ref: TaskRef) -> Task:
        self.reads += 1
        if ref.task_id not in self.task_store:
            raise CaseNotFound("no such record")
        return self.task_store[ref.task_id]

    def create(self, case: Case, entry: TimelineEntry) -> bool:
        if case.case_id in self.cases:
            return False
        self.cases[case.case_id] = case.model_copy(update={"version": 1})
        self.timelines[case.case_id] = [entry]
        return True

    def save(self, change: Change, kept: KeptAnswer | None = None) -> Case | None:
        if self.before_save is not None:
            hook, self.before_save = self.before_save, None
            hook(change)
        if change.is_empty and not change.notices and kept is None:
            return None
        if kept is not None and kept.key in self.kept:
            raise Conflict("the record changed or is not in the expected state")
        if change.case is not None and self.cases[change.case_id].version != change.base_version:
            raise Conflict("the record changed or is not in the expected state")
        for task in change.tasks:
            stored = self.task_store.get(task.task_id)
            if (task.version == 0) != (stored is None) or (
                stored is not None and stored.version != task.version
            ):
                raise Conflict("the record changed or is not in the expected state")
        if self.library is not None and not self.library.may_write(change):
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
        self.records.extend(change.records)
        if self.library is not None:
            for written in (change.certificate, *change.revoked):
                if written is not None:
                    self.library.hold(written)
        if kept is not None:
            kept.written = True
            self.kept[kept.key] = kept
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
        self.cursor = cursor._replace(version=cursor.version + 1)
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
    held: dict[str, Certificate] = field(default_factory=dict)  # by identifier

    def hold(self, certificate: Certificate) -> None:
        self.held[certificate.identifier] = certificate

    def may_write(self, change: Change) -> bool:
        """DynamoDB's conditions: a new certificate only once, a revocation only of a valid one."""
        new = change.certificate is None or change.certificate.identifier not in self.held
        return new and all(
            r.identifier in self.held and self.held[r.identifier].status == "valid" for r in change.revoked
        )

    def get(self, identifier: str) -> Certificate | None:
        return self.held.get(identifier)

    def library(self, holder_id: str) -> list[Certificate]:
        return sorted((c for c in self.held.values() if c.holder_id == holder_id), key=lambda c: c.issued_at)

    def page(self, holder_id: str, limit: int, start: dict[str, Any] | None) -> HeldPage:
        newest_first = self.library(holder_id)[::-1]
        if start is not None:
            after = [c.identifier for c in newest_first].index(start["identifier"]["S"]) + 1
            newest_first = newest_first[after:]
        page = newest_first[:limit]
        more = len(newest_first) > limit
        return HeldPage(page, {"identifier": {"S": page[-1].identifier}} if more else None)


@dataclass
class FakeGateway:
    executions: list[tuple[str, str, bool]] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)
    metrics: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    algorithm: SigningAlgorithm = "ECDSA_SHA_256"  # what the region's key signs with
    verified_with: list[SigningAlgorithm] = field(default_factory=list)
    renderings: dict[str, bytes] = field(default_factory=dict)
    renderings_written: int = 0
    unavailable_renderings: int = 0  # S3 refuses this many writes (a crash after the certificate write)

    def start_execution(self, case_id: str, name: str, resume: bool) -> str:
        self.executions.append((case_id, name, resume))
        return f"arn:aws:states:local:000000000000:execution:cases:{name}"

    def publish(self, event: DomainEvent) -> None:
        self.events.append(event)

    def sign(self, message: bytes) -> Signed:
        return Signed("fake-key", self._signature(message, self.algorithm), self.algorithm)

    def verify(self, key_id: str, message: bytes, signature: bytes, algorithm: SigningAlgorithm) -> bool:
        self.verified_with.append(algorithm)
        return key_id == "fake-key" and signature == self._signature(message, algorithm)

    @staticmethod
    def _signature(message: bytes, algorithm: str) -> bytes:
        return hashlib.sha256(algorithm.encode() + b"\n" + message).digest()

    def store_rendering(self, key: str, png: bytes) -> None:
        if self.unavailable_renderings:
            self.unavailable_renderings -= 1
            raise DependencyUnavailable("could not store the certificate's rendering")
        self.renderings[key] = png
        self.renderings_written += 1

    def rendering_link(self, key: str) -> Link:
        return Link(f"https://renderings.test/{key}?signed", clock.now() + timedelta(minutes=5))

    def verification_address(self, identifier: str) -> str:
        return f"https://api.test/dev/certificates/{identifier}/verify"

    def count(self, metric: str, dimensions: dict[str, str]) -> None:
        self.metrics.append((metric, dimensions))


def fake_ports() -> Ports:
    library = FakeCertificates()
    return Ports(FakeCases(library=library), FakeCatalog(), library, FakeGateway())
