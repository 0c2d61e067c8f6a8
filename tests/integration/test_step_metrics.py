"""Every step of a case writes its EMF line through the real handler: how long the step took and
whether it failed, by step, as the dashboard's "Step duration and failures by step" widget searches."""

import json
import re
from typing import Any

import pytest
from zerovisit.clock import clock

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from tests.support import held_transfer

FUNCTION_REF = re.compile(r"\$\{(\w+)\}")


def step_records(out: str) -> list[dict[str, Any]]:
    """The EMF lines in the ZeroVisit namespace whose dimensions are those the dashboard searches."""
    records = []
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            dimensions = [sorted(d) for d in directive["Dimensions"]]
            if directive["Namespace"] == "ZeroVisit" and ["service", "step"] in dimensions:
                records.append(record)
    return records


def step_functions(runtime: LocalRuntime) -> dict[str, str]:
    """Logical id -> step name (its folder under functions/) of every step: each function the state
    machine invokes and each function on the dashboard's per-step widgets."""
    resources = runtime.template["Resources"]
    substitutions = resources["CaseStateMachine"]["Properties"]["DefinitionSubstitutions"]
    invoked = {
        value["Fn::GetAtt"][0]
        for value in substitutions.values()
        if isinstance(value, dict) and value.get("Fn::GetAtt", [None])[0] in runtime.functions
    }
    body = json.loads(
        FUNCTION_REF.sub(r"\1", resources["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"])
    )
    on_dashboard = {
        row[row.index("FunctionName") + 1]
        for widget in body["widgets"]
        if widget["properties"]["title"] in ("Step duration, p90 (ms)", "Step failures")
        for row in widget["properties"]["metrics"]
    }
    assert invoked <= on_dashboard, f"steps missing from the dashboard: {sorted(invoked - on_dashboard)}"
    return {logical: runtime.functions[logical].code_dir.name for logical in sorted(invoked | on_dashboard)}


def test_a_case_run_to_its_end_writes_each_steps_duration_and_no_failure(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    # a transfer: paid, certified and delivered on paper, so that every step runs
    detail = held_transfer(runtime, submitted_at=clock.now().isoformat())
    capsys.readouterr()
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    assert PartnerSimulator(runtime).run_until_closed(detail["application_id"]) == "SUCCEEDED"

    records = step_records(capsys.readouterr().out)
    assert {r["step"] for r in records} == set(step_functions(runtime).values())
    for record in records:
        assert record["service"] == "zerovisit"
        assert record["StepFailed"] == [0.0], record
        assert record["StepDuration"][0] >= 0


def test_every_step_given_a_malformed_event_writes_a_failure_under_its_own_name(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    """A step added to the state machine or the dashboard without ``@step_metrics`` fails here."""
    for logical, step in step_functions(runtime).items():
        capsys.readouterr()
        payload, failed = runtime.invoke(logical, "not an event")
        assert failed, (logical, payload)
        records = step_records(capsys.readouterr().out)
        assert [r["step"] for r in records] == [step], (logical, records)
        assert records[0]["StepFailed"] == [1.0]
        assert records[0]["StepDuration"][0] >= 0


def test_a_step_whose_case_is_not_found_writes_a_failure(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    payload, failed = runtime.invoke("AcceptanceFunction", {"case_id": "T-nosuchcase0001"})

    assert (failed, payload["errorType"]) == (True, "CaseNotFound")
    [record] = step_records(capsys.readouterr().out)
    assert (record["step"], record["StepFailed"]) == ("acceptance", [1.0])
