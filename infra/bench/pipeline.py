"""`make bench`: handler cold import against its floor, and the local pipeline: what a case asks of
AWS, the orchestration floor, throughput as the tables fill, a profile.

Prints figures and writes them to .bench/latest.json; it asserts nothing. From the project root:

    .venv/bin/python -m infra.bench.pipeline [--cases N] [--concurrent K] [--import-runs R]

``--cases 1000`` adds the 1,000-case checkpoint (about a quarter of an hour on this machine).
"""

import argparse
import copy
import cProfile
import json
import logging
import os
import pstats
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from resource import RUSAGE_SELF, getrusage
from typing import Any
from uuid import uuid4

import boto3
from zerovisit.clock import clock

from infra.bench.calls import CallMeter, Usage
from infra.bench.first_use import recorded_uses
from infra.bench.floor import Recording, recording, run_floor
from infra.bench.imports import baseline_source, bench_imports
from infra.bench.results import commit, record
from infra.local.partners import PartnerSimulator
from infra.local.registry import fresh_title_identifier, hold_sellers_title
from infra.local.runtime import REGION, ROOT, LocalRuntime

EVENTS_DIR = ROOT / "events"
FLOWS = ("business_startup", "industrial_construction_permit", "real_estate_transfer")
SAMPLE = EVENTS_DIR / "application_submitted.business_startup.json"
SUCCEEDED = "SUCCEEDED"
CHECKPOINTS = (10, 100, 1000)
WINDOW = 10  # throughput at a checkpoint: over the last this many cases
PROGRESS_EVERY = 100  # cases between progress lines


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


# ---------------------------------------------------------------------- 2. pipeline throughput
def load_sample(path: Path = SAMPLE) -> dict[str, Any]:
    sample: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return sample


def fresh_detail(sample: dict[str, Any], label: str, number: int) -> dict[str, Any]:
    """The sample under a fresh application id; a transfer names a fresh seller's title."""
    detail: dict[str, Any] = copy.deepcopy(sample["detail"])
    detail["application_id"] = f"BENCH-{label}-{number:04d}-{uuid4().hex[:8]}"
    if "transfer" in detail:
        detail["transfer"]["seller_title"] = fresh_title_identifier(detail["transfer"]["seller_title"])
    return detail


