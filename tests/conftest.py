from collections.abc import Iterator
from datetime import datetime

import pytest
from zerovisit.clock import clock

SUBMITTED = datetime.fromisoformat("2026-02-13T09:30:00+08:00")


@pytest.fixture(autouse=True)
def domain_clock() -> Iterator[None]:
    """Every test starts on the clock of the sample application: Friday 2026-02-13, 09:30 China time."""
    clock.set(SUBMITTED)
    yield
    clock.reset()
