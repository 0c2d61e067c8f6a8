"""Recomputing a case's deadlines (a new year's schedule loaded), through the one write loop."""

from collections.abc import Callable

from zerovisit.clock import clock
from zerovisit.domain.case import Case, Change
from zerovisit.domain.model import TimelineEntry
from zerovisit.services.common import apply


def change_case(case_id: str, change: Callable[[Case], tuple[Case, list[TimelineEntry]]]) -> Case:
    """Read, recompute and write the case's clock, again on a lost race."""

    def decide(case: Case) -> Change:
        recomputed, entries = change(case)
        return case.recalculated(clock.now(), recomputed, entries)

    saved, _ = apply(case_id, decide)
    return saved
