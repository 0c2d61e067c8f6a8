"""`make capacity`: a province's year against AWS's default quotas, and the AWS cost of a case.

Reads what the bench measured per happy-path case of each flow (.bench/latest.json, written by
``make bench``), the year's volume and flow mix with their planning assumptions
(data/capacity_inputs.json), the default quotas with their sources (data/quotas.json) and the unit
prices with theirs (data/prices.json). Prints, per quota, the need at the mean and at the peak, the
default and the headroom at the peak; the cost per case; and what has to change. ``--write`` puts the
same tables into docs/capacity.md.

    .venv/bin/python -m infra.bench.capacity [--results .bench/latest.json] [--write]
"""

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bench.results import LATEST, ROOT

DATA = Path(__file__).parent / "data"
DOC = ROOT / "docs" / "capacity.md"
SECONDS_PER_YEAR = 365 * 24 * 3600
TIGHT = 2.0  # headroom under this at the peak is named as something to act on
METHOD = """## How the figures are made

- Per case: one warm happy-path case of each flow on the local runtime (`make bench`), counting
  only the product's AWS calls. DynamoDB units are estimated from item sizes before and after each
  call by DynamoDB's on-demand rules (4 KB reads, 1 KB writes, transactions double, each global
  secondary index entry written is a write), since storage does not ask for ConsumedCapacity.
  Lambda seconds are each invocation's own in-process time, with moto standing in for the network:
  indicative only.
- The local runtime invokes the relay once per stream record, where Lambda's event source mapping
  batches records: Lambda invocations (and their request cost) are overstated for the relay.
- Rates: cases a year over the seconds of a year, times the figure per case; the peak is the mean
  times the stated factor. Open executions: cases a day times the days a case stays open (Little's
  law).
- Partitions: the DueAlarms index spreads alarms over its shards; the ClosedByMatterRegion index
  takes the stated share of all closures on its hottest key.
"""


