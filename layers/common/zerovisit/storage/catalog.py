"""The matter catalog table."""

from collections.abc import Sequence
from functools import lru_cache

from zerovisit.domain.catalog import Matter
from zerovisit.errors import CaseNotFound
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CatalogItem


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


def put_matters(matters: Sequence[Matter]) -> None:
    with storage_errors(), CatalogItem.batch_write() as batch:
        for matter in matters:
            batch.save(CatalogItem(matter.code, body=matter.model_dump_json()))
    get_matter.cache_clear()
