"""`make load`: a load run against the local runtime, with figures to check it by.

Submits ``--count`` applications (default 1,000) from 10 threads, half on the service network's
bus and half through the signed HTTP API: 5 % exact duplicates, 5 % the same application id with
different content, 5 % invalid. The partner simulator answers every task until every case has
ended or ``--timeout`` seconds of real time have passed. Prints the figures, one per line, and
exits 1 when something was lost or doubled, a valid application's case did not end completed (its
status read from the case record), an invalid or conflicting submission has no recorded refusal,
or a dead-letter queue is not empty.

Throughput is given twice for the first and the last 100 cases: as cases ended per second (capped
by ``--per-second`` when the runtime keeps up) and from each case's own time, submission to end,
which grows when the runtime falls behind whatever the input rate.

    .venv/bin/python -m infra.bench.load [--count N] [--threads K] [--timeout S] [--seed N]
        [--per-second R] [--concurrent]
"""

import argparse
import copy
import json
import logging
import queue
import random
import resource
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any, Literal

from zerovisit.clock import clock
from zerovisit.domain.model import CLOSED_STATUSES, CaseStatus
from zerovisit.errors import CaseNotFound
from zerovisit.storage import cases as case_records

from infra.bench.pipeline import FailedInvocations
from infra.local.partners import PartnerSimulator, Script
from infra.local.runtime import ROOT, LocalRuntime

EVENTS = ROOT / "events"
VALID_SAMPLE = "application_submitted.business_startup"
INVALID_SAMPLES = (
    "application_submitted.business_startup.invalid",
    "application_submitted.industrial_construction_permit.invalid",
    "application_submitted.real_estate_transfer.invalid",
)
SOURCE, DETAIL_TYPE = "gov.service-network", "ApplicationSubmitted"
ENDINGS = ("CaseCompleted", "CaseClosed", "CaseFailed")  # a failed case waits for operations
PROGRESS_SECONDS = 5.0
STATUS_CHECK_SECONDS = 15.0
WINDOW = 100  # cases, for the throughput at the start and at the end
IDLE_SECONDS = 0.1  # between polls of an empty queue: polling costs moto work that handlers wait for

Kind = Literal["valid", "duplicate", "conflicting", "invalid"]
Channel = Literal["bus", "api"]


@dataclass
class Submission:
    kind: Kind
    channel: Channel
    detail: dict[str, Any]
    answer: str = ""  # the API's status and body, or the bus's acceptance
    sent_at: float | None = None  # time.monotonic() when it was sent

    @property
    def application_id(self) -> str:
        return str(self.detail["application_id"])


@dataclass
class Outcomes:
    """What the case bus said, as a subscriber sees it."""

    endings: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    ended_at: dict[str, float] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ended(self) -> set[str]:
        with self.lock:
            return set(self.ended_at)

    def take(self, event: dict[str, Any], now: float) -> None:
        with self.lock:
            self._take(event, now)

    def _take(self, event: dict[str, Any], now: float) -> None:
        detail = event["detail"]
        if event["detail-type"] == "ApplicationRejected":
            if detail.get("application_id"):
                self.refused.add(str(detail["application_id"]))
            return
        if event["detail-type"] in ENDINGS:
            case_id = str(detail["case_id"])
            # at least once: a repeat carries the same event_id and is not a second ending
            identity = str(detail.get("event_id") or json.dumps(detail, sort_keys=True, ensure_ascii=False))
            self.endings[case_id].add(f"{event['detail-type']}:{identity}")
            self.ended_at.setdefault(case_id, now)


