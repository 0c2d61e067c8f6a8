"""The one clock of the domain.

Production reads the system time. Tests and the local runtime set or advance
it; time keeps flowing from the set point, so events recorded one after the
other still have increasing timestamps.
"""

import threading
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta()
        self._frozen: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """Current time, timezone-aware (UTC)."""
        with self._lock:
            if self._frozen is not None:
                return self._frozen.astimezone(UTC)
            return datetime.fromtimestamp(time.time(), UTC) + self._offset

    def today(self) -> date:
        """Today's date in China, where the statutory clock runs."""
        return self.now().astimezone(CHINA).date()

    def set(self, moment: datetime, *, frozen: bool = False) -> None:
        if moment.tzinfo is None:
            raise ValueError("clock.set needs a timezone-aware datetime")
        with self._lock:
            self._frozen = moment if frozen else None
            self._offset = moment - datetime.fromtimestamp(time.time(), UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            if self._frozen is not None:
                self._frozen += delta
            self._offset += delta

    def reset(self) -> None:
        with self._lock:
            self._frozen = None
            self._offset = timedelta()


clock = Clock()
