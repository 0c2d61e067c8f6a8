"""What the services need from outside the domain, as ports; the adapters are wired at cold start.

Services never talk to DynamoDB, EventBridge, Step Functions, KMS or S3 themselves: they read and save
cases through ``CaseRepository`` and reach the rest through ``Gateway``. Unit tests install
in-memory fakes with ``install``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from zerovisit.domain.case import Case, Change, DomainEvent
from zerovisit.domain.catalog import Matter
from zerovisit.domain.certificate import Certificate
from zerovisit.domain.model import Task, TaskRef, TimelineEntry
from zerovisit.domain.signing import SigningAlgorithm
from zerovisit.domain.sweep import SweepCursor


class DueItem(NamedTuple):
    """An open case, or one of its tasks, whose next alarm moment has come."""

    case_id: str
    task: TaskRef | None
    position: str  # where the index stands just after this entry: ``due(after=...)`` goes on from it


@dataclass
class KeptAnswer:
    """A signed request's answer, kept for its replays in the same write as the change the request
    makes, unless an answer is kept already (``key``: the request's replay digest; ``at``: the real
    time it was made, from which the record is kept). The repository sets ``written`` once the
    write is done."""

    key: str
    status: int
    body: Any
    at: datetime
    written: bool = False


# What a route gives a service to keep its answer with its change: the answer from the service's
# result, known before the write.
Keep = Callable[[dict[str, Any]], KeptAnswer]


class CaseRepository(Protocol):
    def get(self, case_id: str) -> Case: ...

    def tasks(self, case_id: str) -> list[Task]: ...

    def case_and_tasks(self, case_id: str) -> tuple[Case, list[Task]]:
        """The case and its tasks in one read."""
        ...

    def task(self, ref: TaskRef) -> Task: ...

    def create(self, case: Case, entry: TimelineEntry) -> bool: ...

    def save(self, change: Change, kept: KeptAnswer | None = None) -> Case | None:
        """All or nothing, with ``kept`` if given; ``Conflict`` when the case or a task changed
        since it was read; ``DependencyUnavailable`` when the request's answer is kept already
        (nothing is written: the kept answer is the request's)."""
        ...

    def next_number(self, counter: str) -> int: ...

    def due(self, now: datetime, after: str | None = None) -> Iterable[DueItem]:
        """The entries due at ``now``, in index order, from just after the position ``after``."""
        ...

    def sweep_cursor(self) -> SweepCursor: ...

    def save_sweep_cursor(self, cursor: SweepCursor) -> SweepCursor:
        """Store it if the stored record is still at ``cursor.version``, else ``Conflict``; returns
        it at its new version."""
        ...


class Catalog(Protocol):
    def matter(self, code: str) -> Matter | None: ...


class HeldPage(NamedTuple):
    """A page of a holder's certificates, newest first; ``next_key`` None at the end."""

    certificates: list[Certificate]
    next_key: dict[str, Any] | None


class Signed(NamedTuple):
    key_id: str
    signature: bytes
    algorithm: SigningAlgorithm


class Link(NamedTuple):
    """Where a stored object can be fetched, until ``expires_at``."""

    url: str
    expires_at: datetime


class CertificateLibrary(Protocol):
    def get(self, identifier: str) -> Certificate | None: ...

    def library(self, holder_id: str) -> list[Certificate]:
        """Every certificate of the holder, valid or not."""
        ...

    def page(self, holder_id: str, limit: int, start: dict[str, Any] | None) -> HeldPage:
        """At most ``limit`` of the holder's certificates, newest first, from ``start``."""
        ...


class Gateway(Protocol):
    def start_execution(self, case_id: str, name: str, resume: bool) -> str: ...

    def publish(self, event: DomainEvent) -> None:
        """An event that belongs to no stored case (an application refused at intake)."""
        ...

    def sign(self, message: bytes) -> Signed:
        """With the certificate key, in the algorithm the region's key has (SM2 or ECDSA P-256)."""
        ...

    def verify(self, key_id: str, message: bytes, signature: bytes, algorithm: SigningAlgorithm) -> bool: ...

    def store_rendering(self, key: str, png: bytes) -> None:
        """Write (or write again: the same picture) a certificate's rendering."""
        ...

    def rendering_link(self, key: str) -> Link: ...

    def verification_address(self, identifier: str) -> str:
        """The public address that verifies a certificate: what its QR code carries."""
        ...

    def count(self, metric: str, dimensions: dict[str, str]) -> None: ...


class Ports(NamedTuple):
    cases: CaseRepository
    catalog: Catalog
    certificates: CertificateLibrary
    gateway: Gateway


_installed: list[Ports] = []


def install(ports: Ports | None) -> None:
    """Wire the services to these ports (None: back to the AWS adapters)."""
    _installed.clear()
    if ports is not None:
        _installed.append(ports)


def ports() -> Ports:
    if not _installed:
        from zerovisit.adapters.wiring import aws_ports

        _installed.append(aws_ports())
    return _installed[0]