def sample(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return event


def plan(count: int, seed: int) -> list[Submission]:
    """The submissions in the order they are made: every 20th application of each kind (5 %)."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    run = f"{seed:04d}{int(time.time()) % 100000:05d}"
    per_cent_5 = count // 20
    originals = count - 3 * per_cent_5
    valid = sample(VALID_SAMPLE)["detail"]
    submissions: list[Submission] = []
    for n in range(originals):
        detail = copy.deepcopy(valid)
        detail["application_id"] = f"LOAD-{run}-{n:05d}"
        submissions.append(Submission("valid", "bus", detail))
    for original in rng.sample(submissions[:originals], per_cent_5):
        submissions.append(Submission("duplicate", "bus", copy.deepcopy(original.detail)))
    for original in rng.sample(submissions[:originals], per_cent_5):
        changed = copy.deepcopy(original.detail)
        changed["delivery"]["address"] = changed["delivery"]["address"] + "（改）"
        submissions.append(Submission("conflicting", "bus", changed))
    for n in range(per_cent_5):
        detail = copy.deepcopy(sample(INVALID_SAMPLES[n % len(INVALID_SAMPLES)])["detail"])
        detail["application_id"] = f"LOAD-{run}-INVALID-{n:05d}"
        submissions.append(Submission("invalid", "bus", detail))
    rng.shuffle(submissions)
    for index, submission in enumerate(submissions):
        submission.channel = "bus" if index % 2 == 0 else "api"
    return submissions


def submit_all(
    runtime: LocalRuntime, submissions: list[Submission], threads: int, per_second: float | None = None
) -> list[threading.Thread]:
    """The submissions from ``threads`` threads; with ``per_second``, the n-th is sent no earlier than
    n / per_second seconds after the start, so that the run reaches a steady state whose throughput
    at the start and at the end can be compared (all at once, the end only drains a backlog). None
    or 0: as fast as the runtime takes them."""
    work: queue.SimpleQueue[tuple[int, Submission]] = queue.SimpleQueue()
    for index, submission in enumerate(submissions):
        work.put((index, submission))
    start = time.monotonic()

    def submitter() -> None:
        while True:
            try:
                index, submission = work.get_nowait()
            except queue.Empty:
                return
            if per_second:
                time.sleep(max(0.0, start + index / per_second - time.monotonic()))
            submission.sent_at = time.monotonic()
            if submission.channel == "bus":
                runtime.put_event(SOURCE, DETAIL_TYPE, submission.detail)
                submission.answer = "put"
            else:
                response = runtime.signed_http("service-network", "POST", "/applications", submission.detail)
                body = response.body if isinstance(response.body, dict) else {}
                submission.answer = f"{response.status} created={body.get('created')}"

    started = [threading.Thread(target=submitter, name=f"submitter-{n}") for n in range(threads)]
    for thread in started:
        thread.start()
    return started


class Subscriber:
    """The case bus's outbound events through a rule and a queue, as a subscriber would see them."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.sqs = runtime.client("sqs")
        events = runtime.client("events")
        name = f"load-outbound-{int(time.time())}"
        self.url = self.sqs.create_queue(QueueName=name)["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        bus = runtime.outputs["CaseEventBusName"]
        events.put_rule(Name=name, EventBusName=bus, EventPattern='{"source": ["zerovisit.cases"]}')
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "load", "Arn": arn}])

    def follow(
        self, outcomes: Outcomes, stop: threading.Event, progress: Callable[[], None]
    ) -> threading.Thread:
        """Read on a thread of its own, so that each case's end is timed when it is published, and
        print the progress every few seconds."""

        def reader() -> None:
            last_progress = time.monotonic()
            while not stop.is_set():
                if not self.read(outcomes):
                    stop.wait(IDLE_SECONDS)
                if time.monotonic() - last_progress >= PROGRESS_SECONDS:
                    last_progress = time.monotonic()
                    progress()

        thread = threading.Thread(target=reader, name="subscriber", daemon=True)
        thread.start()
        return thread

    def read(self, outcomes: Outcomes) -> int:
        taken = 0
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            now = time.monotonic()
            for message in messages:
                outcomes.take(json.loads(message["Body"]), now)
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
                taken += 1
        return taken


