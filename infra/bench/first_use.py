"""What a handler's first invocation builds: the models it uses, recorded from real cases.

Every model is built on its first use (zerovisit.domain.base), so a handler's import does not pay
for the models it never uses, and its first invocation pays for those it does. To show that cost
beside the import's, this runs on the local runtime one happy-path case of each flow, then a business
start-up whose seal department never answers (the sweeper deems it approved). It records, for each
function, the models its invocations validate, construct or serialize from Python, and those a type
adapter is made for (the API's router makes one for a route's body and answer). A model only ever
validated inside another is not listed: it is never built on its own. The lists join every
invocation of a function in those cases, so they hold at least what its first invocation builds.
The import bench then builds each handler's lists after importing it, in the same fresh interpreter.

Run in a process of its own (``python -m infra.bench.first_use`` prints the lists as JSON): the
recording wraps pydantic's entry points, which the pipeline's own figures must not carry.
"""

import json
import subprocess
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, get_args

from pydantic import BaseModel, TypeAdapter
from zerovisit.clock import clock

from infra.bench.results import ROOT

FUNCTION_MODULE_PREFIX = "zerovisit_function_"  # how the local runtime names a function's app module
HANDLER_MODULE = "app"  # how the import bench names it, as Lambda does
RECORD_TIMEOUT_SECONDS = 300
# The seal's department never answers: the sweep deems it approved when its working day has passed.
SILENT_DEPARTMENT = "GA-SEAL"
SILENT_STEP = timedelta(hours=4)  # how far the domain clock moves while nobody answers


class ModelUses:
    """Per function (its code folder), the models used from Python while one of its invocations ran,
    and the models a type adapter was made for (the API's router makes one for a route's body)."""

    def __init__(self) -> None:
        self.models: dict[str, set[str]] = defaultdict(set)
        self.adapters: dict[str, set[str]] = defaultdict(set)
        self._current = threading.local()

    def note(self, model: type[BaseModel], adapter: bool = False) -> None:
        function = getattr(self._current, "function", None)
        if function is not None and model.__module__.startswith("zerovisit"):
            module = model.__module__
            if module.startswith(FUNCTION_MODULE_PREFIX):
                if module.removeprefix(FUNCTION_MODULE_PREFIX) != function:
                    return
                module = HANDLER_MODULE
            (self.adapters if adapter else self.models)[function].add(f"{module}:{model.__qualname__}")

    @contextmanager
    def invocation(self, function: str) -> Iterator[None]:
        previous = getattr(self._current, "function", None)
        self._current.function = function
        try:
            yield
        finally:
            self._current.function = previous

    def as_json(self) -> dict[str, dict[str, list[str]]]:
        functions = sorted(set(self.models) | set(self.adapters))
        return {
            f: {"models": sorted(self.models.get(f, ())), "adapters": sorted(self.adapters.get(f, ()))}
            for f in functions
        }


