"""A handler's cold start in Lambda collects no garbage while its modules load, then freezes what
they made and collects again (zerovisit.coldstart); elsewhere the collector is left alone."""

import ast
import json
from pathlib import Path
from typing import Any

import pytest

from infra.bench.imports import handler_apps
from tests.support import run_as_deployed

# Counts the collections while a handler's module runs as Lambda loads it (its folder on the path),
# from its first line: a handler that loaded anything before zerovisit.coldstart would be collected
# meanwhile. Then tells whether the collector runs and how many objects are frozen.
IMPORT_A_HANDLER = """
import gc, importlib.util, json, sys
collections = []
gc.callbacks.append(lambda phase, info: phase == "start" and collections.append(info["generation"]))
path = sys.argv[1]
sys.path.insert(0, path.rsplit("/", 1)[0])
spec = importlib.util.spec_from_file_location("app", path)
module = importlib.util.module_from_spec(spec)
gc.collect()  # from here on, every collection is the handler's: its counts start at nothing
collections.clear()
spec.loader.exec_module(module)
during = len(collections)
garbage = []
for _ in range(3000):  # cycles made after the import are collected again
    cycle = []
    cycle.append(cycle)
    garbage.append(cycle)
del garbage, cycle
print(json.dumps({
    "collections": during, "enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
    "after": len(collections) - during,
}))
"""


def imported(app: str, *, in_lambda: bool) -> dict[str, Any]:
    without = None if in_lambda else "AWS_EXECUTION_ENV"
    figures: dict[str, Any] = json.loads(run_as_deployed(IMPORT_A_HANDLER, app, without=without))
    return figures


@pytest.mark.parametrize("app", handler_apps(), ids=lambda app: app.parent.name)
def test_in_lambda_a_handlers_import_collects_nothing_then_freezes_and_collects_again(app: Path) -> None:
    figures = imported(str(app), in_lambda=True)

    assert figures["collections"] == 0
    assert figures["enabled"] is True
    assert figures["frozen"] > 20_000  # the modules' objects
    assert figures["after"] > 0


def test_outside_lambda_the_collector_is_left_alone() -> None:
    app = next(str(a) for a in handler_apps() if a.parent.name == "acceptance")

    figures = imported(app, in_lambda=False)

    assert figures["collections"] > 10
    assert (figures["enabled"], figures["frozen"]) == (True, 0)


def test_every_handler_imports_coldstart_before_anything_else_and_calls_cold_start() -> None:
    for app in handler_apps():
        tree = ast.parse(app.read_text(encoding="utf-8"))
        statements = [
            s for s in tree.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        first = statements[0]
        assert isinstance(first, ast.Import), app
        assert [a.name for a in first.names] == ["zerovisit.coldstart"], app
        called = [
            s.value.func.id
            for s in tree.body
            if isinstance(s, ast.Expr)
            and isinstance(s.value, ast.Call)
            and isinstance(s.value.func, ast.Name)
        ]
        assert "cold_start" in called, app
