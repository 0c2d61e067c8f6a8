"""A model is built on its first use: importing a handler builds none, and every model defers."""

import importlib
import json
import pkgutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zerovisit
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema
from zerovisit.domain.base import Model
from zerovisit.domain.model import Applicant, DeliveryAddress, Frozen, ShortText

from infra.bench.imports import handler_apps, import_environment
from tests.support import run_as_deployed

ROOT = Path(__file__).resolve().parents[2]


# Imports every handler as Lambda would (its folder on the path), names the package's and the
# handlers' models that were built, then builds each and names those that cannot be; and names the
# heavy modules no handler needs that were loaded.
IMPORT_EVERY_HANDLER = """
import importlib.util, json, sys
from pydantic import BaseModel, PydanticUserError
for number, path in enumerate(json.loads(sys.argv[1])):
    folder = path.rsplit("/", 1)[0]
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"app_{number}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    sys.path.remove(folder)

def subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from subclasses(sub)

models = {c for c in subclasses(BaseModel) if c.__module__.startswith(("zerovisit", "app_", "search_routes"))}
built = sorted(f"{c.__module__}.{c.__qualname__}" for c in models if c.__pydantic_complete__)
unbuildable = []
for model in models:
    try:
        model.model_rebuild()
    except (PydanticUserError, NameError, TypeError) as e:
        unbuildable.append(f"{model.__module__}.{model.__qualname__}: {type(e).__name__}")
unneeded = ("aws_lambda_powertools.event_handler", "asyncio")
heavy = sorted(name for name in sys.modules if name.startswith(unneeded))
print(json.dumps({"models": len(models), "built": built, "unbuildable": sorted(unbuildable), "heavy": heavy}))
"""


def _package_models() -> set[type[BaseModel]]:
    for module in pkgutil.walk_packages(zerovisit.__path__, "zerovisit."):
        importlib.import_module(module.name)
    found: set[type[BaseModel]] = set()
    pending = [BaseModel]
    while pending:
        for sub in pending.pop().__subclasses__():
            pending.append(sub)
            if sub.__module__.startswith("zerovisit."):
                found.add(sub)
    return found


def test_every_model_of_the_package_defers_its_build() -> None:
    models = _package_models()

    assert len(models) > 50
    assert sorted(m.__qualname__ for m in models if not issubclass(m, Model)) == []
    assert sorted(m.__qualname__ for m in models if m.model_config.get("defer_build") is not True) == []


@pytest.fixture(scope="module")
def every_handler_imported() -> dict[str, Any]:
    apps = [str(app) for app in handler_apps()]
    figures: dict[str, Any] = json.loads(run_as_deployed(IMPORT_EVERY_HANDLER, json.dumps(apps)))
    figures["handlers"] = len(apps)
    return figures


def test_importing_every_handler_builds_no_model(every_handler_imported: dict[str, Any]) -> None:
    assert every_handler_imported["handlers"] == 12
    assert every_handler_imported["models"] > 50
    assert every_handler_imported["built"] == []


def test_no_handler_loads_powertools_event_handler_or_asyncio(every_handler_imported: dict[str, Any]) -> None:
    # the API routes with zerovisit.api.router: Powertools' event handler package would load every
    # resolver it has, and asyncio with AppSync's, on each cold start
    assert every_handler_imported["heavy"] == []


def test_every_model_of_the_package_and_the_handlers_builds(every_handler_imported: dict[str, Any]) -> None:
    # deferred, a model's schema error would surface at its first use, in an invocation
    assert every_handler_imported["unbuildable"] == []


def test_a_deferred_model_validates_on_first_use_as_a_built_one_would() -> None:
    class Probe(Model):
        applicant: Applicant
        count: int

    assert not Probe.__pydantic_complete__

    probe = Probe.model_validate({"applicant": {"kind": "person", "name": " 张三 "}, "count": "3"})

    assert Probe.__pydantic_complete__
    assert probe.applicant.name == "张三"
    assert probe.count == 3
    assert json.loads(probe.model_dump_json())["applicant"]["kind"] == "person"


