"""The 3550 report: per flagship matter in a region, how many cases, how long, how many documents.

Modelled on the seed's evaluation method (procedures, time, documents), from the cases closed in
a date range, read through the ClosedByMatterRegion index.
"""

from datetime import date, timedelta
from typing import Any

from zerovisit.errors import InvalidInput
from zerovisit.storage import cases, catalog

FLAGSHIP = ("BUSINESS-STARTUP", "REAL-ESTATE-TRANSFER", "INDUSTRIAL-CONSTRUCTION-PERMIT")
LONGEST_RANGE = timedelta(days=366)


def report_3550(region_code: str, first: date, last: date) -> dict[str, Any]:
    problems = []
    if not (len(region_code) == 6 and region_code.isascii() and region_code.isdigit()):
        problems.append("region: a 6-digit region code")
    if last < first:
        problems.append("to: before from")
    elif last - first > LONGEST_RANGE:
        problems.append("to: at most one year after from")
    if problems:
        raise InvalidInput(problems)
    return {
        "region_code": region_code,
        "from": first.isoformat(),
        "to": last.isoformat(),
        "matters": [row for code in FLAGSHIP if (row := _matter_row(code, region_code, first, last))],
    }


def _matter_row(code: str, region_code: str, first: date, last: date) -> dict[str, Any] | None:
    matter = catalog.get_matter(code)
    if matter is None:
        return None
    region = matter.region(region_code)
    target = region.promised_working_days if region else matter.promised_working_days
    closed = list(cases.closed_cases(code, region_code, first, last))
    completed = [f for f in closed if f.status == "completed" and f.working_days is not None]
    days = [f.working_days for f in completed if f.working_days is not None]
    within = sum(1 for d in days if d <= target)
    return {
        "matter_code": code,
        "name": matter.name,
        "target_working_days": target,
        "procedures": len(matter.stages),
        "required_documents": len(matter.materials),
        "completed": len(completed),
        "closed_without_result": len(closed) - len(completed),
        "mean_working_days": round(sum(days) / len(days), 2) if days else None,
        "max_working_days": max(days) if days else None,
        "within_target": within,
        "within_target_share": round(within / len(days), 3) if days else None,
        "mean_documents_submitted": round(sum(f.documents for f in completed) / len(completed), 2)
        if completed
        else None,
    }
