"""Where the sweep through the due alarms stands, and which invocation is sweeping.

One record for all sweeps. A pass reads the DueAlarms index from its start to its end; when an
invocation runs out of time it leaves the position of the last entry it took, and the next one
(its continuation, or the next scheduled sweep) goes on from there. Only the holder of an
unexpired lease sweeps, so two invocations never work through the same entries; a lease whose
holder died ends at ``lease_until`` and the next sweep takes over from the last position stored.
"""

from datetime import datetime
from typing import NamedTuple


class SweepCursor(NamedTuple):
    version: int = 0  # of the stored record; 0: none stored yet
    position: str | None = None  # just after the last due entry taken in this pass; None: its start
    pass_started_at: datetime | None = None
    taken_in_pass: int = 0
    invocations_in_pass: int = 0
    owner: str | None = None
    lease_until: datetime | None = None

    def held_by_another(self, owner: str, now: datetime) -> bool:
        return (
            self.owner is not None
            and self.owner != owner
            and self.lease_until is not None
            and self.lease_until > now
        )

    def claimed(self, owner: str, now: datetime, until: datetime) -> "SweepCursor":
        """The lease to ``owner``; a pass under way goes on from where it stands."""
        return self._replace(
            owner=owner,
            lease_until=until,
            pass_started_at=self.pass_started_at or now,
            invocations_in_pass=self.invocations_in_pass + 1,
        )

    def advanced(self, position: str | None, taken: int) -> "SweepCursor":
        return self._replace(position=position, taken_in_pass=self.taken_in_pass + taken)

    def released(self, pass_finished: bool) -> "SweepCursor":
        """The lease given up; a finished pass leaves no position, so the next starts from the top."""
        if pass_finished:
            return SweepCursor(version=self.version)
        return self._replace(owner=None, lease_until=None)
