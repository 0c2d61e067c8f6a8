"""The bench's first-use figure: which models each function's invocations use, and their builds."""

import importlib
import site
from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, TypeAdapter
from zerovisit.domain.base import Model
from zerovisit.domain.model import Applicant, DeliveryAddress, SubmittedMaterial

from infra.bench.first_use import ModelUses, recorded_uses, watching
from infra.bench.imports import (
    FUNCTIONS_DIR,
    LAYER_SOURCE,
    Sample,
    _timed,
    baseline_source,
    handler_apps,
    import_environment,
    time_import,
)

APP = str(FUNCTIONS_DIR / "acceptance" / "app.py")
PATHS = [LAYER_SOURCE, *(Path(p) for p in site.getsitepackages())]  # this environment's packages


def entry_points() -> tuple[object, ...]:
    return (
        *(BaseModel.__dict__[name] for name in ("model_validate", "model_validate_json", "__init__")),
        *(BaseModel.__dict__[name] for name in ("model_dump", "model_dump_json", "model_validate_strings")),
        TypeAdapter.__init__,
    )


def test_a_model_is_noted_for_the_function_whose_invocation_uses_it_and_pydantic_is_restored() -> None:
    uses = ModelUses()
    before = entry_points()

    with watching(uses):
        Applicant.model_validate({"kind": "person", "name": "张三"})  # no invocation running
        with uses.invocation("intake"):
            Applicant(kind="person", name="张三")
            TypeAdapter(Annotated[SubmittedMaterial, "a route's body"])
        with uses.invocation("api"):
            address = DeliveryAddress.model_validate_json(
                '{"recipient": "李四", "phone": "13912345678", "address": "南京市玄武区"}'
            )
        address.model_dump_json()  # again outside

    assert uses.as_json() == {
        "api": {"models": ["zerovisit.domain.model:DeliveryAddress"], "adapters": []},
        "intake": {
            "models": ["zerovisit.domain.model:Applicant"],
            "adapters": ["zerovisit.domain.model:SubmittedMaterial"],
        },
    }
    assert entry_points() == before


def test_a_handlers_own_model_is_named_as_lambda_loads_it_and_only_for_that_function() -> None:
    class Body(Model):
        value: int

    Body.__module__, Body.__qualname__ = "zerovisit_function_api", "Body"
    uses = ModelUses()

    with watching(uses):
        with uses.invocation("api"):
            Body(value=1)
        with uses.invocation("intake"):
            Body(value=2)

    assert uses.as_json() == {"api": {"models": ["app:Body"], "adapters": []}}


def test_four_cases_name_what_every_function_builds_first_as_if_it_ran_alone() -> None:
    uses = recorded_uses()

    assert sorted(uses) == sorted(app.parent.name for app in handler_apps())
    for function, built in uses.items():
        assert built["models"], function
        for qualified in built["models"] + built["adapters"]:
            module, _, name = qualified.partition(":")
            if module != "app":
                assert issubclass(getattr(importlib.import_module(module), name), Model), qualified
    # intake reads the matter first; in its own process each later step reads it again
    for function in ("acceptance", "certificate", "payment", "review_consolidation", "sweeper"):
        assert "zerovisit.domain.catalog:Matter" in uses[function]["models"], function
    assert "zerovisit.steps:AcceptanceInput" in uses["acceptance"]["models"]
    assert "zerovisit.domain.review:DepartmentDecision" in uses["api"]["adapters"]


def test_the_first_use_import_builds_the_models_listed_and_makes_their_adapters() -> None:
    listed = {
        "models": ["zerovisit.domain.case:Case", "zerovisit.steps:AcceptanceInput"],
        "adapters": ["zerovisit.domain.review:DepartmentDecision"],
    }

    sample = time_import(APP, PATHS, import_environment(), listed)

    assert sample.built == len(listed["models"])
    assert sample.adapters_built == len(listed["adapters"])


def test_a_failed_import_is_kept_and_not_tried_again() -> None:
    samples: list[Sample] = []
    failures: dict[str, str] = {}
    missing = str(FUNCTIONS_DIR / "no_such_function" / "app.py")

    assert not _timed(samples, failures, "gone", missing, PATHS, import_environment())
    assert not _timed(samples, failures, "gone", APP, PATHS, import_environment())  # not tried again
    assert samples == []
    assert list(failures) == ["gone"]


def test_a_baseline_that_names_no_commit_is_refused() -> None:
    with pytest.raises(SystemExit, match="no such commit"):
        baseline_source("no-such-revision-of-zerovisit")


def test_a_first_use_list_naming_no_model_is_refused() -> None:
    with pytest.raises(RuntimeError, match="NoSuchModel"):
        time_import(APP, PATHS, import_environment(), {"models": ["zerovisit.domain.case:NoSuchModel"]})
    with pytest.raises(RuntimeError, match="NoSuchAdapter"):
        time_import(APP, PATHS, import_environment(), {"adapters": ["zerovisit.domain.case:NoSuchAdapter"]})
