"""The matter catalog (事项清单): what a matter needs, who reviews it, and its limits."""

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationError

from zerovisit.domain.model import Frozen, ShortText
from zerovisit.errors import InvalidInput

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")]


class TimeoutPolicy(StrEnum):
    ESCALATE = "escalate"
    DEEM_APPROVED = "deem_approved"


class DepartmentReview(Frozen):
    code: Code
    name: ShortText
    partner_id: ShortText
    limit_working_days: int = Field(ge=1, le=60)
    complex_limit_working_days: int | None = Field(default=None, ge=1, le=60)
    timeout_policy: TimeoutPolicy = TimeoutPolicy.ESCALATE

    def limit_for(self, complex_project: bool) -> int:
        """The working-day limit: the longer one for a complex project where the catalog has one."""
        if complex_project and self.complex_limit_working_days is not None:
            return self.complex_limit_working_days
        return self.limit_working_days


class Stage(Frozen):
    name: ShortText
    departments: list[DepartmentReview] = Field(min_length=1)


class RequiredMaterial(Frozen):
    code: Code
    name: ShortText
    satisfied_by_certificate: Code | None = None


class CertificateSpec(Frozen):
    kind: Code
    name: ShortText
    type_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}[0-9]{3}$")]
    issuer_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$")]
    issuer_name: ShortText
    paper_original: bool


class RegionEntry(Frozen):
    """One region's handling of a matter (三级四同: the same matter, region by region)."""

    region_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]
    promised_working_days: int = Field(ge=1, le=60)
    statutory_working_days: int = Field(ge=1, le=90)
    zero_visit: bool = True
    onsite_inspection: bool = False


class RegionalAssessment(Frozen):
    """区域评估: a zone assessed once for everyone; for five years it replaces the evaluations it covers."""

    zone_code: Code
    name: ShortText
    covers: list[Code] = Field(min_length=1)
    valid_from: date
    valid_years: int = Field(default=5, ge=1, le=10)

    def valid_on(self, day: date) -> bool:
        until = self.valid_until
        return self.valid_from <= day < until

    @property
    def valid_until(self) -> date:
        try:
            return self.valid_from.replace(year=self.valid_from.year + self.valid_years)
        except ValueError:  # 29 February
            return self.valid_from.replace(year=self.valid_from.year + self.valid_years, day=28)


class WaitLimits(Frozen):
    """How long the case waits on each party before the wait ends on the domain clock."""

    payment_working_days: int = Field(default=10, ge=1, le=60)
    delivery_working_days: int = Field(default=5, ge=1, le=30)
    max_shipments: int = Field(default=2, ge=1, le=5)
    correction_rounds: int = Field(default=2, ge=1, le=5)
    # A silent department is escalated this many times (each a new limit of the same length);
    # then its task expires and the case fails, for an operator to settle and resume.
    max_escalations: int = Field(default=2, ge=0, le=5)


class Matter(Frozen):
    code: Code
    name: ShortText
    type: ShortText
    legal_basis: list[ShortText] = Field(min_length=1)
    promised_working_days: int = Field(ge=1, le=60)
    statutory_working_days: int = Field(ge=1, le=90)
    correction_limit_working_days: int = Field(ge=1, le=30)
    fee_fen: int = Field(ge=0)
    materials: list[RequiredMaterial] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    certificate: CertificateSpec
    regions: list[RegionEntry] = Field(min_length=1)
    regional_assessments: list[RegionalAssessment] = Field(default_factory=list)
    waits: WaitLimits = Field(default_factory=WaitLimits)

    def region(self, code: str) -> RegionEntry | None:
        """The region's entry: the county's own, else its city's, else its province's."""
        by_code = {r.region_code: r for r in self.regions}
        for candidate in (code, code[:4] + "00", code[:2] + "0000"):
            if candidate in by_code:
                return by_code[candidate]
        return None

    def assessment_covering(
        self, zone_code: str | None, department: str, day: date
    ) -> RegionalAssessment | None:
        if zone_code is None:
            return None
        return next(
            (
                a
                for a in self.regional_assessments
                if a.zone_code == zone_code and department in a.covers and a.valid_on(day)
            ),
            None,
        )

    def material(self, code: str) -> RequiredMaterial | None:
        return next((m for m in self.materials if m.code == code), None)


def parse_matter(data: object, source: str = "matter") -> Matter:
    """Validate one catalog entry; every problem is named at once, the rules across fields too."""
    problems = [f"{source}: {p}" for p in consistency_problems(data)]
    try:
        matter = Matter.model_validate(data)
    except ValidationError as e:
        raise InvalidInput([f"{source}: {describe(err)}" for err in e.errors()] + problems) from e
    if problems:
        raise InvalidInput(problems)
    return matter


def consistency_problems(data: object) -> list[str]:
    """Rules across fields, read from the raw entry so they are named even when fields are invalid."""
    if not isinstance(data, dict):
        return []
    problems = []
    promised, statutory = data.get("promised_working_days"), data.get("statutory_working_days")
    if isinstance(promised, int) and isinstance(statutory, int) and promised > statutory:
        problems.append("promised_working_days: exceeds statutory_working_days")
    codes = [str(m.get("code")) for m in data.get("materials") or [] if isinstance(m, dict)]
    problems += [
        f"materials: code {code} repeats" for code in sorted({c for c in codes if codes.count(c) > 1})
    ]
    regions = [r.get("region_code") for r in data.get("regions") or [] if isinstance(r, dict)]
    problems += [
        f"regions: {code} listed twice" for code in sorted({str(c) for c in regions if regions.count(c) > 1})
    ]
    for region in data.get("regions") or []:
        if isinstance(region, dict):
            p, s = region.get("promised_working_days"), region.get("statutory_working_days")
            if isinstance(p, int) and isinstance(s, int) and p > s:
                problems.append(
                    f"regions: {region.get('region_code')} promises more than its statutory limit"
                )
    departments_of_matter = {
        d.get("code")
        for st in data.get("stages") or []
        if isinstance(st, dict)
        for d in st.get("departments") or []
        if isinstance(d, dict)
    }
    for assessment in data.get("regional_assessments") or []:
        if isinstance(assessment, dict):
            unknown = [c for c in assessment.get("covers") or [] if c not in departments_of_matter]
            problems += [
                f"regional_assessments: {assessment.get('zone_code')} covers unknown department {c}"
                for c in unknown
            ]
    for number, stage in enumerate(data.get("stages") or [], start=1):
        if isinstance(stage, dict):
            departments = [d.get("code") for d in stage.get("departments") or [] if isinstance(d, dict)]
            if len(departments) != len(set(departments)):
                problems.append(f"stages.{number}: a department appears twice in one stage")
    return problems


def describe(error: object) -> str:
    """One pydantic error as 'field.path: message' without echoing the input value."""
    assert isinstance(error, dict)
    location = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
    return f"{location}: {error.get('msg', 'invalid')}"
