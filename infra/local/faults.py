"""Fault injection into the local runtime's functions, in the manner of AWS FIS's Lambda actions.

``inject("CertificateFunction", error="Sandbox.Timedout", times=2)`` makes the function's next two
invocations fail; ``times=None`` keeps failing until ``clear``. ``when="before"`` fails the
invocation without running the handler (FIS's invocation error with execution prevented);
``when="after"`` runs the handler, its writes committed, and then fails the invocation as a crash
or a timeout right after the write would. The caller sees what Lambda returns for a failed
invocation: an error payload and the function-error header, so Step Functions' Retry and Catch,
EventBridge's retries and stream retries all meet it.
"""

import threading
from dataclasses import dataclass
from typing import Any, Literal

from zerovisit.clock import clock

When = Literal["before", "after"]
MESSAGES = {
    "Sandbox.Timedout": "Task timed out after 30.00 seconds",
    "Lambda.Unknown": "The function crashed (injected fault)",
}


@dataclass
class Fault:
    function: str
    error: str
    when: When
    remaining: int | None  # None: until cleared

    def payload(self) -> dict[str, Any]:
        message = MESSAGES.get(self.error, f"{self.error} (injected fault)")
        return {"errorType": self.error, "errorMessage": message}


@dataclass(frozen=True)
class FaultedInvocation:
    function: str
    error: str
    when: When
    at: str  # the domain clock's moment, ISO 8601


class Faults:
    def __init__(self, functions: set[str]) -> None:
        self._functions = functions
        self._active: dict[str, Fault] = {}
        self._lock = threading.Lock()
        self.faulted: list[FaultedInvocation] = []

    def inject(
        self,
        function_logical_id: str,
        error: str = "Sandbox.Timedout",
        times: int | None = 1,
        when: When = "before",
    ) -> None:
        """Fail the function's next ``times`` invocations (None: until cleared) with ``error``."""
        problems = []
        if function_logical_id not in self._functions:
            known = ", ".join(sorted(self._functions))
            problems.append(f"unknown function {function_logical_id!r}; one of {known}")
        if times is not None and times < 1:
            problems.append(f"times must be at least 1 or None, not {times}")
        if when not in ("before", "after"):
            problems.append(f"when must be 'before' or 'after', not {when!r}")
        if not error:
            problems.append("error must name the error")
        if problems:
            raise ValueError("; ".join(problems))
        with self._lock:
            self._active[function_logical_id] = Fault(function_logical_id, error, when, times)

    def clear(self, name: str | None = None) -> None:
        """Clear the fault of the function with this logical id, or every fault."""
        with self._lock:
            if name is None:
                self._active.clear()
            else:
                self._active.pop(name, None)

    def active(self) -> dict[str, Fault]:
        with self._lock:
            return dict(self._active)

    def take(self, function: str) -> Fault | None:
        """The fault this invocation meets, if any; it is counted and recorded."""
        with self._lock:
            fault = self._active.get(function)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining == 0:
                    del self._active[function]
            self.faulted.append(FaultedInvocation(function, fault.error, fault.when, clock.now().isoformat()))
            return fault
