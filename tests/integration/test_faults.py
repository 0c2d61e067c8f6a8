"""The fault-injection mechanism: what a faulted invocation returns, and when the handler runs."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.runtime import REGION, LocalRuntime

FUNCTION = "CompletionFunction"


@pytest.fixture
def runs(runtime: LocalRuntime, monkeypatch: Any) -> Iterator[list[dict[str, Any]]]:
    """The function's handler, replaced by one that records each run."""
    seen: list[dict[str, Any]] = []

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"ran": len(seen)}

    monkeypatch.setitem(runtime._handlers, FUNCTION, handler)
    yield seen
    runtime.faults.clear()


def invoke(runtime: LocalRuntime, event: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    response = boto3.client("lambda", region_name=REGION).invoke(
        FunctionName=runtime.resources[FUNCTION], Payload=json.dumps(event)
    )
    return json.loads(response["Payload"].read()), response.get("FunctionError")


def test_a_fault_before_fails_the_invocation_without_running_the_handler(
    runtime: LocalRuntime, runs: list[dict[str, Any]]
) -> None:
    runtime.faults.inject(FUNCTION, error="Sandbox.Timedout", times=1, when="before")

    payload, function_error = invoke(runtime, {"n": 1})

    assert function_error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "timed out" in payload["errorMessage"]
    assert runs == []


def test_a_fault_after_runs_the_handler_once_and_then_fails(
    runtime: LocalRuntime, runs: list[dict[str, Any]]
) -> None:
    runtime.faults.inject(FUNCTION, error="Lambda.Unknown", times=1, when="after")

    payload, function_error = invoke(runtime, {"n": 1})

    assert function_error == "Unhandled"
    assert payload["errorType"] == "Lambda.Unknown"
    assert runs == [{"n": 1}]


def test_a_transient_fault_fails_the_next_n_invocations_only(
    runtime: LocalRuntime, runs: list[dict[str, Any]]
) -> None:
    runtime.faults.inject(FUNCTION, error="DependencyUnavailable", times=2)

    results = [invoke(runtime, {"n": n}) for n in range(3)]

    assert [error for _, error in results] == ["Unhandled", "Unhandled", None]
    assert results[2][0] == {"ran": 1}
    assert runtime.faults.active() == {}


def test_a_permanent_fault_lasts_until_cleared(runtime: LocalRuntime, runs: list[dict[str, Any]]) -> None:
    runtime.faults.inject(FUNCTION, error="Sandbox.Timedout", times=None)
    failing = [invoke(runtime, {"n": n})[1] for n in range(5)]

    runtime.faults.clear(FUNCTION)
    _, after_clear = invoke(runtime, {"n": 5})

    assert failing == ["Unhandled"] * 5
    assert after_clear is None
    assert runs == [{"n": 5}]


def test_the_faulted_invocations_are_recorded(runtime: LocalRuntime, runs: list[dict[str, Any]]) -> None:
    before = len(runtime.faults.faulted)
    runtime.faults.inject(FUNCTION, error="Lambda.Unknown", times=2, when="after")
    for n in range(3):
        invoke(runtime, {"n": n})

    recorded = runtime.faults.faulted[before:]
    assert [(f.function, f.error, f.when) for f in recorded] == [(FUNCTION, "Lambda.Unknown", "after")] * 2


def test_clearing_every_fault(runtime: LocalRuntime, runs: list[dict[str, Any]]) -> None:
    runtime.faults.inject(FUNCTION, times=None)
    runtime.faults.inject("RelayFunction", times=None)

    runtime.faults.clear()

    assert runtime.faults.active() == {}


def test_a_bad_injection_names_every_problem(runtime: LocalRuntime) -> None:
    with pytest.raises(ValueError, match="NoSuchFunction") as raised:
        runtime.faults.inject("NoSuchFunction", error="", times=0, when="during")  # type: ignore[arg-type]

    message = str(raised.value)
    for problem in ("NoSuchFunction", "times", "when", "error"):
        assert problem in message
    assert runtime.faults.active() == {}
