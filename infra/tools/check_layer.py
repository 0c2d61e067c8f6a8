"""Checks that a built layer ships the bytecode of every module, compiled hash-based and unchecked.

/opt is read-only in Lambda: a module whose bytecode the layer lacks is compiled again on every cold
start. ``make build`` runs this on the CommonLayer that ``sam build`` wrote.

Run from the project root: python -m infra.tools.check_layer [DIRECTORY]
"""

import argparse
import importlib.util
import sys
from pathlib import Path

DEFAULT = Path(".aws-sam/build/CommonLayer/python")
UNCHECKED_HASH = 0b01  # PEP 552 flags: hash-based, source not checked


def problems(directory: Path) -> list[str]:
    """Every module without bytecode, or with bytecode that would be checked against its source."""
    found: list[str] = []
    for source in sorted(directory.rglob("*.py")):
        compiled = Path(importlib.util.cache_from_source(str(source)))
        shown = source.relative_to(directory)
        if not compiled.is_file():
            found.append(f"{shown}: no bytecode")
            continue
        header = compiled.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            found.append(f"{shown}: bytecode of another Python version")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            found.append(f"{shown}: bytecode not compiled with --invalidation-mode unchecked-hash")
    if not found and not any(directory.rglob("*.py")):
        found.append(f"{directory}: no Python modules at all")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path, nargs="?", default=DEFAULT)
    args = parser.parse_args(argv)
    found = problems(args.directory)
    for problem in found[:20]:
        print(problem, file=sys.stderr)
    if found:
        print(
            f"{len(found)} modules of {args.directory} would be compiled on every cold start", file=sys.stderr
        )
        return 1
    print(f"{args.directory}: every module ships its bytecode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