@contextmanager
def watching(uses: ModelUses) -> Iterator[None]:
    """Note the model class on every entry point that builds a deferred model, and the models a type
    adapter is made for (it generates their schemas within its own); restore them after."""
    saved: dict[str, Any] = {}

    def on_class(name: str) -> None:
        original: Callable[..., Any] = getattr(BaseModel, name).__func__
        saved[name] = BaseModel.__dict__[name]

        def noted(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
            uses.note(cls)
            return original(cls, *args, **kwargs)

        setattr(BaseModel, name, classmethod(noted))

    def on_instance(name: str) -> None:
        original: Callable[..., Any] = BaseModel.__dict__[name]
        saved[name] = original

        def noted(self: BaseModel, *args: Any, **kwargs: Any) -> Any:
            uses.note(type(self))
            return original(self, *args, **kwargs)

        setattr(BaseModel, name, noted)

    adapter_init = TypeAdapter.__init__

    def adapter_noted(self: TypeAdapter[Any], type_: Any, *args: Any, **kwargs: Any) -> None:
        for model in models_within(type_):
            uses.note(model, adapter=True)
        adapter_init(self, type_, *args, **kwargs)

    for name in ("model_validate", "model_validate_json", "model_validate_strings"):
        on_class(name)
    for name in ("__init__", "model_dump", "model_dump_json"):
        on_instance(name)
    TypeAdapter.__init__ = adapter_noted  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(BaseModel, name, original)
        TypeAdapter.__init__ = adapter_init  # type: ignore[method-assign]


def models_within(type_: Any) -> Iterator[type[BaseModel]]:
    """The models a type names: itself, or those inside an Annotated, a union or a generic."""
    if isinstance(type_, type) and issubclass(type_, BaseModel):
        yield type_
    for argument in get_args(type_):
        yield from models_within(argument)


def record_uses() -> dict[str, dict[str, list[str]]]:
    """One case per flow on a fresh local runtime, every invocation's model uses noted."""
    # Here, not at the top: the pipeline bench imports the import bench, which imports this module.
    from infra.bench.pipeline import (
        EVENTS_DIR,
        FLOWS,
        FailedInvocations,
        discard_function_output,
        fresh_detail,
        load_sample,
        quiet_moto,
        run_one,
        submit,
        submitted_at,
    )
    from infra.local.partners import PartnerSimulator, Script, silent
    from infra.local.runtime import LocalRuntime

    quiet_moto()
    uses = ModelUses()
    runtime = LocalRuntime()
    runtime.start()
    discard_function_output(runtime)
    folders: dict[str, str] = {}  # the function's logical and physical names -> its code folder
    for logical, spec in runtime.functions.items():
        folders[logical] = folders[runtime.resources.get(logical, logical)] = spec.code_dir.name
    invoke = runtime.invoke

    def invoke_noting(function_name: str, event: Any) -> tuple[Any, bool]:
        physical = function_name.split(":")[-1]
        forget_cached_reads()
        with uses.invocation(folders.get(physical, physical)):
            return invoke(function_name, event)

    runtime.invoke = invoke_noting  # type: ignore[method-assign]
    failed = FailedInvocations(runtime)
    simulator = PartnerSimulator(runtime)
    try:
        with watching(uses):
            for flow in FLOWS:
                sample = load_sample(EVENTS_DIR / f"application_submitted.{flow}.json")
                run = run_one(runtime, simulator, failed, sample, "USES", 0)
                if run.status != "SUCCEEDED":
                    raise RuntimeError(f"the {flow} case ended {run.status}: its model uses are not whole")
            sample = load_sample(EVENTS_DIR / "application_submitted.business_startup.json")
            clock.set(submitted_at(sample))
            case_id = submit(runtime, sample, fresh_detail(sample, "USES", 1))
            silent_seal = PartnerSimulator(runtime, Script(decide=silent(SILENT_DEPARTMENT)))
            status = silent_seal.run_until_closed(case_id, clock_step=SILENT_STEP, timeout_seconds=180)
            if status != "SUCCEEDED":
                raise RuntimeError(f"the case with a silent {SILENT_DEPARTMENT} ended {status}")
    finally:
        runtime.stop()
    return uses.as_json()


def forget_cached_reads() -> None:
    """Each function has a process of its own in Lambda, and with it its own cached reads (the
    catalog's matters): here, where every function shares one, a read another function cached
    would hide a model's first use. The caches defined in the storage and services modules are
    cleared; those they import (settings, clients) stay."""
    for name, module in list(sys.modules.items()):
        if name.startswith(("zerovisit.storage.", "zerovisit.services.")):
            for value in vars(module).values():
                defined_here = getattr(value, "__module__", None) == name
                if defined_here and callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def recorded_uses() -> dict[str, dict[str, list[str]]]:
    """``record_uses`` in a fresh process of this interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "infra.bench.first_use"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=RECORD_TIMEOUT_SECONDS,
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"recording the models each function uses failed: {last}")
    uses: dict[str, dict[str, list[str]]] = json.loads(result.stdout.strip().splitlines()[-1])
    return uses


if __name__ == "__main__":
    print(json.dumps(record_uses()))
