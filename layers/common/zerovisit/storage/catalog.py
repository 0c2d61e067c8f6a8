"""The matter catalog table: matters by code, and the provinces' division lists."""

import json
from collections.abc import Sequence
from functools import lru_cache

from zerovisit.domain.catalog import Matter
from zerovisit.domain.divisions import Divisions
from zerovisit.domain.regions import province_of
from zerovisit.errors import CaseNotFound
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CatalogItem

DIVISIONS_PREFIX = "DIVISIONS#"


@lru_cache(maxsize=256)
def get_matter(code: str) -> Matter | None:
    """A matter by code, or None. Cached for the life of the execution environment: catalog
    changes reach new cold starts."""
    try:
        with storage_errors():
            item = CatalogItem.get(code)
    except CaseNotFound:
        return None
    return Matter.model_validate_json(item.body)


# The list of matter codes a load wrote: the catalog is read by key, never scanned.
MATTER_LIST = "MATTERS#ALL"


def all_matters() -> list[Matter]:
    """Every matter of the last catalog load, by code."""
    try:
        with storage_errors():
            codes = json.loads(CatalogItem.get(MATTER_LIST).body)
    except CaseNotFound:
        return []
    return [m for code in sorted(codes) if (m := get_matter(code)) is not None]


def put_matters(matters: Sequence[Matter]) -> None:
    with storage_errors(), CatalogItem.batch_write() as batch:
        for matter in matters:
            batch.save(CatalogItem(matter.code, body=matter.model_dump_json()))
        batch.save(CatalogItem(MATTER_LIST, body=json.dumps(sorted(m.code for m in matters))))
    get_matter.cache_clear()


def put_divisions(division_lists: Sequence[Divisions]) -> None:
    with storage_errors(), CatalogItem.batch_write() as batch:
        for divisions in division_lists:
            batch.save(CatalogItem(DIVISIONS_PREFIX + divisions.province, body=divisions.model_dump_json()))


def get_divisions(region_code: str) -> Divisions | None:
    """The division list of the region's province, or None if none was loaded."""
    try:
        with storage_errors():
            item = CatalogItem.get(DIVISIONS_PREFIX + province_of(region_code))
    except CaseNotFound:
        return None
    return Divisions.model_validate_json(item.body)
