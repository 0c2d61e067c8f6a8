"""The dashboard's metric searches match the dimensions the code really emits, and its body is JSON."""

import json
import re
from typing import Any

import pytest
from zerovisit.adapters import supervision
from zerovisit.metrics import record_step

from infra.local.template import load_template

SEARCH = re.compile(r"SEARCH\('\{(?P<namespace>\w+),(?P<dimensions>[\w,]+)\} MetricName=\"(?P<metric>\w+)\"'")


def dashboard() -> dict[str, Any]:
    body = load_template()["Resources"]["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    return dict(json.loads(re.sub(r"\$\{[^}]+\}", "x", body)))


def emitted_dimensions(out: str) -> dict[str, set[frozenset[str]]]:
    """Metric name -> the dimension sets it was emitted with, from EMF lines."""
    found: dict[str, set[frozenset[str]]] = {}
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        for directive in json.loads(line)["_aws"]["CloudWatchMetrics"]:
            for metric in directive["Metrics"]:
                for dimensions in directive["Dimensions"]:
                    found.setdefault(metric["Name"], set()).add(frozenset(dimensions))
    return found


def test_every_search_finds_a_metric_the_code_emits_with_those_dimensions(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = load_template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", service)  # as every function has it
    record_step("acceptance", 12.5, failed=False)
    supervision.count("OverdueCases", {"matter": "BUSINESS-STARTUP", "region": "320102", "limit": "promised"})
    emitted = emitted_dimensions(capsys.readouterr().out)

    searches = [
        m.groupdict()
        for widget in dashboard()["widgets"]
        for row in widget["properties"]["metrics"]
        for item in row
        if isinstance(item, dict) and (m := SEARCH.match(item.get("expression", "")))
    ]

    assert {s["metric"] for s in searches} == {"OverdueCases", "StepDuration", "StepFailed"}
    for search in searches:
        assert search["namespace"] == "ZeroVisit"
        assert frozenset(search["dimensions"].split(",")) in emitted[search["metric"]], search


def test_the_dashboard_shows_cases_steps_api_overdue_and_dead_letters() -> None:
    titles = [w["properties"]["title"] for w in dashboard()["widgets"]]
    assert titles == [
        "Cases started, completed, failed",
        "API status codes",
        "Overdue cases by matter and region",
        "Step duration, p90 (ms)",
        "Step failures",
        "Step duration and failures by step (EMF, ZeroVisit namespace)",
        "Dead-letter queues (messages)",
        "Sweeps and throttles",
    ]
