"""The orchestration floor: the project's own state machine with handlers that do nothing.

A real happy-path case is recorded first: what each function returned for each step (its event less
the case id and task token), and the output each waiting task was resumed with. The floor then runs
new executions of the same ASL on the same local runtime, with every function replaced by a stub that
returns the recorded answer at once; the bench resumes each waiting task with the recorded output,
as soon as the stub has seen its token. No handler code, no DynamoDB, no events, no partners: what is
left is the interpreter's own cost per state, to which the real pipeline is compared.
"""

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from infra.local.runtime import LocalRuntime

_NOT_PART_OF_THE_KEY = ("case_id", "task_token", "answers", "round")  # round: the moment a wait began
CASE_SECONDS = 60.0


def step_key(function: str, event: Any) -> str:
    """What identifies a step across cases: the function and its event, less what names the case."""
    shown = (
        {k: v for k, v in event.items() if k not in _NOT_PART_OF_THE_KEY} if isinstance(event, dict) else {}
    )
    return function + " " + json.dumps(shown, sort_keys=True, default=str)


@dataclass
class Recording:
    case_id: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # task token -> the step that received it
    resumed_with: dict[str, str] = field(default_factory=dict)  # step -> the output its task got

    def complete(self, task_outputs: dict[str, Any]) -> None:
        for token, step in self.tokens.items():
            if token in task_outputs:
                self.resumed_with[step] = str(task_outputs[token])


@contextmanager
def recording(runtime: LocalRuntime) -> Iterator[Recording]:
    """Record every function's answer while inside (the case id is set by the caller)."""
    record = Recording()
    original = runtime.invoke
    logical = {physical: name for name, physical in runtime.resources.items()}

    def invoke(function_name: str, event: Any) -> tuple[Any, bool]:
        payload, failed = original(function_name, event)
        function = logical.get(function_name.split(":")[-1], function_name)
        key = step_key(function, event)
        if not failed:
            record.answers.setdefault(key, payload)
        if isinstance(event, dict) and event.get("task_token"):
            record.tokens[str(event["task_token"])] = key
        return payload, failed

    runtime.invoke = invoke  # type: ignore[method-assign]
    try:
        yield record
    finally:
        runtime.invoke = original  # type: ignore[method-assign]


@dataclass
class FloorRun:
    case_id: str
    status: str
    seconds: float
    states_entered: int


class Replay:
    """Stands in for every function: the recorded answer, and the token kept for the bench to resume."""

    def __init__(self, runtime: LocalRuntime, record: Recording) -> None:
        self.runtime = runtime
        self.record = record
        self.case_id = ""
        self.pending: list[tuple[str, str]] = []
        self.unknown: defaultdict[str, int] = defaultdict(int)
        self._lock = threading.Lock()
        self._logical = {physical: name for name, physical in runtime.resources.items()}

    def _for_case(self, text: str) -> str:
        return text.replace(self.record.case_id, self.case_id)

    def invoke(self, function_name: str, event: Any) -> tuple[Any, bool]:
        function = self._logical.get(function_name.split(":")[-1], function_name)
        key = step_key(function, event)
        if key not in self.record.answers:
            self.unknown[key] += 1
            return {"errorType": "NotRecorded", "errorMessage": key}, True
        token = event.get("task_token") if isinstance(event, dict) else None
        if token:
            with self._lock:
                self.pending.append((str(token), self._for_case(self.record.resumed_with.get(key, "{}"))))
        return json.loads(self._for_case(json.dumps(self.record.answers[key]))), False

    def run(self, case_id: str) -> FloorRun:
        self.case_id = case_id
        sfn = self.runtime.client("stepfunctions")
        started = time.perf_counter()
        with self.runtime.exclusive():
            sfn.start_execution(
                stateMachineArn=self.runtime.state_machine_arn,
                name=case_id,
                input=json.dumps({"case_id": case_id, "resume": False}),  # as the intake starts it
            )
        deadline = time.monotonic() + CASE_SECONDS
        status = "RUNNING"
        while time.monotonic() < deadline:
            with self._lock:
                resume, self.pending = self.pending, []
            for token, output in resume:
                with self.runtime.exclusive():
                    sfn.send_task_success(taskToken=token, output=output)
            status = self.runtime.execution_status(case_id) or "RUNNING"
            if status != "RUNNING":
                break
            time.sleep(0.002)
        seconds = time.perf_counter() - started
        entered = sum(1 for e in self.runtime.history(case_id) if str(e["type"]).endswith("StateEntered"))
        return FloorRun(case_id, status, seconds, entered)


def run_floor(runtime: LocalRuntime, record: Recording, cases: int) -> list[FloorRun]:
    replay = Replay(runtime, record)
    original = runtime.invoke
    runtime.invoke = replay.invoke  # type: ignore[method-assign]
    try:
        return [replay.run(f"FLOOR-{number:04d}-{time.time_ns() % 10**8:08d}") for number in range(cases)]
    finally:
        runtime.invoke = original  # type: ignore[method-assign]