@dataclass(frozen=True)
class Need:
    quota: str
    label: str
    mean: float
    peak: float
    default: float
    unit: str
    source: str

    @property
    def headroom(self) -> float:
        return self.default / self.peak if self.peak else float("inf")


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def per_case_figures(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    pipeline = results.get("pipeline", {})
    figures: dict[str, dict[str, Any]] = pipeline.get("per_case", {})
    if not figures:
        raise SystemExit("no per-case figures in the results: run `make bench` first")
    return figures


def calls(case: dict[str, Any], service: str, *operations: str) -> float:
    by_operation: dict[str, int] = case["calls"].get(service, {})
    return float(sum(int(by_operation.get(operation, 0)) for operation in operations))


def lambda_seconds(case: dict[str, Any], memory_gb: float) -> float:
    seconds: float | None = case.get("lambda_seconds")
    return float(seconds) if seconds is not None else float(case["lambda_gb_seconds"]) / memory_gb


def needs(
    inputs: dict[str, Any], quotas: dict[str, Any], figures: dict[str, dict[str, Any]], memory_gb: float
) -> list[Need]:
    """Each quota's need at the mean over the year and at the peak (peak_to_mean times the mean)."""
    flows = inputs["flows"]
    peak = float(inputs["peak_to_mean"])

    def rate(name: str) -> float:
        return float(flows[name]["cases_per_year"]) / SECONDS_PER_YEAR

    def per_second(figure: Callable[[dict[str, Any]], float]) -> float:
        return sum(rate(name) * figure(figures[flow["measured_as"]]) for name, flow in flows.items())

    open_executions = sum(
        float(flow["cases_per_year"]) / 365 * float(flow["open_days"]) for flow in flows.values()
    )
    report_index = "ClosedByMatterRegion"
    alarm_index = "DueAlarms"
    rows: list[tuple[str, str, float, float]] = [
        (
            "stepfunctions_start_execution_per_s",
            "Step Functions StartExecution /s",
            per_second(lambda c: 1.0),
            peak,
        ),
        (
            "stepfunctions_state_transitions_per_s",
            "Step Functions state transitions /s",
            per_second(lambda c: float(c["state_transitions"])),
            peak,
        ),
        ("stepfunctions_open_executions", "Step Functions open executions", open_executions, 1.0),
        (
            "stepfunctions_send_task_per_s",
            "SendTaskSuccess /s",
            per_second(lambda c: calls(c, "SFN", "SendTaskSuccess")),
            peak,
        ),
        (
            "lambda_concurrency",
            "Lambda concurrency",
            per_second(lambda c: lambda_seconds(c, memory_gb)),
            peak,
        ),
        (
            "dynamodb_table_on_demand_units_per_s",
            "DynamoDB write units /s, all tables",
            per_second(lambda c: float(c["dynamodb_write_units"])),
            peak,
        ),
        (
            "dynamodb_table_on_demand_units_per_s",
            "DynamoDB read units /s, all tables",
            per_second(lambda c: float(c["dynamodb_read_units"])),
            peak,
        ),
        (
            "dynamodb_partition_write_units_per_s",
            f"DynamoDB {alarm_index} shard (1 of {inputs['alarm_shards']}) write units /s",
            per_second(lambda c: float(c.get("dynamodb_write_units_by_index", {}).get(alarm_index, 0)))
            / float(inputs["alarm_shards"]),
            peak,
        ),
        (
            "dynamodb_partition_write_units_per_s",
            f"DynamoDB {report_index}, hottest matter+region, write units /s",
            per_second(lambda c: float(c.get("dynamodb_write_units_by_index", {}).get(report_index, 0)))
            * float(inputs["hottest_report_key_share"]),
            peak,
        ),
        (
            "eventbridge_put_events_per_s",
            "EventBridge PutEvents requests /s",
            per_second(lambda c: calls(c, "EventBridge", "PutEvents")),
            peak,
        ),
    ]
    table = quotas["quotas"]
    return [
        Need(
            quota=key,
            label=label,
            mean=mean,
            peak=mean * factor,
            default=float(table[key]["default"]),
            unit=str(table[key]["unit"]),
            source=str(table[key]["source"]),
        )
        for key, label, mean, factor in rows
    ]


def cost_per_case(case: dict[str, Any], prices: dict[str, Any]) -> dict[str, float]:
    """USD per case, by service, from the measured figures and the unit prices."""
    p = {name: float(entry["usd"]) for name, entry in prices["prices"].items()}
    api_requests = float(case["lambda_invocations_by_function"].get("ApiFunction", 0))
    return {
        "Step Functions": case["state_transitions"] * p["stepfunctions_per_state_transition"],
        "Lambda": case["lambda_invocations"] * p["lambda_per_request"]
        + case["lambda_gb_seconds"] * p["lambda_per_gb_second_arm64"],
        "DynamoDB": case["dynamodb_read_units"] * p["dynamodb_per_read_request_unit"]
        + case["dynamodb_write_units"] * p["dynamodb_per_write_request_unit"],
        "EventBridge": case["events_put"] * p["eventbridge_per_event"],
        "KMS": case["kms_signs"] * p["kms_per_asymmetric_request"],
        "Secrets Manager": calls(case, "Secrets Manager", "GetSecretValue")
        * p["secrets_manager_per_api_call"],
        "HTTP API": api_requests * p["http_api_per_request"],
    }


def actions(found: list[Need], inputs: dict[str, Any]) -> list[str]:
    """The quota increases or design changes the figures call for."""
    said: list[str] = []
    for need in found:
        if need.headroom < 1:
            said.append(
                f"{need.label}: the peak needs {need.peak:,.1f} against a default of {need.default:,.0f}"
                f" ({need.headroom:.2f}x): request an increase before launch, or change the design."
            )
        elif need.headroom < TIGHT:
            said.append(
                f"{need.label}: {need.headroom:.1f}x headroom at the peak: request an increase before launch"
                " and alarm on the CloudWatch usage metric."
            )
    flows = inputs["flows"]
    long_open = {name: flow for name, flow in flows.items() if float(flow["open_days"]) >= 30}
    for name, flow in long_open.items():
        share = float(flow["cases_per_year"]) / 365 * float(flow["open_days"])
        said.append(
            f"{name}: open about {flow['open_days']} days, {share:,.0f} executions open at any time count"
            " against the 1,000,000 open executions; a wait that long (payment, correction, joint review) can"
            " end the execution and start a new one when the answer comes, if the open count ever binds."
        )
    said.append(
        "Open executions follow the days a case stays open, not the peak: a backlog (a department silent for"
        " weeks, a holiday) raises them as surely as volume does; alarm on the account's open-execution"
        " count well below 1,000,000."
    )
    return said


def render(
    found: list[Need],
    costs: dict[str, dict[str, float]],
    mix_cost: float,
    inputs: dict[str, Any],
    prices: dict[str, Any],
    results: dict[str, Any],
    advice: list[str],
) -> list[str]:
    rate = float(prices["cny_per_usd"])
    pipeline = results.get("pipeline", {})
    lines = [
        f"Year: {inputs['cases_per_year']:,} cases ({inputs['cases_per_year_source']}); peak"
        f" {inputs['peak_to_mean']}x the mean; region {inputs['region']}.",
        f"Per-case figures: .bench/latest.json, commit {pipeline.get('commit', '?')},"
        f" measured {pipeline.get('measured_at', '?')} on the local runtime.",
        "",
        "| quota | need at the mean | need at the peak | AWS default | headroom at the peak |",
        "|---|---:|---:|---:|---:|",
    ]
    for need in found:
        lines.append(
            f"| {need.label} | {need.mean:,.2f} | {need.peak:,.1f} | {need.default:,.0f}"
            f" | {need.headroom:,.1f}x |"
        )
    lines += [
        "",
        f"Cost per case (AWS usage only; prices: {prices['region_priced']} in {prices['currency']},"
        f" converted at {rate} CNY per USD, a planning rate):",
        "",
        "| flow | cases a year | CNY per case | of which Step Functions | Lambda | DynamoDB | other |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, flow in inputs["flows"].items():
        parts = costs[flow["measured_as"]]
        total = sum(parts.values())
        other = total - parts["Step Functions"] - parts["Lambda"] - parts["DynamoDB"]
        lines.append(
            f"| {name} (as {flow['measured_as']}) | {flow['cases_per_year']:,} | {total * rate:.4f} |"
            f" {parts['Step Functions'] * rate:.4f} | {parts['Lambda'] * rate:.4f} |"
            f" {parts['DynamoDB'] * rate:.4f} | {other * rate:.4f} |"
        )
    lines += [
        "",
        f"Weighted by the mix: {mix_cost * rate:.4f} CNY per case,"
        f" {mix_cost * rate * float(inputs['cases_per_year']) / 10_000:,.1f} 万 CNY a year"
        " (requests and compute; storage, logs and data transfer not included).",
        "",
        "What has to change:",
        "",
        *(f"- {line}" for line in advice),
    ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--results", type=Path, default=LATEST, help="the bench's JSON (default .bench/latest.json)"
    )
    parser.add_argument("--write", action="store_true", help="also write docs/capacity.md")
    args = parser.parse_args(argv)
    if not args.results.is_file():
        parser.error(f"{args.results} does not exist: run `make bench` first")
    results = load_json(args.results)
    inputs = load_json(DATA / "capacity_inputs.json")
    quotas = load_json(DATA / "quotas.json")
    prices = load_json(DATA / "prices.json")
    figures = per_case_figures(results)
    missing = sorted({flow["measured_as"] for flow in inputs["flows"].values()} - figures.keys())
    if missing:
        raise SystemExit(f"the results have no figures for {', '.join(missing)}: run `make bench`")
    memory_mb = results["pipeline"].get("lambda_memory_mb", {})
    memory_gb = (max(memory_mb.values()) if memory_mb else 512) / 1024
    found = needs(inputs, quotas, figures, memory_gb)
    costs = {flow: cost_per_case(case, prices) for flow, case in figures.items()}
    total_cases = sum(float(flow["cases_per_year"]) for flow in inputs["flows"].values())
    mix_cost = sum(
        float(flow["cases_per_year"]) / total_cases * sum(costs[flow["measured_as"]].values())
        for flow in inputs["flows"].values()
    )
    lines = render(found, costs, mix_cost, inputs, prices, results, actions(found, inputs))
    print("\n".join(lines))
    if args.write:
        write_doc(lines, quotas, prices)
        print(f"\nwritten to {DOC.relative_to(ROOT)}")
    return 0


def write_doc(lines: list[str], quotas: dict[str, Any], prices: dict[str, Any]) -> None:
    sources = sorted({f"- {entry['unit']}: {entry['source']}" for entry in quotas["quotas"].values()})
    price_sources = [f"- {name}: {entry['source']}" for name, entry in prices["prices"].items()]
    doc = [
        "# Capacity plan for a province",
        "",
        "Generated by `make capacity` from the bench's measured per-case figures and the planning inputs in",
        "`infra/bench/data/` (volume and flow mix, default quotas, prices). Regenerate after `make bench`;",
        "do not edit the tables by hand.",
        "",
        *lines,
        "",
        *METHOD.splitlines(),
        "## Sources",
        "",
        f"Quotas (checked {quotas['checked']}):",
        "",
        *sources,
        "",
        f"Prices (checked {prices['checked']}; {prices['about']}):",
        "",
        *price_sources,
        "",
    ]
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text("\n".join(doc), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