@pytest.fixture
def threads_switch_often() -> Iterator[None]:
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def first_uses_at_once(threads: int) -> tuple[list[str], list[int]]:
    """A model never used before, validated by `threads` threads released together: its builds and
    what each thread validated."""
    builds: list[str] = []
    validated: list[int] = []

    class Fresh(Frozen):
        name: ShortText
        count: int
        applicant: Applicant
        address: DeliveryAddress | None = None

        @classmethod
        def __pydantic_on_complete__(cls) -> None:
            builds.append(cls.__name__)

    start = threading.Barrier(threads)

    def first_use(count: int) -> None:
        start.wait()
        applicant = {"kind": "person", "name": "张三"}
        validated.append(Fresh.model_validate({"name": "x", "count": count, "applicant": applicant}).count)

    workers = [threading.Thread(target=first_use, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return builds, validated


@pytest.mark.usefixtures("threads_switch_often")
def test_threads_using_a_model_first_at_the_same_moment_build_it_once_and_all_validate() -> None:
    for _ in range(20):
        builds, validated = first_uses_at_once(threads=8)

        assert builds == ["Fresh"]
        assert sorted(validated) == list(range(8))


def test_a_json_schema_asked_while_the_model_is_first_built_waits_for_that_build() -> None:
    building, finish = threading.Event(), threading.Event()

    class HeldBuild:
        """A field whose schema holds the build until the test lets it finish."""

        @classmethod
        def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
            building.set()
            finish.wait(timeout=10)
            return core_schema.int_schema()

    class Parent(Model):
        a: int

    class Child(Parent):
        b: HeldBuild

    Parent.model_rebuild()  # a built parent: its schema is what a racing reader would find
    first_use = threading.Thread(target=Child.model_validate, args=({"a": 1, "b": 2},))
    first_use.start()
    assert building.wait(timeout=10)
    schemas: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: schemas.append(Child.model_json_schema()))
    reader.start()
    reader.join(timeout=0.2)  # a reader that does not wait for the build is done by now
    finish.set()
    first_use.join()
    reader.join()

    assert schemas[0]["title"] == "Child"
    assert sorted(schemas[0]["properties"]) == ["a", "b"]


def test_a_first_use_resolves_a_forward_reference_where_the_model_was_defined() -> None:
    class Outer(Model):
        inner: "Inner"

    class Inner(Model):
        value: int

    assert Outer.model_validate({"inner": {"value": 1}}).inner == Inner(value=1)


def test_a_json_schema_asked_first_resolves_a_forward_reference_where_the_model_was_defined() -> None:
    class Outer(Model):
        inner: "Inner"

    class Inner(Model):
        value: int

    schema = Outer.model_json_schema()

    assert schema["properties"]["inner"] == {"$ref": "#/$defs/Inner"}
    assert schema["$defs"]["Inner"]["required"] == ["value"]


# A handler's cold start as deployed, up to its first model build; prints whether pydantic looked
# through the installed packages' metadata for plugins.
FIRST_BUILD_OF_A_HANDLER = """
import importlib.metadata, json, runpy, sys
looked = []
listed = importlib.metadata.distributions
importlib.metadata.distributions = lambda *a, **k: looked.append(1) or listed(*a, **k)
sys.path.insert(0, sys.argv[1].rsplit("/", 1)[0])
runpy.run_path(sys.argv[1])
from zerovisit.domain.case import Case
Case.model_rebuild()
print(json.dumps({"looked_for_plugins": bool(looked)}))
"""


@pytest.mark.parametrize("disabled", [True, False], ids=["as deployed", "variable removed"])
def test_a_cold_starts_first_build_looks_for_no_plugin_as_deployed(disabled: bool) -> None:
    assert import_environment().get("PYDANTIC_DISABLE_PLUGINS") == "__all__"  # the template's Globals
    app = str(ROOT / "functions" / "completion" / "app.py")
    without = None if disabled else "PYDANTIC_DISABLE_PLUGINS"

    looked = json.loads(run_as_deployed(FIRST_BUILD_OF_A_HANDLER, app, without=without))

    assert looked == {"looked_for_plugins": not disabled}


# Imports every handler as Lambda would, wires the services to AWS as a first invocation does, and
# names the package's dataclasses made.
DATACLASSES_OF_THE_HANDLERS = """
import dataclasses, importlib.util, json, sys
made = set()
process = dataclasses._process_class
def recorded(cls, *args, **kwargs):
    if cls.__module__.startswith("zerovisit"):
        made.add(f"{cls.__module__}.{cls.__qualname__}")
    return process(cls, *args, **kwargs)
dataclasses._process_class = recorded
for number, path in enumerate(json.loads(sys.argv[1])):
    folder = path.rsplit("/", 1)[0]
    sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(f"app_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.path.remove(folder)
from zerovisit.services.ports import ports
ports()  # the adapters and storage a first invocation loads
print(json.dumps(sorted(made)))
"""


def test_a_handlers_import_makes_only_the_dataclasses_a_named_tuple_cannot_replace() -> None:
    """A dataclass compiles its methods when its module is imported, most of a millisecond each on
    every cold start; a named tuple's class costs a seventh of that. Those left need what a named
    tuple lacks: KeptAnswer is marked written after the write, the API's Admitted request is filled
    in as it is checked, and Change derives its tasks on creation."""
    apps = [str(app) for app in handler_apps()]

    made = json.loads(run_as_deployed(DATACLASSES_OF_THE_HANDLERS, json.dumps(apps)))

    assert len(apps) == 12
    assert made == [
        "zerovisit.api.boundary.Admitted",
        "zerovisit.domain.case.Change",
        "zerovisit.services.ports.KeptAnswer",
    ]
