"""The 3550 report: per flagship matter in a region, how many cases, how long, how many documents.

Modelled on the seed's evaluation method (procedures, time, documents), from the cases closed in
a date range, read through the ClosedByMatterRegion index. A city's figures are its own cases and
its districts', a province's those of all its cities: the division list in the catalog says which
districts there are. The flagship matters are the catalog's, in 3-5-50 order.
"""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from zerovisit.domain.catalog import Matter
from zerovisit.domain.divisions import Divisions
from zerovisit.domain.regions import province_of
from zerovisit.errors import InvalidInput
from zerovisit.storage import cases, catalog
from zerovisit.storage.cases import ClosedFigures

LONGEST_RANGE = timedelta(days=366)
Closed = tuple[str, ClosedFigures]  # the case's region and its figures


def report_3550(region_code: str, first: date, last: date) -> dict[str, Any]:
    """The region's figures per flagship matter (``matters``), and the same per city of a province
    or per district of a city (``regions``)."""
    problems = []
    if not (len(region_code) == 6 and region_code.isascii() and region_code.isdigit()):
        problems.append("region: a 6-digit region code")
    if last < first:
        problems.append("to: before from")
    elif last - first > LONGEST_RANGE:
        problems.append("to: at most one year after from")
    if problems:
        raise InvalidInput(problems)
    divisions = catalog.get_divisions(region_code) or Divisions(
        province=province_of(region_code), divisions={region_code: region_code}
    )
    matters = flagship(catalog.all_matters())
    closed = {
        (matter.code, code): [(code, f) for f in cases.closed_cases(matter.code, code, first, last)]
        for matter in matters
        for code in divisions.within(region_code)
    }

    def rolled_up(matter: Matter, code: str) -> dict[str, Any]:
        found = [c for within in divisions.within(code) for c in closed[matter.code, within]]
        return {"region_code": code, "region_name": divisions.name(code), **matter_row(matter, code, found)}

    return {
        "region_code": region_code,
        "region_name": divisions.name(region_code),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "matters": [rolled_up(m, region_code) for m in matters],
        "regions": [rolled_up(m, child) for m in matters for child in divisions.children(region_code)],
    }


def flagship(matters: Sequence[Matter]) -> list[Matter]:
    """The catalog's 3550 matters, shortest promise first: start-up 3, real estate 5, permit 50."""
    return sorted((m for m in matters if m.flagship_3550), key=lambda m: (m.promised_working_days, m.code))


def target(matter: Matter, region_code: str) -> int:
    region = matter.region(region_code)
    return region.promised_working_days if region else matter.promised_working_days


def matter_row(matter: Matter, region_code: str, closed: Sequence[Closed]) -> dict[str, Any]:
    """Each case is held to its own region's promise."""
    completed = [(code, f) for code, f in closed if f.status == "completed" and f.working_days is not None]
    days = [f.working_days for _, f in completed if f.working_days is not None]
    within = sum(
        1 for code, f in completed if f.working_days is not None and f.working_days <= target(matter, code)
    )
    return {
        "matter_code": matter.code,
        "name": matter.name,
        "target_working_days": target(matter, region_code),
        "procedures": len(matter.stages),
        "required_documents": sum(1 for m in matter.materials if not m.only_with_agent),
        "completed": len(completed),
        "closed_without_result": len(closed) - len(completed),
        "mean_working_days": round(sum(days) / len(days), 2) if days else None,
        "max_working_days": max(days) if days else None,
        "within_target": within,
        "within_target_share": round(within / len(days), 3) if days else None,
        "mean_documents_submitted": round(sum(f.documents for _, f in completed) / len(completed), 2)
        if completed
        else None,
    }
