"""Catalog data as reviewed YAML files: read and validated before anything is written."""

from collections.abc import Iterable
from pathlib import Path

import yaml

from zerovisit.domain.catalog import Matter, parse_matter
from zerovisit.errors import InvalidInput


def read_catalog(paths: Iterable[Path]) -> list[Matter]:
    """Every matter in the files, or InvalidInput naming every problem in every file."""
    matters: list[Matter] = []
    problems: list[str] = []
    for path in sorted(paths):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            matters.append(parse_matter(data, source=path.name))
        except UnicodeDecodeError:
            problems.append(f"{path.name}: not UTF-8 text")
        except yaml.YAMLError as e:
            problems.append(f"{path.name}: not valid YAML ({e})")
        except InvalidInput as e:
            problems += e.problems
    codes = [m.code for m in matters]
    problems += [
        f"matter code {code} appears in more than one file"
        for code in sorted(set(codes))
        if codes.count(code) > 1
    ]
    if problems:
        raise InvalidInput(problems)
    return matters
