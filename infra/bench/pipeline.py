"""`make bench`: handler import time, local pipeline throughput, transitions per case, a profile.

Prints figures only; it asserts nothing. Run from the project root:

    .venv/bin/python -m infra.bench.pipeline [--cases N] [--concurrent K]
"""

import argparse
import copy
import cProfile
import json
import logging
import os
import pstats
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import boto3
from zerovisit.clock import clock

from infra.local.partners import PartnerSimulator
from infra.local.runtime import REGION, ROOT, LocalRuntime
from infra.local.template import load_template

SAMPLE = ROOT / "events" / "application_submitted.business_startup.json"
FUNCTIONS_DIR = ROOT / "functions"
SUCCEEDED = "SUCCEEDED"

# What the handlers read at import (cold_start); dummy values, nothing is called at import.
IMPORT_ENV = {
    "CASES_TABLE": "bench-cases",
    "CATALOG_TABLE": "bench-catalog",
    "CERTIFICATES_TABLE": "bench-certificates",
    "EVENT_BUS_NAME": "bench-bus",
    "CERTIFICATE_KEY_ID": "00000000-0000-0000-0000-000000000000",
    "AWS_DEFAULT_REGION": "us-east-1",
}

# Run in a fresh interpreter: times only the import of one function's app.py.
_IMPORT_CHILD = """
import importlib.util, json, sys, time
path, name = sys.argv[1], sys.argv[2]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[name] = module
spec.loader.exec_module(module)
elapsed = time.perf_counter() - started
if not callable(getattr(module, "handler", None)):
    raise SystemExit(f"{path} has no callable handler")
print(json.dumps({"seconds": elapsed, "modules": len(sys.modules)}))
"""


@dataclass
class CaseRun:
    case_id: str
    status: str
    seconds: float
    invocations: list[str] = field(default_factory=list)
    failures: list["Failure"] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    function: str
    error: str
    message: str


class FailedInvocations:
    """Records every Lambda invocation that ended in an error payload; runtime.invocations lists all."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.failures: list[Failure] = []
        self._logical = {physical: logical for logical, physical in runtime.resources.items()}
        self._invoke = runtime.invoke
        runtime.invoke = self.invoke  # type: ignore[method-assign]

    def invoke(self, function_name: str, event: Any) -> tuple[Any, bool]:
        payload, failed = self._invoke(function_name, event)
        if failed:
            name = function_name.split(":")[-1]
            self.failures.append(
                Failure(
                    self._logical.get(name, name),
                    str(payload.get("errorType")),
                    str(payload.get("errorMessage"))[:120],
                )
            )
        return payload, failed


# ---------------------------------------------------------------------- 1. handler import time
def import_environment() -> dict[str, str]:
    """The dummy variables above, plus every other variable the template gives functions: its literal
    value where it has one (POWERTOOLS_LOG_LEVEL must be a level), a dummy where it is an intrinsic."""
    template = load_template()
    declared: dict[str, Any] = dict(
        template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            declared.update(resource["Properties"].get("Environment", {}).get("Variables", {}))
    env = dict(os.environ)
    for name, value in declared.items():
        env[name] = str(value) if isinstance(value, str | int | float) else f"bench-{name.lower()}"
    env.update(IMPORT_ENV)
    return env


def time_import(app: Path, env: dict[str, str]) -> tuple[float, int]:
    """Seconds to import app.py in a fresh interpreter, and the number of modules it left loaded."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", _IMPORT_CHILD, str(app), f"bench_{app.parent.name}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(last)
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), int(figures["modules"])


def bench_imports(runs: int) -> None:
    apps = sorted(p / "app.py" for p in FUNCTIONS_DIR.iterdir() if (p / "app.py").is_file())
    env = import_environment()
    print(f"== handler import time (fresh interpreter per import, median of {runs} run(s) each)")
    medians: list[float] = []
    for app in apps:
        name = app.parent.name
        try:
            samples = [time_import(app, env) for _ in range(runs)]
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            print(f"  {name:<22} FAILED: {e}")
            continue
        ms = statistics.median(s for s, _ in samples) * 1000
        medians.append(ms)
        print(f"  {name:<22} {ms:7.1f} ms  ({samples[0][1]} modules in sys.modules)")
    if medians:
        print(
            f"  median over {len(medians)} functions: {statistics.median(medians):.1f} ms "
            f"(min {min(medians):.1f} ms, max {max(medians):.1f} ms)"
        )


# ---------------------------------------------------------------------- 2. pipeline throughput
def load_sample() -> dict[str, Any]:
    sample: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return sample


def fresh_detail(sample: dict[str, Any], label: str, number: int) -> dict[str, Any]:
    detail: dict[str, Any] = copy.deepcopy(sample["detail"])
    detail["application_id"] = f"BENCH-{label}-{number:04d}-{uuid4().hex[:8]}"
    return detail


