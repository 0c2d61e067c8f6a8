"""The partners that are not departments, and which regions supervision oversees."""

from collections.abc import Sequence

from zerovisit.domain import regions

SERVICE_NETWORK = "service-network"
SUPERVISION = "supervision"
OPERATIONS = "operations"  # the office's operators: resume a failed case, revoke a certificate


def supervised_regions(setting: str) -> tuple[str, ...]:
    """``SUPERVISION_REGIONS``: comma-separated division codes, each covering the divisions in it
    ("320000" the province with its cities and counties, "320100" Nanjing and its districts,
    "320106" one district). Empty: no region. ValueError names a code that is not one."""
    codes = tuple(c.strip() for c in setting.split(",") if c.strip())
    wrong = [c for c in codes if not (len(c) == 6 and c.isascii() and c.isdigit())]
    if wrong:
        raise ValueError(f"not six-digit division codes: {', '.join(wrong)}")
    return codes


def supervises(supervised: Sequence[str], region_code: str) -> bool:
    """Whether the region lies in one of the supervised regions (a region lies in itself)."""
    return any(regions.contains(outer, region_code) for outer in supervised)
