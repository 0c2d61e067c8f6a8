"""The AWS adapters behind the services' ports: pynamodb storage, EventBridge, Step Functions, KMS, S3."""

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from zerovisit.adapters import aws, supervision
from zerovisit.clock import clock
from zerovisit.config import settings
from zerovisit.domain.case import Case, Change, DomainEvent
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import Task, TaskRef, TimelineEntry
from zerovisit.domain.signing import SigningAlgorithm
from zerovisit.domain.sweep import SweepCursor
from zerovisit.errors import ConfigurationError
from zerovisit.services.ports import DueItem, HeldPage, KeptAnswer, Link, Ports, Signed
from zerovisit.storage import cases, catalog, certificates, replays, sweeps


class DynamoCaseRepository:
    def get(self, case_id: str) -> Case:
        return cases.get_case(case_id)

    def tasks(self, case_id: str) -> list[Task]:
        return cases.tasks(case_id)

    def task(self, ref: TaskRef) -> Task:
        return cases.get_task(ref)

    def case_and_tasks(self, case_id: str) -> tuple[Case, list[Task]]:
        return cases.case_and_tasks(case_id)

    def create(self, case: Case, entry: TimelineEntry) -> bool:
        return cases.create_case(case, entry)

    def save(self, change: Change, kept: KeptAnswer | None = None) -> Case | None:
        replay = None
        if kept is not None:
            replay = cases.ReplayAnswer(kept.key, replays.Answer(kept.status, kept.body), kept.at)
        saved = cases.save(change, clock.now(), replay)
        if kept is not None:
            kept.written = True
        return saved

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

    def page(self, holder_id: str, limit: int, start: dict[str, Any] | None) -> HeldPage:
        held, next_key = certificates.holder_page(holder_id, limit, start)
        return HeldPage(held, next_key)


# A rendering's link is short-lived: the holder's library is listed again for a new one.
RENDERING_LINK_SECONDS = 300
RENDERING_LINK_LIFE = timedelta(seconds=RENDERING_LINK_SECONDS)


class AwsGateway:
    def start_execution(self, case_id: str, name: str, resume: bool) -> str:
        return aws.start_case_execution(case_id, name, resume)

    def publish(self, event: DomainEvent) -> None:
        aws.publish(event.type.value, json.loads(json.dumps(dict(event.detail), default=str)))

    def sign(self, message: bytes) -> Signed:
        key_id, signature, algorithm = aws.sign(message)
        return Signed(key_id, signature, cast(SigningAlgorithm, algorithm))

    def verify(self, key_id: str, message: bytes, signature: bytes, algorithm: SigningAlgorithm) -> bool:
        return aws.verify_signature(key_id, message, signature, algorithm)

    def store_rendering(self, key: str, png: bytes) -> None:
        aws.put_rendering(key, png)

    def rendering_link(self, key: str) -> Link:
        # S3 checks a presigned link against the real time, not the domain clock
        expires_at = datetime.now(UTC) + RENDERING_LINK_LIFE
        return Link(aws.rendering_url(key, RENDERING_LINK_SECONDS), expires_at)

    def verification_address(self, identifier: str) -> str:
        base = settings().public_api_url
        if not base:
            raise ConfigurationError("PUBLIC_API_URL is not configured for this function")
        return f"{base}/certificates/{identifier}/verify"

    def count(self, metric: str, dimensions: dict[str, str]) -> None:
        supervision.count(metric, dimensions)


def aws_ports() -> Ports:
    return Ports(DynamoCaseRepository(), DynamoCatalog(), DynamoCertificateLibrary(), AwsGateway())
