"""The matter catalog table: matters by code, and the provinces' division lists.

An execution environment keeps the matters it read, and follows the catalog's version: at most
every VERSION_CHECK_SECONDS it reads one item, ``CATALOG#VERSION``, which every load writes after
its matters, and forgets the matters it holds when the version has changed. A load reaches running
functions within that time, at the cost of one read by key a minute per environment.
"""

import hashlib
import json
import time
from collections.abc import Sequence
from functools import lru_cache
from typing import NamedTuple

from zerovisit.domain.catalog import Matter
from zerovisit.domain.divisions import Divisions
from zerovisit.domain.regions import province_of
from zerovisit.errors import CaseNotFound, DependencyUnavailable
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CatalogItem

DIVISIONS_PREFIX = "DIVISIONS#"
CATALOG_VERSION = "CATALOG#VERSION"
VERSION_CHECK_SECONDS = 60
monotonic = time.monotonic  # the check's own time source: the real time, which tests may replace


class _Followed(NamedTuple):
    version: str | None  # None: no version read yet, or none stored (a catalog loaded before versions)
    checked_at: float


_followed = _Followed(None, -float("inf"))


def get_matter(code: str) -> Matter | None:
    """A matter by code, or None: as this environment read it, unless the catalog has changed since."""
    _follow_version()
    return _read_matter(code)


@lru_cache(maxsize=256)
def _read_matter(code: str) -> Matter | None:
    try:
        with storage_errors():
            item = CatalogItem.get(code)
    except CaseNotFound:
        return None
    return Matter.model_validate_json(item.body)


def _follow_version() -> None:
    """A version that cannot be read now is read again a check later; meanwhile what is held
    stands (a step that needs a matter not held reads it, and meets the same failure)."""
    global _followed
    now = monotonic()
    if now - _followed.checked_at < VERSION_CHECK_SECONDS:
        return
    try:
        version = stored_version()
    except DependencyUnavailable:
        _followed = _followed._replace(checked_at=now)
        return
    if version != _followed.version:
        _read_matter.cache_clear()
    _followed = _Followed(version, now)


def stored_version() -> str | None:
    try:
        with storage_errors():
            return str(json.loads(CatalogItem.get(CATALOG_VERSION).body)["version"])
    except CaseNotFound:
        return None


def forget_matters() -> None:
    """As a new execution environment: no matter held, the version read again on the next use."""
    global _followed
    _read_matter.cache_clear()
    _followed = _Followed(None, -float("inf"))


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


def put_matters(matters: Sequence[Matter]) -> str:
    """Write the matters and their list, then the catalog's version, the digest of what was
    written: the same catalog loaded again is the same version. Returns the version."""
    bodies = {matter.code: matter.model_dump_json() for matter in matters}
    version = hashlib.sha256(json.dumps(bodies, sort_keys=True).encode()).hexdigest()[:16]
    with storage_errors():
        with CatalogItem.batch_write() as batch:
            for code, body in bodies.items():
                batch.save(CatalogItem(code, body=body))
            batch.save(CatalogItem(MATTER_LIST, body=json.dumps(sorted(bodies))))
        CatalogItem(CATALOG_VERSION, body=json.dumps({"version": version})).save()
    forget_matters()
    return version


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
