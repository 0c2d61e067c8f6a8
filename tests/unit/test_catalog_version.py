"""A function keeps the matters it read and follows the catalog's version: a load reaches it within
VERSION_CHECK_SECONDS, with one read by key per check (zerovisit.storage.catalog)."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog_files
from zerovisit.domain.catalog import Matter
from zerovisit.errors import DependencyUnavailable
from zerovisit.observability import cold_start
from zerovisit.storage import catalog
from zerovisit.storage.tables import CatalogItem

from tests.unit.test_cli import CATALOG_FILES, catalog_table, environment

__all__ = ["catalog_table", "environment"]  # fixtures used here
STARTUP = "BUSINESS-STARTUP"


class Seconds:
    """The check's time source, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def seconds(monkeypatch: pytest.MonkeyPatch) -> Seconds:
    clock = Seconds()
    monkeypatch.setattr(catalog, "monotonic", clock)
    return clock


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys this process reads from the catalog table."""
    keys: list[str] = []
    get: Callable[..., Any] = CatalogItem.get

    def counted(key: str, *args: Any, **kwargs: Any) -> Any:
        keys.append(key)
        return get(key, *args, **kwargs)

    monkeypatch.setattr(CatalogItem, "get", counted)
    return keys


@pytest.fixture
def matters(catalog_table: None) -> Iterator[list[Matter]]:
    cold_start()
    loaded, _ = read_catalog_files(CATALOG_FILES)
    catalog.put_matters(loaded)
    yield loaded
    catalog.forget_matters()


def changed(matters: list[Matter], days: int) -> list[Matter]:
    return [m.model_copy(update={"promised_working_days": days}) if m.code == STARTUP else m for m in matters]


@contextmanager
def in_another_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A load made by the operator's command: this process's own matters are not forgotten by it."""
    with monkeypatch.context() as patch:
        patch.setattr(catalog, "forget_matters", lambda: None)
        yield


def test_a_load_reaches_a_function_that_holds_the_matter_within_the_check_interval(
    matters: list[Matter], seconds: Seconds, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    held = catalog.get_matter(STARTUP)
    assert held is not None
    with in_another_process(monkeypatch):
        catalog.put_matters(changed(matters, held.promised_working_days - 1))
    reads.clear()

    seconds.now += catalog.VERSION_CHECK_SECONDS - 1
    still = catalog.get_matter(STARTUP)
    assert still is not None
    assert (still.promised_working_days, reads) == (held.promised_working_days, [])  # nothing read

    seconds.now += 1
    followed = catalog.get_matter(STARTUP)
    assert followed is not None
    assert followed.promised_working_days == held.promised_working_days - 1
    assert reads == [catalog.CATALOG_VERSION, STARTUP]


def test_the_same_catalog_loaded_again_is_the_same_version_and_keeps_what_is_held(
    matters: list[Matter], seconds: Seconds, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = catalog.stored_version()
    catalog.get_matter(STARTUP)
    with in_another_process(monkeypatch):
        again = catalog.put_matters(matters)
    reads.clear()

    seconds.now += catalog.VERSION_CHECK_SECONDS
    catalog.get_matter(STARTUP)

    assert again == first
    assert reads == [catalog.CATALOG_VERSION]  # the version read, the matter kept


def test_a_load_that_fails_before_its_version_leaves_functions_on_the_matters_they_hold(
    matters: list[Matter], seconds: Seconds, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = catalog.get_matter(STARTUP)
    assert held is not None
    save: Callable[..., Any] = CatalogItem.save

    def lost_before_the_version(item: CatalogItem, *args: Any, **kwargs: Any) -> Any:
        if item.matter_code == catalog.CATALOG_VERSION:
            raise DependencyUnavailable("the connection dropped")
        return save(item, *args, **kwargs)

    with in_another_process(monkeypatch), monkeypatch.context() as patch:
        patch.setattr(CatalogItem, "save", lost_before_the_version)
        with pytest.raises(DependencyUnavailable):
            catalog.put_matters(changed(matters, 1))

    seconds.now += catalog.VERSION_CHECK_SECONDS
    kept = catalog.get_matter(STARTUP)
    assert kept is not None
    assert kept.promised_working_days == held.promised_working_days

    with in_another_process(monkeypatch):
        catalog.put_matters(changed(matters, 1))  # the operator loads again: the version follows
    seconds.now += catalog.VERSION_CHECK_SECONDS
    followed = catalog.get_matter(STARTUP)
    assert followed is not None
    assert followed.promised_working_days == 1


def test_a_catalog_stored_without_a_version_is_followed_once_a_load_writes_one(
    matters: list[Matter], seconds: Seconds, monkeypatch: pytest.MonkeyPatch
) -> None:
    CatalogItem(catalog.CATALOG_VERSION).delete()  # as a catalog loaded before versions were written
    catalog.forget_matters()
    held = catalog.get_matter(STARTUP)
    assert held is not None

    with in_another_process(monkeypatch):
        catalog.put_matters(changed(matters, held.promised_working_days + 1))
    seconds.now += catalog.VERSION_CHECK_SECONDS
    followed = catalog.get_matter(STARTUP)

    assert followed is not None
    assert followed.promised_working_days == held.promised_working_days + 1


def test_a_version_that_cannot_be_read_leaves_the_held_matter_and_is_read_a_check_later(
    matters: list[Matter], seconds: Seconds, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = catalog.get_matter(STARTUP)
    assert held is not None
    with in_another_process(monkeypatch):
        catalog.put_matters(changed(matters, 1))
    seconds.now += catalog.VERSION_CHECK_SECONDS

    def unavailable() -> str | None:
        raise DependencyUnavailable("DynamoDB throttled the read")

    with monkeypatch.context() as patch:
        patch.setattr(catalog, "stored_version", unavailable)
        during = catalog.get_matter(STARTUP)

    assert during is not None
    assert during.promised_working_days == held.promised_working_days  # served, not failed
    seconds.now += catalog.VERSION_CHECK_SECONDS
    followed = catalog.get_matter(STARTUP)
    assert followed is not None
    assert followed.promised_working_days == 1