def submitted_at(sample: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(sample["detail"]["submitted_at"])
    if moment.tzinfo is None:
        raise ValueError("the sample's submitted_at has no time zone")
    return moment


def submit(runtime: LocalRuntime, sample: dict[str, Any], detail: dict[str, Any]) -> str:
    runtime.put_event(sample["source"], sample["detail-type"], detail)
    return str(detail["application_id"])


def run_one(
    runtime: LocalRuntime,
    simulator: PartnerSimulator,
    failed: FailedInvocations,
    sample: dict[str, Any],
    label: str,
    number: int,
) -> CaseRun:
    """One case end to end: clock at submitted_at, submit, partners answer until the execution ends."""
    detail = fresh_detail(sample, label, number)
    clock.set(submitted_at(sample))
    first_invocation = len(runtime.invocations)
    first_failure = len(failed.failures)
    started = time.perf_counter()
    case_id = submit(runtime, sample, detail)
    try:
        status = simulator.run_until_closed(case_id)
    except TimeoutError:
        status = "TIMED OUT (bench, 60 s real time)"
    seconds = time.perf_counter() - started
    invoked = [name for name, _ in runtime.invocations[first_invocation:]]
    return CaseRun(case_id, status, seconds, invoked, failed.failures[first_failure:])


def bench_sequential(
    runtime: LocalRuntime, failed: FailedInvocations, sample: dict[str, Any], cases: int
) -> list[CaseRun]:
    simulator = PartnerSimulator(runtime)
    started = time.perf_counter()
    runs = [run_one(runtime, simulator, failed, sample, "S", i) for i in range(cases)]
    elapsed = time.perf_counter() - started
    per_case = [r.seconds * 1000 for r in runs]
    print(f"  throughput (sequential): {cases / elapsed:.2f} cases/s over {cases} cases in {elapsed:.2f} s")
    print(
        f"  latency per case: median {statistics.median(per_case):.0f} ms, "
        f"min {min(per_case):.0f} ms, max {max(per_case):.0f} ms"
    )
    report_statuses("sequential", {r.case_id: r.status for r in runs})
    report_failures("sequential", [f for r in runs for f in r.failures])
    return runs


def bench_concurrent(
    runtime: LocalRuntime, failed: FailedInvocations, sample: dict[str, Any], cases: int
) -> None:
    """Submit every case first, then one simulator answers whatever is queued until all have ended."""
    clock.set(submitted_at(sample))
    first_failure = len(failed.failures)
    bound = max(60.0, 15.0 * cases)
    started = time.perf_counter()
    pending = [submit(runtime, sample, fresh_detail(sample, "C", i)) for i in range(cases)]
    submitted = time.perf_counter() - started
    simulator = PartnerSimulator(runtime)
    statuses: dict[str, str] = {}
    deadline = time.monotonic() + bound
    while pending and time.monotonic() < deadline:
        simulator.answer_pending()
        for case_id in list(pending):
            status = runtime.execution_status(case_id)
            if status is not None and status != "RUNNING":
                statuses[case_id] = status
                pending.remove(case_id)
        if pending:
            time.sleep(0.01)
    elapsed = time.perf_counter() - started
    for case_id in pending:
        statuses[case_id] = f"STILL RUNNING after {bound:.0f} s real time"
    closed = cases - len(pending)
    print(
        f"  throughput (concurrent): {closed / elapsed:.2f} cases/s over {cases} cases in {elapsed:.2f} s "
        f"(submitting all took {submitted:.2f} s)"
    )
    report_statuses("concurrent", statuses)
    report_failures("concurrent", failed.failures[first_failure:])


def report_statuses(label: str, statuses: dict[str, str]) -> None:
    counts = Counter(statuses.values())
    print(f"  final status ({label}): " + ", ".join(f"{s} {n}" for s, n in counts.most_common()))
    failed = sorted(case_id for case_id, status in statuses.items() if status != SUCCEEDED)
    if failed:
        shown = ", ".join(f"{c} {statuses[c]}" for c in failed[:5])
        more = f" and {len(failed) - 5} more" if len(failed) > 5 else ""
        print(f"  WARNING: {len(failed)} of {len(statuses)} {label} cases did not succeed: {shown}{more}")


def report_failures(label: str, failures: list[Failure]) -> None:
    if not failures:
        print(f"  failed lambda invocations ({label}): 0")
        return
    kinds = Counter(failures)
    shown = "; ".join(f"{f.function} {f.error} x{n}: {f.message}" for f, n in kinds.most_common(3))
    more = f"; and {len(kinds) - 3} other kinds" if len(kinds) > 3 else ""
    print(f"  WARNING: {len(failures)} failed lambda invocations ({label}): {shown}{more}")


def report_dead_letters(runtime: LocalRuntime) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    depths: dict[str, int] = {}
    for logical, resource in runtime.template["Resources"].items():
        if resource["Type"] == "AWS::SQS::Queue" and "DeadLetter" in logical:
            attributes = sqs.get_queue_attributes(
                QueueUrl=runtime.queue_url(logical), AttributeNames=["ApproximateNumberOfMessages"]
            )["Attributes"]
            depths[logical] = int(attributes["ApproximateNumberOfMessages"])
    listed = ", ".join(f"{name} {depth}" for name, depth in sorted(depths.items()))
    prefix = "WARNING: messages in dead-letter queues" if any(depths.values()) else "dead-letter queues"
    print(f"  {prefix}: {listed or 'none in the template'}")


# ---------------------------------------------------------------------- 3. transitions per case
def report_transitions(runtime: LocalRuntime, runs: list[CaseRun]) -> None:
    print("== state transitions per case")
    happy = next((r for r in runs if r.status == SUCCEEDED), None)
    if happy is None:
        print("  WARNING: no sequential case succeeded; no happy path to count")
        return
    history = runtime.history(happy.case_id)
    entered = sum(1 for e in history if str(e["type"]).endswith("StateEntered"))
    counts = [len(r.invocations) for r in runs if r.status == SUCCEEDED]
    failures = Counter(f.function for f in happy.failures)
    print(f"  states entered: {entered} per happy-path case ({happy.case_id})")
    print(f"  history events: {len(history)} per happy-path case")
    print(
        f"  lambda invocations: {len(happy.invocations)} per happy-path case "
        f"(min {min(counts)}, max {max(counts)} over {len(counts)} succeeded sequential cases), "
        f"{len(happy.failures)} of them failed"
    )
    by_function = Counter(happy.invocations)
    print(
        "    by function: "
        + ", ".join(
            f"{name.removesuffix('Function')} {n}" + (f" ({failures[name]} failed)" if failures[name] else "")
            for name, n in sorted(by_function.items())
        )
    )
    print(f"  real time per state entered: {happy.seconds * 1000 / entered:.1f} ms")


# ---------------------------------------------------------------------- 4. bottleneck hint
def short_location(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3."):
        if marker in filename:
            tail = filename.split(marker, 1)[1]
            return tail if marker == "site-packages/" else "stdlib/" + tail.split("/", 1)[-1]
    try:
        return str(Path(filename).relative_to(ROOT))
    except ValueError:
        return filename


def report_profile(
    runtime: LocalRuntime, failed: FailedInvocations, sample: dict[str, Any], top: int = 10
) -> None:
    simulator = PartnerSimulator(runtime)
    profiler = cProfile.Profile()
    profiler.enable()
    run = run_one(runtime, simulator, failed, sample, "P", 0)
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"== bottleneck hint: top {top} functions by cumulative time, one case ({run.status}, cProfile)")
    print(
        "  (cProfile sees every thread and moto runs each state on its own: calls overlap in time,\n"
        "   so cumulative figures add up past the case's wall time; read them as indicative)"
    )
    print(f"  {'cum ms':>8} {'own ms':>8} {'calls':>7}  function")
    rows: list[tuple[tuple[str, int, str], tuple[int, int, float, float, Any]]] = sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: item[1][3],
        reverse=True,
    )
    for (filename, line, function), (_, calls, own, cumulative, _) in rows[:top]:
        where = "built-in" if filename == "~" else f"{short_location(filename)}:{line}"
        print(f"  {cumulative * 1000:8.1f} {own * 1000:8.1f} {calls:7d}  {function} ({where})")
    api_calls = sum(v[1] for k, v in rows if k[0].endswith("botocore/client.py") and k[2] == "_make_api_call")
    clients = [v for k, v in rows if k[0].endswith("boto3/__init__.py") and k[2] == "client"]
    created = sum(v[1] for v in clients)
    print(
        f"  profiled case took {run.seconds * 1000:.0f} ms under cProfile: {api_calls} AWS API calls "
        f"(moto in-process), {created} boto3 clients created ({sum(v[3] for v in clients) * 1000:.0f} ms cum)"
    )


