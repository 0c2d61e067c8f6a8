"""How the scheduled sweep works through N due case alarms on the local runtime, in invocations
bounded by the function's timeout.

One real business start-up case is taken in and left waiting on its departments (no partner
answers). Its case item is then copied N times under new case ids (every attribute that names the
case rewritten, the alarm shard recomputed), written straight into moto's table (seeding is not
what is measured), and the domain clock is moved past the statutory limit, so that every copy has
its warning and overdue alarms due. The sweeper function is then invoked once, as its schedule
would. Each invocation works while its Lambda time lasts (the template's Timeout, or
``--timeout-seconds``; the remaining time runs on the domain clock, which flows in real time),
stores its cursor and invokes itself asynchronously; the local runtime runs each continuation once
the invocation before it has returned. Measured is the sweeper alone: the stream records of its
writes are counted and dropped, not delivered to the relay (in AWS the relay drains them in
parallel, in its own invocations; the load bench measures it), and what the function prints
(its logs and EMF metrics, eight lines a case) is formatted as usual but thrown away rather than
written to the terminal.

Reported: due items; invocations (scheduled and continuations), each one's items and seconds; the
total time; the sweeper's AWS calls per item; and, read back from moto's table, whether every
copy was written exactly once with its four alarms. A run that passes ``--limit-seconds`` is ended
(the invocation under way fails at its next case read, as a Lambda timeout would end it, and no
continuation runs after it) and says how far it got. Figures go to .bench/latest.json (section
``sweep``); the bench asserts nothing.

    .venv/bin/python -m infra.bench.sweep_scale [--due 1000 10000] [--timeout-seconds 300]
        [--limit-seconds 1500]
"""

import argparse
import contextlib
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from botocore.client import BaseClient
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DynamoType
from zerovisit.clock import clock
from zerovisit.storage import cases, sweeps

from infra.bench.pipeline import fresh_detail, load_sample, quiet_moto, submit, submitted_at
from infra.bench.results import record
from infra.local.runtime import REGION, LocalRuntime

SWEEPER = "SweeperFunction"
PAST_THE_LIMIT = timedelta(days=40)
ALARMS = ["promised:overdue", "promised:warning", "statutory:overdue", "statutory:warning"]
SCHEDULED_EVENT = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}


def waiting_case(runtime: LocalRuntime, seconds: float = 60.0) -> tuple[str, dict[str, Any]]:
    """Take in one case and return its id and case item once it has an alarm moment (accepted)."""
    sample = load_sample()
    clock.set(submitted_at(sample))
    case_id = submit(runtime, sample, fresh_detail(sample, "SWEEP", 0))
    table = runtime.resources["CasesTable"]
    client = runtime.client("dynamodb")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with runtime.exclusive():
            item = client.get_item(TableName=table, Key=_key(case_id), ConsistentRead=True).get("Item")
        if item and "next_alarm_at" in item:
            return case_id, item
        time.sleep(0.05)
    raise TimeoutError(f"case {case_id} was not accepted within {seconds:.0f} s")


def _key(case_id: str) -> dict[str, Any]:
    return {"pk": {"S": cases.case_pk(case_id)}, "sk": {"S": cases.CASE_SK}}


def copy_of(item: dict[str, Any], case_id: str, new_id: str) -> dict[str, Any]:
    text = json.dumps(item, ensure_ascii=False).replace(case_id, new_id)
    copied: dict[str, Any] = json.loads(text)
    copied["alarm_shard"] = {"S": cases.alarm_shard(new_id)}
    return copied


def load_copies(runtime: LocalRuntime, case_id: str, item: dict[str, Any], due: int) -> list[str]:
    """N copies of the case item, put into moto's table directly (what BatchWriteItem would store,
    without the request round trips). Call inside ``runtime.exclusive()``."""
    table = _cases_table(runtime)
    ids = [f"{case_id}-{number:06d}" for number in range(due)]
    started = time.perf_counter()
    for new in ids:
        table.put_item(copy_of(item, case_id, new))
    print(f"  loaded {due} copies of the waiting case in {time.perf_counter() - started:.1f} s", flush=True)
    return ids


def _cases_table(runtime: LocalRuntime) -> Any:
    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(runtime.resources["CasesTable"])


class Discard:
    """A stdout that keeps nothing."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class BenchBound(Exception):
    """Raised inside the sweep once the bench's real-time bound has passed, as a timeout would end it."""


