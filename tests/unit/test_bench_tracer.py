"""The import bench's tracing figure measures an enabled Tracer, or refuses to measure anything."""

import site
from pathlib import Path

import pytest

from infra.bench.imports import FUNCTIONS_DIR, LAYER_SOURCE, TRACED, import_environment, time_import

APP = str(FUNCTIONS_DIR / "acceptance" / "app.py")
# this environment's packages (aws-xray-sdk is a development pin) in place of the bench's layer
PATHS = [LAYER_SOURCE, *(Path(p) for p in site.getsitepackages())]


def lambda_environment() -> dict[str, str]:
    env = {**import_environment(), "LAMBDA_TASK_ROOT": str(FUNCTIONS_DIR / "acceptance")}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    return env


def test_the_traced_import_loads_the_xray_sdk_on_top_of_the_handlers_modules() -> None:
    plain = time_import(APP, PATHS, lambda_environment())
    traced = time_import(TRACED + APP, PATHS, lambda_environment())

    assert traced.modules > plain.modules


@pytest.mark.parametrize(
    ("variable", "value"), [("LAMBDA_TASK_ROOT", None), ("POWERTOOLS_TRACE_DISABLED", "true")]
)
def test_a_disabled_tracer_is_refused_rather_than_timed(variable: str, value: str | None) -> None:
    env = lambda_environment()
    if value is None:
        env.pop(variable)
    else:
        env[variable] = value

    with pytest.raises(RuntimeError, match="Tracer disabled"):
        time_import(TRACED + APP, PATHS, env)
