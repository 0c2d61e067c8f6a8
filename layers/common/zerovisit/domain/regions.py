"""Administrative division codes (GB/T 2260): province 32 0000, city 3201 00, county 320102."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from zerovisit.domain.model import Frozen, ShortText

RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


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


class Divisions(Frozen):
    """A province's division list (GB/T 2260), what the 3550 report rolls up with."""

    province: RegionCode
    divisions: dict[RegionCode, ShortText] = Field(min_length=1)

    def within(self, code: str) -> list[str]:
        """The listed divisions in ``code`` (itself included, listed or not), in code order."""
        return sorted({code} | {c for c in self.divisions if contains(code, c)})

    def children(self, code: str) -> list[str]:
        """The cities of a province, the counties of a city; a county has none."""
        below = Level.CITY if level(code) is Level.PROVINCE else Level.COUNTY
        if level(code) is Level.COUNTY:
            return []
        return [c for c in self.within(code) if c != code and level(c) is below]

    def name(self, code: str) -> str:
        return self.divisions.get(code, code)


def division_problems(divisions: Divisions) -> list[str]:
    """Every listed code lies in the province, and every county's city is listed."""
    problems = [
        f"divisions: {code} does not lie in province {divisions.province}"
        for code in divisions.divisions
        if province_of(code) != divisions.province
    ]
    problems += [
        f"divisions: {code} lies in city {city_of(code)}, which is not listed"
        for code in divisions.divisions
        if city_of(code) not in divisions.divisions
    ]
    return problems