@dataclass
class Invocation:
    kind: str  # scheduled, continuation
    seconds: float = 0.0
    items: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    result: Any = None


@dataclass
class SweepRun:
    """Every sweeper invocation of the run, timed inside the handler (the relay's delivery of the
    outbox between invocations is not the sweeper's), with its AWS calls."""

    runtime: LocalRuntime
    limit_seconds: float
    progress_every: int
    invocations: list[Invocation] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    bound_passed: bool = False
    reads: int = 0
    stream_records: int = 0
    _local: threading.local = field(default_factory=threading.local)
    out: Any = field(default_factory=lambda: sys.stdout)

    def install(self) -> None:
        real_handler = self.runtime._handlers[SWEEPER]
        real_call = BaseClient._make_api_call  # type: ignore[attr-defined]
        real_read = cases.get_case
        run = self

        def handler(event: dict[str, Any], context: Any) -> Any:
            invocation = Invocation("continuation" if event.get("continue") else "scheduled")
            if run.bound_passed:
                invocation.result = {"bench_stopped": 1}  # the bound has passed: no more continuations
                return invocation.result
            run.invocations.append(invocation)
            run._local.current = invocation
            started = time.perf_counter()
            try:
                with contextlib.redirect_stdout(Discard()):
                    invocation.result = real_handler(event, context)
                return invocation.result
            finally:
                invocation.seconds = time.perf_counter() - started
                run._local.current = None
                run.stream_records += run.runtime.streams.discard()
                print(
                    f"    invocation {len(run.invocations)} ({invocation.kind}): {invocation.items} items"
                    f" in {invocation.seconds:.1f} s; {invocation.result}",
                    file=run.out,
                    flush=True,
                )

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            current = getattr(run._local, "current", None)
            if current is not None:
                current.calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
            return real_call(client, operation, params)

        def get_case(case_id: str) -> Any:
            elapsed = time.perf_counter() - run.started
            if elapsed > run.limit_seconds:
                run.bound_passed = True
                raise BenchBound(f"bound of {run.limit_seconds:.0f} s reached")
            current = getattr(run._local, "current", None)
            if current is not None:
                current.items += 1
            run.reads += 1
            if run.reads % run.progress_every == 0:
                print(f"      {run.reads:>7} cases read, {elapsed:7.1f} s", file=run.out, flush=True)
            return real_read(case_id)

        def held(wait: bool = False) -> int:
            return 0  # the records are counted and dropped after each invocation

        real_drain = self.runtime.streams.drain
        self.runtime._handlers[SWEEPER] = handler
        BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]
        cases.get_case = get_case
        self.runtime.streams.drain = held  # type: ignore[method-assign]
        self._undo = (real_handler, real_call, real_read, real_drain)

    def uninstall(self) -> None:
        real_handler, real_call, real_read, real_drain = self._undo
        self.runtime._handlers[SWEEPER] = real_handler
        BaseClient._make_api_call = real_call  # type: ignore[attr-defined]
        cases.get_case = real_read
        self.runtime.streams.drain = real_drain  # type: ignore[method-assign]


def written_once(runtime: LocalRuntime, ids: list[str], version: int) -> dict[str, int]:
    """Each copy read back from moto's table: written once by the sweep with its four alarms, not
    written, or written more than once (or with alarms missing or repeated)."""
    table = _cases_table(runtime)
    outcome: Counter[str] = Counter()
    for case_id in ids:
        item = table.get_item(DynamoType({"S": cases.case_pk(case_id)}), DynamoType({"S": cases.CASE_SK}))
        written = int(item.attrs["version"].value) - version
        alarms = sorted(json.loads(item.attrs["body"].value)["alarms_raised"])
        if written == 0:
            outcome["not_handled"] += 1
        elif written == 1 and alarms == ALARMS:
            outcome["handled_once"] += 1
        else:
            outcome["handled_wrongly"] += 1
    return dict(outcome)


