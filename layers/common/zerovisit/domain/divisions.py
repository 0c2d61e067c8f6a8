"""A province's division list as the catalog holds it, and the checks it must pass."""

from typing import Annotated

from pydantic import Field, StringConstraints

from zerovisit.domain.model import Frozen, ShortText
from zerovisit.domain.regions import Level, city_of, contains, level, province_of

RegionCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


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
