"""Administrative division codes (GB/T 2260): province 32 0000, city 3201 00, county 320102."""

from enum import StrEnum


class Level(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


def level(code: str) -> Level:
    if code.endswith("0000"):
        return Level.PROVINCE
    if code.endswith("00"):
        return Level.CITY
    return Level.COUNTY


def province_of(code: str) -> str:
    return code[:2] + "0000"


def city_of(code: str) -> str:
    """The city of a county or city code; a province code is its own."""
    return code if level(code) is Level.PROVINCE else code[:4] + "00"


def lineage(code: str) -> list[str]:
    """The code, then its city, then its province, without repeats: most specific first."""
    found: list[str] = []
    for candidate in (code, city_of(code), province_of(code)):
        if candidate not in found:
            found.append(candidate)
    return found


def contains(outer: str, inner: str) -> bool:
    """Whether the division ``inner`` lies in ``outer`` (a division contains itself)."""
    return outer in lineage(inner)
