"""The AWS adapters behind the services' ports: pynamodb storage, EventBridge, Step Functions, KMS."""

import json
from collections.abc import Iterable
from datetime import datetime

from zerovisit.adapters import aws, supervision
from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change, DomainEvent
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import Task, TaskRef, TimelineEntry
from zerovisit.domain.sweep import SweepCursor
from zerovisit.services.ports import DueItem, Ports
from zerovisit.storage import cases, catalog, certificates, sweeps


class DynamoCaseRepository:
    def get(self, case_id: str) -> Case:
        return cases.get_case(case_id)

    def tasks(self, case_id: str) -> list[Task]:
        return cases.tasks(case_id)

    def task(self, ref: TaskRef) -> Task:
        return cases.get_task(ref)

    def create(self, case: Case, entry: TimelineEntry) -> bool:
        return cases.create_case(case, entry)

    def save(self, change: Change) -> Case | None:
        return cases.save(change, clock.now())

    def next_number(self, counter: str) -> int:
        return cases.next_number(counter, clock.now())

    def due(self, now: datetime, after: str | None = None) -> Iterable[DueItem]:
        for case_id, task, position in cases.due_items(now, after):
            yield DueItem(case_id, task, position)

    def sweep_cursor(self) -> SweepCursor:
        return sweeps.get_cursor()

    def save_sweep_cursor(self, cursor: SweepCursor) -> SweepCursor:
        return sweeps.put_cursor(cursor)


class DynamoCatalog:
    def matter(self, code: str) -> Matter | None:
        return catalog.get_matter(code)


class DynamoCertificateLibrary:
    def get(self, identifier: str) -> Certificate | None:
        return certificates.get_certificate(identifier)

    def library(self, holder_id: str) -> list[Certificate]:
        return certificates.library(holder_id)


class AwsGateway:
    def start_execution(self, case_id: str, name: str, resume: bool) -> str:
        return aws.start_case_execution(case_id, name, resume)

    def publish(self, event: DomainEvent) -> None:
        aws.publish(event.type.value, json.loads(json.dumps(dict(event.detail), default=str)))

    def sign(self, message: bytes) -> tuple[str, bytes]:
        return aws.sign(message)

    def count(self, metric: str, dimensions: dict[str, str]) -> None:
        supervision.count(metric, dimensions)


def aws_ports() -> Ports:
    return Ports(DynamoCaseRepository(), DynamoCatalog(), DynamoCertificateLibrary(), AwsGateway())
