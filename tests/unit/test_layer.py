"""The layer holds what the handlers import: every third-party module the functions and the zerovisit
package import comes from layers/common/requirements.txt or from the Lambda runtime."""

import ast
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "common" / "zerovisit"
# The Lambda Python runtime brings these (boto3 with botocore and its dependencies).
RUNTIME = {"boto3", "botocore", "jmespath", "python-dateutil", "six", "urllib3", "s3transfer"}
# Modules only the command line loads (never imported by a handler): their dependencies are the CLI's.
COMMAND_LINE = {"cli.py", "catalog_files.py", "operator_cli.py"}
FUNCTION_LOCAL = {"search_routes"}  # a sibling module in functions/api


def _top_level_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _third_party(paths: list[Path]) -> set[str]:
    imported = set().union(*(_top_level_imports(p) for p in paths))
    return {n for n in imported if n not in sys.stdlib_module_names and n != "zerovisit"} - FUNCTION_LOCAL


def _requirements() -> set[str]:
    lines = (ROOT / "layers" / "common" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return {line.split("==")[0].lower().replace("_", "-") for line in lines if "==" in line}


def _distribution(module: str) -> str:
    return packages_distributions()[module][0].lower().replace("_", "-")


def handler_code() -> list[Path]:
    package = [p for p in PACKAGE.rglob("*.py") if p.name not in COMMAND_LINE]
    return package + sorted((ROOT / "functions").rglob("*.py"))


def test_every_module_a_handler_imports_is_in_the_layer_or_the_runtime() -> None:
    needed = {_distribution(module) for module in _third_party(handler_code())}
    assert needed - RUNTIME <= _requirements()
    assert not _requirements() & RUNTIME, "the runtime's own boto3 and botocore are not packed again"


def test_yaml_is_the_command_lines_only() -> None:
    assert "yaml" not in _third_party(handler_code())
    assert "yaml" in _third_party([PACKAGE / name for name in COMMAND_LINE])
    assert "pyyaml" not in _requirements()
