"""Per-step EMF metrics: one line per invocation, with the step's duration and whether it failed."""

import json
from typing import Any

import pytest
from zerovisit.errors import DependencyUnavailable
from zerovisit.metrics import step_metrics


def emf_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if '"_aws"' in line]


def test_a_step_that_returns_records_its_duration_and_no_failure(capsys: pytest.CaptureFixture[str]) -> None:
    @step_metrics("acceptance")
    def handler(event: dict[str, Any], context: object) -> dict[str, str]:
        return {"case_id": event["case_id"]}

    assert handler({"case_id": "C-1"}, None) == {"case_id": "C-1"}

    (line,) = emf_lines(capsys.readouterr().out)
    (directive,) = line["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "ZeroVisit"
    assert sorted(directive["Dimensions"][0]) == ["service", "step"]
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "StepDuration": "Milliseconds",
        "StepFailed": "Count",
    }
    assert line["step"] == "acceptance"
    assert line["service"] == "zerovisit"
    assert line["StepFailed"] == [0.0]
    assert line["StepDuration"][0] >= 0


def test_a_step_that_raises_records_a_failure_and_still_raises(capsys: pytest.CaptureFixture[str]) -> None:
    @step_metrics("payment")
    def handler(event: dict[str, Any], context: object) -> None:
        raise DependencyUnavailable("payment platform down")

    with pytest.raises(DependencyUnavailable):
        handler({}, None)

    (line,) = emf_lines(capsys.readouterr().out)
    assert line["step"] == "payment"
    assert line["StepFailed"] == [1.0]
