"""Per-step metrics in CloudWatch embedded metric format: how long each step took and whether it failed.

A handler opts in with one line above its entry point::

    @step_metrics("acceptance")
    @lambda_entry
    def handler(event, context): ...

Each invocation writes one EMF line (namespace ZeroVisit, dimensions service and step) with
``StepDuration`` in milliseconds and ``StepFailed`` (0 or 1); the dashboard graphs both by step.
"""

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

NAMESPACE = "ZeroVisit"
SERVICE = "zerovisit"
STEP_DURATION = "StepDuration"
STEP_FAILED = "StepFailed"

Handler = TypeVar("Handler", bound=Callable[..., Any])


def record_step(step: str, milliseconds: float, failed: bool) -> None:
    """Write one step's figures as one EMF line on stdout, where Lambda's log agent finds it."""
    metrics = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
    metrics.add_dimension(name="step", value=step)
    metrics.add_metric(name=STEP_DURATION, unit=MetricUnit.Milliseconds, value=round(milliseconds, 1))
    metrics.add_metric(name=STEP_FAILED, unit=MetricUnit.Count, value=1 if failed else 0)
    metrics.flush_metrics()


def step_metrics(step: str) -> Callable[[Handler], Handler]:
    """Times the wrapped handler and records whether it raised (the exception still propagates, so the
    state machine's Retry and Catch see it)."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            failed = True
            try:
                result = handler(*args, **kwargs)
                failed = False
                return result
            finally:
                record_step(step, (time.perf_counter() - started) * 1000, failed)

        return timed  # type: ignore[return-value]

    return decorate