def bench(due: int, timeout_seconds: float | None, limit_seconds: float) -> dict[str, Any]:
    print(f"== sweep of {due} due case alarms (a fresh local runtime)", flush=True)
    runtime = LocalRuntime()
    try:
        runtime.start()
        if timeout_seconds is not None:
            runtime.timeouts[SWEEPER] = timeout_seconds
        case_id, item = waiting_case(runtime)
        with runtime.exclusive():
            ids = load_copies(runtime, case_id, item, due)
        version = int(item["version"]["N"])
        clock.advance(PAST_THE_LIMIT)
        run = SweepRun(runtime, limit_seconds, progress_every=max(100, due // 20))
        run.install()
        try:
            run.started = time.perf_counter()
            runtime.invoke(runtime.resources[SWEEPER], SCHEDULED_EVENT)
            total = time.perf_counter() - run.started
        finally:
            run.uninstall()
        outcome = written_once(runtime, ids, version)
        figures = _figures(run, due, total, runtime.timeouts[SWEEPER], outcome)
        figures["stream_records_not_delivered"] = run.stream_records
        with runtime.exclusive():
            cursor = sweeps.get_cursor()
        figures["cursor"] = {
            "position_stored": cursor.position is not None,
            "taken_in_pass": cursor.taken_in_pass,
            "lease_held": cursor.owner is not None,
        }
    finally:
        runtime.stop()
        clock.reset()
    _report(figures)
    return figures


def _figures(
    run: SweepRun, due: int, total: float, timeout: float, outcome: dict[str, int]
) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    for invocation in run.invocations:
        calls.update(invocation.calls)
    items = sum(i.items for i in run.invocations)
    handled = outcome.get("handled_once", 0)
    sweeper_seconds = sum(i.seconds for i in run.invocations)
    return {
        "due": due,
        "lambda_timeout_seconds": timeout,
        "finished": outcome.get("handled_once", 0) == due and not run.bound_passed,
        "stopped_at_bound": run.bound_passed,
        "invocations": len(run.invocations),
        "scheduled": sum(i.kind == "scheduled" for i in run.invocations),
        "continuations": sum(i.kind == "continuation" for i in run.invocations),
        "per_invocation": [
            {"kind": i.kind, "items": i.items, "seconds": round(i.seconds, 1)} for i in run.invocations
        ],
        "total_seconds": round(total, 1),
        "sweeper_seconds": round(sweeper_seconds, 1),
        "items_read": items,
        "items_per_second": round(items / sweeper_seconds, 1) if sweeper_seconds else 0.0,
        "aws_calls": sum(calls.values()),
        "aws_calls_per_item": round(sum(calls.values()) / items, 2) if items else 0.0,
        "calls": dict(sorted(calls.items())),
        "copies": outcome,
        "every_copy_handled_once": handled == due,
    }


def _report(f: dict[str, Any]) -> None:
    state = "finished" if f["finished"] else "STOPPED at the bench's bound"
    print(f"  {state}: {f['due']} due, Lambda timeout {f['lambda_timeout_seconds']:.0f} s")
    print(
        f"  invocations: {f['invocations']} ({f['scheduled']} scheduled, {f['continuations']} continuations)"
    )
    for number, invocation in enumerate(f["per_invocation"], 1):
        print(
            f"    {number:>3} {invocation['kind']:<12} {invocation['items']:>7} items"
            f" {invocation['seconds']:>7} s"
        )
    print(
        f"  total {f['total_seconds']} s (in the sweeper's handler {f['sweeper_seconds']} s);"
        f" {f['items_per_second']} items a second; {f['stream_records_not_delivered']} stream records"
        " for the relay, not delivered"
    )
    print(f"  AWS calls: {f['aws_calls']} ({f['aws_calls_per_item']} an item) {json.dumps(f['calls'])}")
    print(
        f"  copies read back: {f['copies']}; every copy handled exactly once: {f['every_copy_handled_once']}"
    )
    print(f"  the sweep cursor after the run: {f['cursor']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--due", type=int, nargs="+", default=[1000, 10000], help="due alarms (default 1000 10000)"
    )
    parser.add_argument(
        "--timeout-seconds",
        type=float,
        default=None,
        help="the sweeper's Lambda timeout (default: the template's)",
    )
    parser.add_argument(
        "--limit-seconds", type=float, default=1500.0, help="real-time bound per run (default 1500)"
    )
    args = parser.parse_args(argv)
    if min(args.due) < 1 or args.limit_seconds <= 0 or (args.timeout_seconds or 1) <= 0:
        parser.error("--due must be at least 1, --limit-seconds and --timeout-seconds positive")
    quiet_moto()
    runs = [bench(due, args.timeout_seconds, args.limit_seconds) for due in args.due]
    record("sweep", {"runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