def dead_letter_depths(runtime: LocalRuntime) -> dict[str, int]:
    sqs = runtime.client("sqs")
    depths = {}
    for logical, resource_ in sorted(runtime.template["Resources"].items()):
        if resource_["Type"] == "AWS::SQS::Queue" and "DeadLetter" in logical:
            attributes = sqs.get_queue_attributes(
                QueueUrl=runtime.queue_url(logical), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[logical] = int(attributes["ApproximateNumberOfMessages"])
    return depths


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rate(ended: list[float]) -> float:
    if len(ended) < 2:
        return 0.0
    span = ended[-1] - ended[0]
    return (len(ended) - 1) / span if span > 0 else float("inf")


def busy_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """The length of the union of the intervals: the time at least one of them was open."""
    total, reach = 0.0, float("-inf")
    for opened, ended in sorted(intervals):
        if ended > reach:
            total += ended - max(opened, reach)
            reach = ended
    return total


@dataclass(frozen=True)
class Window:
    """A window of cases by the time they ended: cases ended per second, and from the cases' own
    times (submission to end), which the input rate does not cap."""

    cases: int
    ended_per_second: float
    processed_per_second: float
    median_case_seconds: float


def window(times: list[tuple[float, float]]) -> Window:
    """The figures of cases given as (opened, ended), in the order they ended."""
    busy = busy_seconds(times)
    return Window(
        cases=len(times),
        ended_per_second=rate([ended for _, ended in times]),
        processed_per_second=len(times) / busy if busy > 0 else float("inf"),
        median_case_seconds=median(ended - opened for opened, ended in times) if times else 0.0,
    )


def case_times(submissions: list[Submission], ended_at: dict[str, float]) -> list[tuple[float, float]]:
    """(first sent, ended) of each valid application's case that ended, in the order they ended."""
    opened: dict[str, float] = {}
    for s in submissions:
        if s.sent_at is not None and s.application_id in ended_at:
            opened[s.application_id] = min(s.sent_at, opened.get(s.application_id, s.sent_at))
    valid = {s.application_id for s in submissions if s.kind == "valid"}
    return sorted(((opened[c], ended_at[c]) for c in valid & opened.keys()), key=lambda t: t[1])


@dataclass(frozen=True)
class Accounts:
    """What became of the submissions, by the case records and the refusals on record."""

    cases: frozenset[str]  # application ids with a case record
    completed: frozenset[str]  # valid applications whose case's status is completed
    ended_otherwise: Counter[str]  # valid applications' cases closed with another status, by status
    lost: frozenset[str]  # valid applications with no case, or whose case has not closed
    doubled: frozenset[str]  # a case ended twice, or a case for an invalid application
    refused: frozenset[str]  # application ids with a refusal on record
    invalid_unrefused: frozenset[str]
    conflicting_unrefused: frozenset[str]

    def healthy(self, expected: set[str]) -> bool:
        return (
            not self.lost
            and not self.doubled
            and not self.invalid_unrefused
            and not self.conflicting_unrefused
            and self.completed == expected
        )


def account(
    submissions: list[Submission],
    statuses: dict[str, CaseStatus | None],
    endings: dict[str, set[str]],
    refused_on_bus: set[str],
) -> Accounts:
    """``statuses``: each application id's case status from its record (None: no case);
    ``endings``: the distinct closing events seen per case; ``refused_on_bus``: the application ids
    an ApplicationRejected named. A refusal is on record when the bus carried it or the API answered
    the submission with a 4xx; a conflicting submission's refusal may fall on its original, when the
    conflicting one came first."""
    ids = {s.application_id for s in submissions}
    expected = {s.application_id for s in submissions if s.kind == "valid"}
    cases = {c for c, status in statuses.items() if status is not None}
    closed = {c for c, status in statuses.items() if status is not None and status in CLOSED_STATUSES}
    completed = {c for c, status in statuses.items() if status is CaseStatus.COMPLETED} & expected
    api_refused = {s.application_id for s in submissions if s.answer[:1] == "4"}
    refused = (refused_on_bus | api_refused) & ids
    invalid = {s.application_id for s in submissions if s.kind == "invalid"}
    conflicting = {s.application_id for s in submissions if s.kind == "conflicting"}
    # a failure is not an ending: a resumed case ends once more, after its CaseFailed
    doubled = {c for c, seen in endings.items() if len(_closings(seen)) > 1} | (cases - expected)
    otherwise = Counter(str(statuses[c]) for c in (expected & closed) - completed)
    return Accounts(
        cases=frozenset(cases),
        completed=frozenset(completed),
        ended_otherwise=otherwise,
        lost=frozenset(expected - closed),
        doubled=frozenset(doubled),
        refused=frozenset(refused),
        invalid_unrefused=frozenset(invalid - refused),
        conflicting_unrefused=frozenset(conflicting - refused),
    )


def _closings(seen: set[str]) -> set[str]:
    return {ending for ending in seen if not ending.startswith("CaseFailed:")}


def case_statuses(runtime: LocalRuntime, ids: Iterable[str]) -> dict[str, CaseStatus | None]:
    """Each application's case status from its case record; None where there is no case."""
    statuses: dict[str, CaseStatus | None] = {}
    with runtime.exclusive():
        for case_id in ids:
            try:
                statuses[case_id] = case_records.get_case(case_id).status
            except CaseNotFound:
                statuses[case_id] = None
    return statuses


def run(
    count: int, threads: int, timeout: float, seed: int, concurrent: bool, per_second: float | None = None
) -> int:
    started = time.monotonic()
    clock.set(datetime.fromisoformat(sample(VALID_SAMPLE)["detail"]["submitted_at"]))
    print(f"Starting the local runtime; {count} applications from {threads} threads", flush=True)
    with LocalRuntime() as runtime:
        logging.getLogger("zerovisit").setLevel(logging.WARNING)  # the handlers' info lines, one per step
        runtime.silence_metrics()  # and their metric lines
        runtime.concurrent = concurrent
        failed = FailedInvocations(runtime)
        subscriber = Subscriber(runtime)
        # Partners answer at once: the domain clock stays where the applications were submitted.
        simulator = PartnerSimulator(runtime, Script(latency={}))
        submissions = plan(count, seed)
        expected = {s.application_id for s in submissions if s.kind == "valid"}
        outcomes = Outcomes()
        stop_reading = threading.Event()
        load_started = time.monotonic()

        def progress() -> None:
            print(
                f"  {time.monotonic() - load_started:6.0f}s  "
                f"submitted {sum(1 for s in submissions if s.answer)}/{len(submissions)}  "
                f"ended {len(outcomes.ended())}/{len(expected)}  partner answers {len(simulator.exchanges)}  "
                f"RSS peak {peak_rss_mb():.0f} MB",
                flush=True,
            )

        reader = subscriber.follow(outcomes, stop_reading, progress)
        submitters = submit_all(runtime, submissions, threads, per_second)
        deadline = load_started + timeout
        statuses: dict[str, str] = {}
        last_status_check = load_started
        while time.monotonic() < deadline:
            answered = simulator.answer_pending()
            submitting = any(t.is_alive() for t in submitters)
            now = time.monotonic()
            open_cases = expected - outcomes.ended() - {c for c, s in statuses.items() if s != "RUNNING"}
            if now - last_status_check >= STATUS_CHECK_SECONDS and not submitting:
                last_status_check = now
                for case_id in open_cases:
                    statuses[case_id] = runtime.execution_status(case_id) or "NONE"
            if not submitting and not open_cases:
                break
            if not answered:
                time.sleep(IDLE_SECONDS)
        timed_out = time.monotonic() >= deadline
        for thread in submitters:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        stop_reading.set()
        reader.join()
        subscriber.read(outcomes)
        summary = report(runtime, submissions, expected, outcomes, started, load_started, timed_out, timeout)
        print_failures(failed)
        return summary


def print_failures(failed: FailedInvocations) -> None:
    """Failed invocations are not lost cases (steps are retried), but each is worth a look."""
    kinds = Counter((f.function, f.error) for f in failed.failures)
    listed = ", ".join(f"{function} {error} x{n}" for (function, error), n in kinds.most_common(5))
    print(f"failed invocations: {len(failed.failures)}" + (f" ({listed})" if listed else ""))


def report(
    runtime: LocalRuntime,
    submissions: list[Submission],
    expected: set[str],
    outcomes: Outcomes,
    started: float,
    load_started: float,
    timed_out: bool,
    timeout: float,
) -> int:
    ids = {s.application_id for s in submissions}
    statuses = case_statuses(runtime, sorted(ids))
    accounts = account(submissions, statuses, outcomes.endings, outcomes.refused)
    depths = dead_letter_depths(runtime)
    invalid = {s.application_id for s in submissions if s.kind == "invalid"}
    conflicting = [s for s in submissions if s.kind == "conflicting"]
    channels = Counter(s.channel for s in submissions)
    conflict_answers = Counter(s.answer for s in conflicting)

    print()
    if timed_out:
        print(f"WARNING: stopped after {timeout:.0f}s of real time with cases still open")
    print(f"submitted: {len(submissions)}")
    print(f"  by channel: bus {channels['bus']}, api {channels['api']}")
    kinds = Counter(s.kind for s in submissions)
    print(
        f"  valid {kinds['valid']}, exact duplicates {kinds['duplicate']}, "
        f"same id with other content {kinds['conflicting']}, invalid {kinds['invalid']}"
    )
    print(f"cases: {len(accounts.cases)}")
    print(f"completed: {len(accounts.completed)}")
    if accounts.ended_otherwise:
        listed = ", ".join(f"{status} {n}" for status, n in sorted(accounts.ended_otherwise.items()))
        print(f"  closed otherwise: {listed}")
    print(f"refused: {len(accounts.refused)}")
    print(f"  invalid refused {len(invalid) - len(accounts.invalid_unrefused)} of {len(invalid)}")
    print(
        f"  same id with other content refused {len(conflicting) - len(accounts.conflicting_unrefused)} "
        f"of {len(conflicting)}: "
        + ", ".join(f"{answer or 'unanswered'} x{n}" for answer, n in conflict_answers.most_common())
    )
    print(f"lost: {len(accounts.lost)}")
    print(f"doubled: {len(accounts.doubled)}")
    for name, depth in depths.items():
        print(f"dead-letter queue {name}: {depth}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")
    times = case_times(submissions, outcomes.ended_at)
    if len(times) >= 2:
        for name, part in (("first", times[:WINDOW]), ("last", times[-WINDOW:])):
            figures = window(part)
            print(f"throughput, {name} {figures.cases} cases: {figures.ended_per_second:.2f} cases/s")
            print(
                f"  processed, {name} {figures.cases} cases: {figures.processed_per_second:.2f} cases/s "
                f"(median case time {figures.median_case_seconds:.1f}s)"
            )
    print(f"load time: {time.monotonic() - load_started:.1f}s")
    print(f"total time: {time.monotonic() - started:.1f}s")
    for case_id in sorted(accounts.lost)[:5]:
        print(
            f"  lost {case_id}: case {statuses.get(case_id)}, execution {runtime.execution_status(case_id)}"
        )
    for case_id in sorted(accounts.invalid_unrefused | accounts.conflicting_unrefused)[:5]:
        print(f"  no refusal on record for {case_id}")
    healthy = accounts.healthy(expected) and not any(depths.values())
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="applications to submit (default 1000)")
    parser.add_argument("--threads", type=int, default=10, help="submitting threads (default 10)")
    parser.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds of real time before giving up (default 3600)"
    )
    parser.add_argument("--seed", type=int, default=1, help="the plan's random seed")
    parser.add_argument(
        "--per-second",
        type=float,
        default=None,
        help="submit at this steady rate (default, or 0: as fast as the runtime takes them), so that "
        "the first and the last 100 cases compare throughput in a steady state",
    )
    parser.add_argument(
        "--concurrent",
        action="store_true",
        help="handlers run at the same time, as in Lambda (races exercised)",
    )
    args = parser.parse_args(argv)
    if args.count < 20:
        parser.error("--count must be at least 20, so that each 5 % is at least one application")
    if args.per_second is not None and args.per_second < 0:
        parser.error("--per-second must be 0 (as fast as the runtime takes them) or more")
    logging.getLogger().setLevel(logging.WARNING)
    return run(args.count, args.threads, args.timeout, args.seed, args.concurrent, args.per_second)


if __name__ == "__main__":
    sys.exit(main())
