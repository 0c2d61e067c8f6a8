"""Catalog data as reviewed YAML files: read and validated before anything is written.

A file holds one matter, or a province's division list (a mapping with ``divisions``)."""

from collections.abc import Iterable
from pathlib import Path

import yaml
from pydantic import ValidationError

from zerovisit.domain.catalog import Matter, describe, parse_matter
from zerovisit.domain.divisions import Divisions, division_problems
from zerovisit.errors import InvalidInput


def read_catalog(paths: Iterable[Path]) -> list[Matter]:
    """Every matter in the files, or InvalidInput naming every problem in every file."""
    return read_catalog_files(paths)[0]


def read_catalog_files(paths: Iterable[Path]) -> tuple[list[Matter], list[Divisions]]:
    """Every matter and every division list in the files, or InvalidInput naming every problem."""
    matters: list[Matter] = []
    division_lists: list[Divisions] = []
    problems: list[str] = []
    for path in sorted(paths):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "divisions" in data:
                division_lists.append(_parse_divisions(data, path.name))
            else:
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
    provinces = [d.province for d in division_lists]
    problems += [
        f"divisions of province {code} appear in more than one file"
        for code in sorted(set(provinces))
        if provinces.count(code) > 1
    ]
    if problems:
        raise InvalidInput(problems)
    return matters, division_lists


def _parse_divisions(data: object, source: str) -> Divisions:
    try:
        divisions = Divisions.model_validate(data)
    except ValidationError as e:
        raise InvalidInput([f"{source}: {describe(err)}" for err in e.errors()]) from e
    problems = division_problems(divisions)
    if problems:
        raise InvalidInput([f"{source}: {p}" for p in problems])
    return divisions
