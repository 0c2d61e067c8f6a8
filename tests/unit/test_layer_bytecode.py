"""The layer ships the bytecode of every module, compiled as the import bench compiles it."""

import re
import subprocess
import sys
from pathlib import Path

from infra.bench.imports import LAYER_BYTECODE
from infra.tools.check_layer import problems

ROOT = Path(__file__).resolve().parents[2]


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "python" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("VALUE = 1\n", encoding="utf-8")
    (package / "module.py").write_text("def f() -> int:\n    return 2\n", encoding="utf-8")
    return tmp_path / "python"


def test_a_layer_compiled_as_the_makefile_does_passes(tmp_path: Path) -> None:
    layer = _package(tmp_path)
    subprocess.run([sys.executable, *LAYER_BYTECODE, str(layer)], check=True)  # noqa: S603 - fixed arguments
    assert problems(layer) == []


def test_a_missing_or_timestamp_checked_bytecode_is_named(tmp_path: Path) -> None:
    layer = _package(tmp_path)
    assert problems(layer) == ["pkg/__init__.py: no bytecode", "pkg/module.py: no bytecode"]
    timestamped = [sys.executable, "-m", "compileall", "-q", str(layer)]
    subprocess.run(timestamped, check=True)  # noqa: S603 - fixed arguments
    assert problems(layer) == [
        "pkg/__init__.py: bytecode not compiled with --invalidation-mode unchecked-hash",
        "pkg/module.py: bytecode not compiled with --invalidation-mode unchecked-hash",
    ]


def test_the_layer_makefile_compiles_with_the_benchs_flags() -> None:
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text(encoding="utf-8")
    [line] = [line for line in makefile.splitlines() if "compileall" in line]
    flags = re.sub(r'"\$\(ARTIFACTS_DIR\)/python"', "", line).split()[1:]
    assert flags == list(LAYER_BYTECODE)