# ---------------------------------------------------------------------- main
def quiet_moto() -> None:
    """The stack's unsupported resources (alarms, queue policies, the HttpApi) are expected: say nothing."""
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=20, help="sequential cases (default 20)")
    parser.add_argument("--concurrent", type=int, default=10, help="cases submitted at once (default 10)")
    parser.add_argument(
        "--import-runs", type=int, default=3, help="fresh interpreters per handler (default 3)"
    )
    args = parser.parse_args(argv)
    if args.cases < 1 or args.concurrent < 1 or args.import_runs < 1:
        parser.error("--cases, --concurrent and --import-runs must be at least 1")

    bench_imports(args.import_runs)

    quiet_moto()
    sample = load_sample()
    print("== local pipeline (moto, in-process handlers, simulated partners)")
    started = time.perf_counter()
    runtime = LocalRuntime()
    try:
        runtime.start()
        print(f"  runtime start: {time.perf_counter() - started:.2f} s ({len(runtime.resources)} resources)")
        failed = FailedInvocations(runtime)
        runs = bench_sequential(runtime, failed, sample, args.cases)
        bench_concurrent(runtime, failed, sample, args.concurrent)
        report_dead_letters(runtime)
        report_transitions(runtime, runs)
        report_profile(runtime, failed, sample)
    finally:
        runtime.stop()
        clock.reset()
    return 0


if __name__ == "__main__":
    sys.exit(main())