def submitted_at(sample: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(sample["detail"]["submitted_at"])
    if moment.tzinfo is None:
        raise ValueError("the sample's submitted_at has no time zone")
    return moment


def submit(runtime: LocalRuntime, sample: dict[str, Any], detail: dict[str, Any]) -> str:
    """Submit as the service network does; the seller of a transfer holds its title beforehand."""
    hold_sellers_title(runtime, detail)
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


def bench_concurrent(
    runtime: LocalRuntime, failed: FailedInvocations, sample: dict[str, Any], cases: int
) -> dict[str, Any]:
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
    return {"cases": cases, "closed": closed, "cases_per_s": round(closed / elapsed, 3)}


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


# ---------------------------------------------------------------------- 6. bottleneck hint
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


# ---------------------------------------------------------------------- 3. what one case asks of AWS
@dataclass
class CaseFigures:
    flow: str
    run: CaseRun
    usage: Usage
    states_entered: int
    history_events: int
    open_days: float

    def as_json(self, memory_mb: dict[str, int]) -> dict[str, Any]:
        failures = Counter(f.function for f in self.run.failures)
        return {
            "case_id": self.run.case_id,
            "status": self.run.status,
            "states_entered": self.states_entered,
            # Standard workflows bill state transitions; every state entered is one.
            "state_transitions": self.states_entered,
            "history_events": self.history_events,
            "lambda_invocations": len(self.run.invocations),
            "lambda_invocations_by_function": dict(sorted(Counter(self.run.invocations).items())),
            "lambda_failed_invocations": dict(failures),
            "lambda_gb_seconds": round(self.usage.gb_seconds(memory_mb), 4),
            "lambda_seconds": round(sum(ms for _, ms in self.usage.handler_ms) / 1000, 3),
            "open_days_on_domain_clock": round(self.open_days, 2),
            **self.usage.as_json(),
        }


def function_memory(runtime: LocalRuntime) -> dict[str, int]:
    """Each function's MemorySize from the template (its own, else the Globals')."""
    template = runtime.template
    default = int(template.get("Globals", {}).get("Function", {}).get("MemorySize", 128))
    return {
        logical: int(resource["Properties"].get("MemorySize", default))
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def measure_flows(
    runtime: LocalRuntime, failed: FailedInvocations, meter: CallMeter
) -> tuple[dict[str, CaseFigures], Recording]:
    """One happy-path case per flow, each counted alone, after an uncounted one of the same flow (so the
    figures are a warm container's: the catalog, partner secrets and calendar already read); the
    business start-up case is recorded for the orchestration floor."""
    simulator = PartnerSimulator(runtime)
    figures: dict[str, CaseFigures] = {}
    recorded = Recording()
    for flow in FLOWS:
        sample = load_sample(EVENTS_DIR / f"application_submitted.{flow}.json")
        run_one(runtime, simulator, failed, sample, "WARM", 0)
        with meter.window() as usage, recording(runtime) as steps:
            run = run_one(runtime, simulator, failed, sample, flow[:4].upper(), 0)
            closed_at = clock.now()
        if flow == "business_startup":
            steps.case_id = run.case_id
            steps.complete(usage.task_outputs)
            recorded = steps
        history = runtime.history(run.case_id)
        figures[flow] = CaseFigures(
            flow=flow,
            run=run,
            usage=usage,
            states_entered=sum(1 for e in history if str(e["type"]).endswith("StateEntered")),
            history_events=len(history),
            open_days=(closed_at - submitted_at(sample)).total_seconds() / 86400,
        )
    return figures, recorded


def report_flows(figures: dict[str, CaseFigures], memory_mb: dict[str, int]) -> None:
    print("== what one happy-path case asks of AWS, per flow (the product's calls only: see calls.py)")
    for flow, case in figures.items():
        data = case.as_json(memory_mb)
        print(
            f"  {flow}: {case.run.status}; {data['state_transitions']} state transitions,"
            f" {data['history_events']} history events, {data['lambda_invocations']} Lambda invocations"
            f" ({sum(data['lambda_failed_invocations'].values())} failed), {data['lambda_gb_seconds']} GB-s;"
            f" {data['calls_total']} AWS calls; DynamoDB {data['dynamodb_read_units']} RCU,"
            f" {data['dynamodb_write_units']} WCU (estimated); {data['events_put']} events put,"
            f" {data['kms_signs']} KMS signs; open {data['open_days_on_domain_clock']} days (domain clock)"
        )
        for service, operations in data["calls"].items():
            listed = ", ".join(f"{operation} {count}" for operation, count in operations.items())
            print(f"      {service:<16} {sum(operations.values()):>4}  {listed}")
        invoked = ", ".join(
            f"{name.removesuffix('Function')} {n}"
            for name, n in data["lambda_invocations_by_function"].items()
        )
        print(f"      invocations by function: {invoked}")
        if data["lambda_failed_invocations"]:
            print(f"      WARNING: failed invocations: {data['lambda_failed_invocations']}")
    print(
        "  (RCU/WCU: on-demand units estimated from item sizes before and after each call, see calls.py;"
        " GB-s: each\n   invocation's own in-process time, moto standing in for the network, rounded up to"
        " the ms)"
    )


# ---------------------------------------------------------------------- 4. the orchestration floor
def bench_floor(
    runtime: LocalRuntime, recorded: Recording, cases: int, business: CaseFigures | None
) -> dict[str, Any]:
    print(
        f"== orchestration floor: the same ASL with no-op handlers ({cases} cases), against the real pipeline"
    )
    if not recorded.case_id or business is None or business.run.status != SUCCEEDED:
        print("  WARNING: no successful business start-up case was recorded; no floor")
        return {}
    runs = run_floor(runtime, recorded, cases)
    done = [r for r in runs if r.status == SUCCEEDED]
    if not done:
        print(f"  WARNING: no floor execution succeeded: {Counter(r.status for r in runs)}")
        return {}
    floor_ms = statistics.median(r.seconds * 1000 / r.states_entered for r in done)
    print(
        f"  floor: {floor_ms:.1f} ms per state entered (median of {len(done)}; "
        f"{done[0].states_entered} states per case; {len(runs) - len(done)} did not succeed)"
    )
    return {"floor_ms_per_state": round(floor_ms, 2), "floor_cases": len(done)}


def report_orchestration_ratio(floor: dict[str, Any], real: list[CaseRun], states: int) -> dict[str, Any]:
    done = [r for r in real if r.status == SUCCEEDED]
    if not floor or not done or not states:
        return floor
    first = done[:WINDOW]
    real_ms = statistics.median(r.seconds * 1000 / states for r in first)
    ratio = real_ms / floor["floor_ms_per_state"]
    print(
        f"  real pipeline: {real_ms:.1f} ms per state entered (median of its first {len(first)} sequential"
        f" cases, partner simulator included)\n  real / floor: {ratio:.2f}x"
    )
    return {**floor, "real_ms_per_state": round(real_ms, 2), "real_over_floor": round(ratio, 2)}


# ---------------------------------------------------------------------- 5. throughput as the tables fill
def bench_checkpoints(
    runtime: LocalRuntime, failed: FailedInvocations, sample: dict[str, Any], cases: int
) -> tuple[list[CaseRun], list[dict[str, Any]]]:
    checkpoints = [c for c in CHECKPOINTS if c <= cases] or [cases]
    if cases not in checkpoints and cases > checkpoints[-1]:
        checkpoints.append(cases)
    print(f"== throughput as the tables fill: {cases} sequential business start-up cases in one runtime")
    simulator = PartnerSimulator(runtime)
    runs: list[CaseRun] = []
    figures: list[dict[str, Any]] = []
    started = time.perf_counter()
    for number in range(cases):
        runs.append(run_one(runtime, simulator, failed, sample, "S", number))
        if len(runs) % PROGRESS_EVERY == 0 and len(runs) not in checkpoints:
            print(f"  ... {len(runs)} of {cases} cases in {time.perf_counter() - started:.0f} s", flush=True)
        if len(runs) in checkpoints:
            last = runs[-WINDOW:]
            window_rate = len(last) / sum(r.seconds for r in last)
            peak_mb = getrusage(RUSAGE_SELF).ru_maxrss / 1024
            figures.append(
                {
                    "cases": len(runs),
                    "cases_per_s_last_window": round(window_rate, 3),
                    "window": len(last),
                    "cases_per_s_cumulative": round(len(runs) / (time.perf_counter() - started), 3),
                    "peak_rss_mb": round(peak_mb),
                }
            )
            print(
                f"  after {len(runs):>5} cases: {window_rate:.2f} cases/s over the last {len(last)},"
                f" {figures[-1]['cases_per_s_cumulative']:.2f} cases/s overall, peak RSS {peak_mb:.0f} MB",
                flush=True,
            )
    if len(figures) > 1:
        first, last_figure = figures[0], figures[-1]
        change = last_figure["cases_per_s_last_window"] / first["cases_per_s_last_window"] - 1
        print(f"  at {last_figure['cases']} against at {first['cases']}: {change:+.0%}")
    per_case = [r.seconds * 1000 for r in runs]
    print(
        f"  latency per case: median {statistics.median(per_case):.0f} ms, "
        f"min {min(per_case):.0f} ms, max {max(per_case):.0f} ms"
    )
    report_statuses("sequential", {r.case_id: r.status for r in runs})
    report_failures("sequential", [f for r in runs for f in r.failures])
    return runs, figures


# ---------------------------------------------------------------------- main
def discard_function_output(runtime: LocalRuntime) -> None:
    """The functions' log lines, several per case, are formatted as in Lambda and then discarded, so
    that the figures can be read; their metric lines are not printed."""
    devnull = open(os.devnull, "w")  # noqa: SIM115 - open until the process ends
    for handler in logging.getLogger("zerovisit").handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    runtime.silence_metrics()


def quiet_moto() -> None:
    """The stack's unsupported resources (alarms, queue policies, the HttpApi) are expected: say nothing."""
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--cases", type=int, default=100, help="sequential cases (default 100; 1000 to go on)"
    )
    parser.add_argument("--concurrent", type=int, default=10, help="cases submitted at once (default 10)")
    parser.add_argument("--floor-cases", type=int, default=10, help="orchestration floor cases (default 10)")
    parser.add_argument("--import-runs", type=int, default=5, help="imports of each handler (default 5)")
    parser.add_argument("--import-baseline", metavar="REV", help="also time the handlers as of commit REV")
    parser.add_argument(
        "--skip-imports", action="store_true", help="keep the import figures already recorded"
    )
    parser.add_argument("--profile", action="store_true", help="also profile one case with cProfile")
    args = parser.parse_args(argv)
    if min(args.cases, args.concurrent, args.import_runs, args.floor_cases) < 1:
        parser.error("--cases, --concurrent, --floor-cases and --import-runs must be at least 1")

    measured = commit()
    if not args.skip_imports:
        baseline = baseline_source(args.import_baseline) if args.import_baseline else None
        record(
            "imports",
            bench_imports(args.import_runs, baseline=baseline, first_use=recorded_uses()),
            measured=measured,
        )

    quiet_moto()
    print("== local pipeline (moto, in-process handlers, simulated partners)")
    started = time.perf_counter()
    runtime = LocalRuntime()
    try:
        runtime.start()
        discard_function_output(runtime)
        print(f"  runtime start: {time.perf_counter() - started:.2f} s ({len(runtime.resources)} resources)")
        meter = CallMeter(runtime).install()
        failed = FailedInvocations(runtime)
        memory = function_memory(runtime)
        flows, recorded = measure_flows(runtime, failed, meter)
        report_flows(flows, memory)
        business = flows.get("business_startup")
        floor = bench_floor(runtime, recorded, args.floor_cases, business)
        sample = load_sample()
        runs, checkpoints = bench_checkpoints(runtime, failed, sample, args.cases)
        orchestration = report_orchestration_ratio(floor, runs, business.states_entered if business else 0)
        concurrent = bench_concurrent(runtime, failed, sample, args.concurrent)
        report_dead_letters(runtime)
        if args.profile:
            report_profile(runtime, failed, sample)
        meter.uninstall()
    finally:
        runtime.stop()
        clock.reset()
    path = record(
        "pipeline",
        {
            "per_case": {flow: case.as_json(memory) for flow, case in flows.items()},
            "orchestration": orchestration,
            "throughput": checkpoints,
            "concurrent": concurrent,
            "lambda_memory_mb": memory,
        },
        measured=measured,
    )
    print(f"== figures written to {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
