"""How long the scheduled sweep takes on the local runtime when N case alarms are due at once.

One real business start-up case is taken in and left waiting on its departments (no partner
answers). Its case item is then copied N times under new case ids (every attribute that names the
case rewritten, the alarm shard recomputed), and the domain clock is moved past the statutory limit,
so that every copy has its warning and overdue alarms due. The sweeper function is then invoked once,
as its schedule would, and timed; its AWS calls are counted. Prints figures and records them in
.bench/latest.json (section ``sweep``); it asserts nothing.

    .venv/bin/python -m infra.bench.sweep_scale [--due 1000 10000] [--limit-seconds 300]
"""

import argparse
import json
import sys
import threading
import time
from datetime import timedelta
from typing import Any

from zerovisit.clock import clock
from zerovisit.storage import cases

from infra.bench.calls import CallMeter
from infra.bench.pipeline import fresh_detail, load_sample, quiet_moto, submit, submitted_at
from infra.bench.results import record
from infra.local.runtime import LocalRuntime

PROGRESS_EVERY = 500
PAST_THE_LIMIT = timedelta(days=40)
BATCH = 25


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
    table = runtime.resources["CasesTable"]
    client = runtime.client("dynamodb")
    ids = [f"{case_id}-{number:06d}" for number in range(due)]
    started = time.perf_counter()
    for start in range(0, due, BATCH):
        requests = [
            {"PutRequest": {"Item": copy_of(item, case_id, new)}} for new in ids[start : start + BATCH]
        ]
        with runtime.exclusive():
            client.batch_write_item(RequestItems={table: requests})
    print(f"  loaded {due} copies of the waiting case in {time.perf_counter() - started:.1f} s", flush=True)
    return ids


class SweepTimedOut(Exception):
    """Raised inside the sweep at the real-time bound, as Lambda's timeout would end it."""


def timed_sweep(runtime: LocalRuntime, limit_seconds: float) -> dict[str, Any]:
    """Invoke the sweeper function once; report progress from the case reads it makes, and end it
    (an error out of the function, as a Lambda timeout) when the bound has passed."""
    read = {"cases": 0}
    original = cases.get_case
    started = time.perf_counter()

    def counting(case_id: str) -> Any:
        if time.perf_counter() - started > limit_seconds:
            raise SweepTimedOut(f"bound of {limit_seconds:.0f} s reached")
        read["cases"] += 1
        if read["cases"] % PROGRESS_EVERY == 0:
            print(f"    {read['cases']:>6} cases read, {time.perf_counter() - started:7.1f} s", flush=True)
        return original(case_id)

    cases.get_case = counting
    outcome: dict[str, Any] = {}

    def run() -> None:
        event = {"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}}
        outcome["payload"], outcome["failed"] = runtime.invoke(runtime.resources["SweeperFunction"], event)

    worker = threading.Thread(target=run, daemon=True)
    try:
        worker.start()
        worker.join(limit_seconds + 120)
    finally:
        cases.get_case = original
    elapsed = time.perf_counter() - started
    return {
        "finished": not worker.is_alive() and not outcome.get("failed"),
        "seconds": round(elapsed, 1),
        "cases_read": read["cases"],
        "result": outcome.get("payload"),
        "failed": outcome.get("failed"),
    }


def bench(due: int, limit_seconds: float) -> dict[str, Any]:
    print(f"== sweep with {due} due case alarms (a fresh local runtime)")
    runtime = LocalRuntime()
    try:
        runtime.start()
        meter = CallMeter(runtime).install()
        case_id, item = waiting_case(runtime)
        load_copies(runtime, case_id, item, due)
        clock.advance(PAST_THE_LIMIT)
        with meter.window() as usage:
            figures = timed_sweep(runtime, limit_seconds)
        meter.uninstall()
    finally:
        runtime.stop()
        clock.reset()
    rate = figures["cases_read"] / figures["seconds"] if figures["seconds"] else 0.0
    state = "finished" if figures["finished"] else f"STOPPED at the {limit_seconds:.0f} s bound"
    print(
        f"  sweep {state}: {figures['seconds']} s, {figures['cases_read']} cases read ({rate:.1f} a second);"
        f" result {figures['result']}"
    )
    print(f"  AWS calls: {usage.total_calls} " + json.dumps(usage.by_service()))
    return {**figures, "due": due, "cases_per_s": round(rate, 2), "calls": usage.by_service()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--due", type=int, nargs="+", default=[1000, 10000], help="due alarms (default 1000 10000)"
    )
    parser.add_argument(
        "--limit-seconds", type=float, default=900.0, help="real-time bound per sweep (default 900)"
    )
    args = parser.parse_args(argv)
    if min(args.due) < 1 or args.limit_seconds <= 0:
        parser.error("--due must be at least 1 and --limit-seconds positive")
    quiet_moto()
    runs = [bench(due, args.limit_seconds) for due in args.due]
    record("sweep", {"runs": runs, "lambda_timeout_seconds": 300})
    return 0


if __name__ == "__main__":
    sys.exit(main())
