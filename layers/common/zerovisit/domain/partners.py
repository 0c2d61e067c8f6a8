"""The partners that are not departments, and which regions supervision oversees."""

from collections.abc import Sequence

SERVICE_NETWORK = "service-network"
SUPERVISION = "supervision"
OPERATIONS = "operations"  # the office's operators: resume a failed case, revoke a certificate


def region_prefixes(setting: str) -> tuple[str, ...]:
    """``SUPERVISION_REGIONS``: comma-separated region-code prefixes ("3201" is every district of
    Nanjing, "320106" one district); empty means every region."""
    return tuple(p.strip() for p in setting.split(",") if p.strip())


def supervises(prefixes: Sequence[str], region_code: str) -> bool:
    return not prefixes or any(region_code.startswith(p) for p in prefixes)
