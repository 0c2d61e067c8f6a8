from collections.abc import Iterator

import pytest
from zerovisit.services.ports import install

from tests.fakes import FakeCases, fake_ports


@pytest.fixture
def cases() -> Iterator[FakeCases]:
    """The services wired to in-memory fakes; the fake case repository, to arrange and inspect."""
    ports = fake_ports()
    install(ports)
    assert isinstance(ports.cases, FakeCases)
    yield ports.cases
    install(None)
