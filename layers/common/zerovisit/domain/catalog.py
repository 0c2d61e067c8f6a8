"""The matter catalog (事项清单): what a matter needs, who reviews it, and its limits."""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, ValidationError

from zerovisit.domain import regions
from zerovisit.domain.divisions import RegionCode
from zerovisit.domain.enterprise import ServiceKind
from zerovisit.domain.identity import credit_code_problems
from zerovisit.domain.model import Application, Frozen, ShortText
from zerovisit.domain.workdays import working_days_text
from zerovisit.errors import InvalidInput

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,39}$")]
PartnerId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")]


def _valid_credit_code(code: str) -> str:
    problems = credit_code_problems(code)
    if problems:
        raise ValueError("not a valid unified social credit code: " + "; ".join(problems))
    return code


CreditCode = Annotated[str, AfterValidator(_valid_credit_code)]


class TimeoutPolicy(StrEnum):
    ESCALATE = "escalate"
    DEEM_APPROVED = "deem_approved"


class DepartmentReview(Frozen):
    code: Code
    name: ShortText
    partner_id: PartnerId
    limit_working_days: int = Field(ge=1, le=60)
    complex_limit_working_days: int | None = Field(default=None, ge=1, le=60)
    timeout_policy: TimeoutPolicy = TimeoutPolicy.ESCALATE
    final_limit_working_days: int | None = Field(default=None, ge=1, le=60)
    # After issuance: the result the department answers with (seal filing, tax, bank account).
    service: ServiceKind | None = None
    # The codes of the matter's materials its review reads: all a department is shown of them.
    # A catalog file must name them; None is a catalog stored before departments did (every one).
    materials: list[Code] | None = Field(default=None, max_length=50)

    def limit_for(self, complex_project: bool) -> int:
        """The working-day limit: the longer one for a complex project where the catalog has one."""
        if complex_project and self.complex_limit_working_days is not None:
            return self.complex_limit_working_days
        return self.limit_working_days

    def final_limit_after_escalation(self, complex_project: bool = False) -> int:
        """Working days, counted from the escalation (the end of the department's own limit), after
        which a still silent department's task ends the case. Without a catalog value the
        department's own limit once more: the superior gets as long as the department had."""
        return self.final_limit_working_days or self.limit_for(complex_project)


class Phase(StrEnum):
    REVIEW = "review"
    # After the certificate is issued, for its holder (a licence's seal, tax and bank account).
    POST_ISSUANCE = "post_issuance"


class OnsiteInspection(Frozen):
    """An on-site inspection (实地核查, 现场勘查) stage: it runs only in a region whose entry sets
    ``onsite_inspection``. Whether the statutory clock runs meanwhile is the cited law's: the
    time is left out only where the law says so (行政许可法 art. 45 lists what is not counted)."""

    time_counted: bool
    article: ShortText


class Stage(Frozen):
    name: ShortText
    departments: list[DepartmentReview] = Field(min_length=1)
    phase: Phase = Phase.REVIEW
    onsite_inspection: OnsiteInspection | None = None


class Holder(StrEnum):
    """Whose held e-certificate can stand in for a material."""

    APPLICANT = "applicant"
    LEGAL_REPRESENTATIVE = "legal_representative"
    SELLER = "seller"
    BUYER = "buyer"


class RequiredMaterial(Frozen):
    code: Code
    name: ShortText
    satisfied_by_certificate: Code | None = None
    held_by: Holder = Holder.APPLICANT
    # Only the certificate the application names as the seller's title counts.
    is_seller_title: bool = False
    only_with_agent: bool = False


class Issuer(Frozen):
    """The authority that issues the matter's certificate in a region and everything below it."""

    region_code: RegionCode
    name: ShortText
    credit_code: CreditCode


class CertificateSpec(Frozen):
    kind: Code
    name: ShortText
    type_code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}[0-9]{3}$")]
    version: int = Field(ge=1, le=999)
    trust_level: Literal["A", "B", "C", "D"]
    paper_original: bool
    validity_years: int | None = Field(default=None, ge=1, le=50, description="None: valid without end")
    issuers: list[Issuer] = Field(min_length=1)


class StatutoryLimit(Frozen):
    """The limit the law sets, with the article that sets it."""

    working_days: int = Field(ge=1, le=90)
    extension_working_days: int = Field(default=0, ge=0, le=30)
    article: ShortText


class RegionEntry(Frozen):
    """One region's handling of a matter (三级四同: the same matter, region by region)."""

    region_code: RegionCode
    promised_working_days: int = Field(ge=1, le=60)
    zero_visit: bool = True
    onsite_inspection: bool = False
    department_limits: dict[Code, Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=dict)


class RegionalAssessment(Frozen):
    """区域评估: a zone assessed once for everyone; for five years it replaces the evaluations it covers
    for projects in the zone, which lies in ``region_code``."""

    zone_code: Code
    name: ShortText
    region_code: RegionCode
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


class Waits(Frozen):
    """How long the case waits on the applicant and on partners, and how often it tries again."""

    payment_working_days: int = Field(ge=1, le=30)
    delivery_working_days: int = Field(ge=1, le=30)
    max_shipments: int = Field(ge=1, le=5)
    max_correction_rounds: int = Field(ge=1, le=5)
    warning_share: float = Field(gt=0, lt=1)


class Partners(Frozen):
    """Partner ids (their signing secrets are named after them) of the systems outside government."""

    payment: PartnerId
    delivery: PartnerId
    service_network: PartnerId


class FeeItem(Frozen):
    """A fixed charge per case, with the document that sets it."""

    code: Code
    name: ShortText
    amount_fen: int = Field(ge=0)
    basis: ShortText


class DeedTaxRelief(Frozen):
    """A preferential rate for a buyer's family with this many homes (counting this one), for
    floor areas up to ``max_area_m2`` (any area without one)."""

    family_homes: int = Field(ge=1, le=9)
    max_area_m2: Decimal | None = Field(default=None, gt=0)
    rate_percent: Decimal = Field(ge=0, le=10, decimal_places=2)


class DeedTaxSchedule(Frozen):
    """契税: the rate a province sets and the national reliefs, for sales on days in [valid_from,
    valid_until]."""

    region_code: RegionCode
    valid_from: date
    valid_until: date | None = None
    rate_percent: Decimal = Field(ge=3, le=5, decimal_places=2)
    reliefs: list[DeedTaxRelief] = Field(default_factory=list)
    basis: list[ShortText] = Field(min_length=1)

    def applies_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)

    def rate_for(self, family_homes: int, floor_area_m2: Decimal) -> Decimal:
        """The first relief whose conditions hold, else the province's rate."""
        for relief in self.reliefs:
            if family_homes == relief.family_homes and (
                relief.max_area_m2 is None or floor_area_m2 <= relief.max_area_m2
            ):
                return relief.rate_percent
        return self.rate_percent


ApplicationPart = Literal["enterprise", "transfer"]


class Matter(Frozen):
    code: Code
    name: ShortText
    type: ShortText
    legal_basis: list[ShortText] = Field(min_length=1)
    flagship_3550: bool = False
    requires: list[ApplicationPart] = Field(default_factory=list)
    promised_working_days: int = Field(ge=1, le=60)
    statutory: StatutoryLimit
    correction_limit_working_days: int = Field(ge=1, le=30)
    waits: Waits
    partners: Partners
    fees: list[FeeItem] = Field(default_factory=list)
    deed_tax: list[DeedTaxSchedule] = Field(default_factory=list)
    materials: list[RequiredMaterial] = Field(default_factory=list)
    stages: list[Stage] = Field(min_length=1)
    certificate: CertificateSpec
    regions: list[RegionEntry] = Field(min_length=1)
    regional_assessments: list[RegionalAssessment] = Field(default_factory=list)

    @property
    def statutory_working_days(self) -> int:
        return self.statutory.working_days

    @property
    def fee_fen(self) -> int:
        """The fixed fees of one case; taxes that depend on the application come on top."""
        return sum(fee.amount_fen for fee in self.fees)

    def region(self, code: str) -> RegionEntry | None:
        """The region's entry: the county's own, else its city's, else its province's."""
        by_code = {r.region_code: r for r in self.regions}
        return next((by_code[c] for c in regions.lineage(code) if c in by_code), None)

    def issuer(self, region_code: str) -> Issuer | None:
        """Who issues the certificate for a case in the region: the most specific issuer above it."""
        by_code = {i.region_code: i for i in self.certificate.issuers}
        return next((by_code[c] for c in regions.lineage(region_code) if c in by_code), None)

    def department_limit(
        self, department: DepartmentReview, region_code: str | None, complex_project: bool = False
    ) -> int:
        """A department's limit in a region: the region's own where it sets one (None: the catalog's
        limit). A region only shortens a limit; a complex project keeps the longer catalog limit."""
        entry = self.region(region_code) if region_code else None
        override = entry.department_limits.get(department.code) if entry else None
        if override is None or (complex_project and department.complex_limit_working_days):
            return department.limit_for(complex_project)
        return override

    def stage_applies(self, index: int, region_code: str | None) -> bool:
        """An on-site inspection stage runs only where the region's entry asks for one; without a
        region (the matter's own promise) every stage counts."""
        if self.stages[index].onsite_inspection is None or region_code is None:
            return True
        entry = self.region(region_code)
        return entry is not None and entry.onsite_inspection

    def next_stage(self, after: int | None, phase: Phase, region_code: str | None) -> int | None:
        """The next stage of the phase that runs in the region (the first with ``after`` None)."""
        start = 0 if after is None else after + 1
        return next(
            (
                i
                for i in range(start, len(self.stages))
                if self.stages[i].phase is phase and self.stage_applies(i, region_code)
            ),
            None,
        )

    def critical_path(self, region_code: str | None, complex_project: bool = False) -> int:
        """Working days the stages that run in the region take at their limits, the services
        after issuance included: stages add, a stage's departments run in parallel and take the
        longest."""
        return sum(
            max(self.department_limit(d, region_code, complex_project) for d in stage.departments)
            for i, stage in enumerate(self.stages)
            if self.stage_applies(i, region_code)
        )

    def assessment_covering(
        self, zone_code: str | None, department: str, day: date, region_code: str
    ) -> RegionalAssessment | None:
        """A valid assessment of the project's zone covering the department, if the zone lies in the
        application's region."""
        if zone_code is None:
            return None
        return next(
            (
                a
                for a in self.regional_assessments
                if a.zone_code == zone_code
                and department in a.covers
                and a.valid_on(day)
                and regions.contains(region_code, a.region_code)
            ),
            None,
        )

    def deed_tax_schedule(self, region_code: str, day: date) -> DeedTaxSchedule | None:
        """The most specific schedule for the region in force on the day."""
        for candidate in regions.lineage(region_code):
            for schedule in self.deed_tax:
                if schedule.region_code == candidate and schedule.applies_on(day):
                    return schedule
        return None

    def material(self, code: str) -> RequiredMaterial | None:
        return next((m for m in self.materials if m.code == code), None)

    def materials_read_by(self, reviews: Iterable[tuple[int | None, str | None]]) -> set[str] | None:
        """The codes of the materials the departments of these reviews (stage index, department
        code) read; None: every material (a department stored without its list)."""
        read: set[str] = set()
        for stage, code in reviews:
            departments = (
                self.stages[stage].departments if stage is not None and stage < len(self.stages) else []
            )
            for department in departments:
                if department.code == code:
                    if department.materials is None:
                        return None
                    read.update(department.materials)
        return read

    def required_materials(self, application: Application) -> list[RequiredMaterial]:
        """The materials this application needs: the authorisation only when an agent files."""
        return [m for m in self.materials if not m.only_with_agent or application.agent is not None]


def parse_matter(data: object, source: str = "matter") -> Matter:
    """Validate one catalog entry; every problem is named at once, the rules across fields too.
    The rules that need valid fields (critical paths, issuers) are named once the fields are."""
    problems = [f"{source}: {p}" for p in consistency_problems(data)]
    try:
        matter = Matter.model_validate(data)
    except ValidationError as e:
        raise InvalidInput([f"{source}: {describe(err)}" for err in e.errors()] + problems) from e
    problems += [f"{source}: {p}" for p in matter_problems(matter)]
    if problems:
        raise InvalidInput(problems)
    return matter


def matter_problems(matter: Matter) -> list[str]:
    """Rules on a matter whose fields are valid: no promise shorter than the critical path of its
    stages, an issuer for every region, region limits only for the matter's departments."""
    problems = stage_problems(matter)
    path = matter.critical_path(None)
    if matter.promised_working_days < path:
        problems.append(
            f"promised_working_days: {working_days_text(matter.promised_working_days)} is shorter than the "
            f"critical path of the stages ({working_days_text(path)})"
        )
    departments = {d.code: d.limit_working_days for stage in matter.stages for d in stage.departments}
    for entry in matter.regions:
        code = entry.region_code
        path = matter.critical_path(code)
        if entry.promised_working_days < path:
            problems.append(
                f"regions: {code} promises {working_days_text(entry.promised_working_days)}, shorter "
                f"than its critical path of {working_days_text(path)} ({_critical_stages(matter, code)})"
            )
        if matter.issuer(code) is None:
            problems.append(f"regions: {code} has no certificate issuer (certificate.issuers)")
        if entry.onsite_inspection and not any(s.onsite_inspection for s in matter.stages):
            problems.append(f"regions: {code} asks for on-site inspection, but no stage is one")
        if "transfer" in matter.requires and not any(
            s.region_code in regions.lineage(code) for s in matter.deed_tax
        ):
            problems.append(f"regions: {code} has no deed-tax schedule (deed_tax)")
        for department, days in sorted(entry.department_limits.items()):
            limit = departments.get(department)
            if limit is None:
                problems.append(
                    f"regions: {code} sets a limit for {department}, not a department of this matter"
                )
            elif days > limit:
                problems.append(
                    f"regions: {code} sets {working_days_text(days)} for {department}, "
                    f"longer than the catalog's {limit}"
                )
    return problems


def stage_problems(matter: Matter) -> list[str]:
    """The phases in order (review, then the services after issuance), a review stage that runs
    everywhere, and a service named exactly for the departments after issuance."""
    problems: list[str] = []
    first_after = next((i for i, s in enumerate(matter.stages) if s.phase is Phase.POST_ISSUANCE), None)
    if first_after is not None and any(s.phase is Phase.REVIEW for s in matter.stages[first_after:]):
        problems.append("stages: a review stage follows a stage after issuance")
    if first_after is not None and "enterprise" not in matter.requires:
        problems.append("stages: the services after issuance are for a registered enterprise (requires)")
    if not any(s.phase is Phase.REVIEW and s.onsite_inspection is None for s in matter.stages):
        problems.append("stages: no review stage runs in every region")
    for number, stage in enumerate(matter.stages, start=1):
        after = stage.phase is Phase.POST_ISSUANCE
        if after and stage.onsite_inspection is not None:
            problems.append(f"stages.{number}: an on-site inspection comes before issuance")
        for department in stage.departments:
            unknown = [c for c in department.materials or [] if matter.material(c) is None]
            problems += [
                f"stages.{number}: {department.code} reads material {code}, not a material of this matter"
                for code in unknown
            ]
            if after and department.service is None:
                problems.append(f"stages.{number}: {department.code} names no service for after issuance")
            elif not after and department.service is not None:
                problems.append(f"stages.{number}: {department.code} names a service in a review stage")
    return problems


def _critical_stages(matter: Matter, region_code: str) -> str:
    """The slowest department of each stage that runs in the region, with its limit:
    'SCJG 2 + GA-SEAL 1 after issuance'."""
    parts = []
    for i, stage in enumerate(matter.stages):
        if not matter.stage_applies(i, region_code):
            continue
        slowest = max(stage.departments, key=lambda d: matter.department_limit(d, region_code))
        after = " after issuance" if stage.phase is Phase.POST_ISSUANCE else ""
        parts.append(f"{slowest.code} {matter.department_limit(slowest, region_code)}{after}")
    return " + ".join(parts)


def consistency_problems(data: object) -> list[str]:
    """Rules across fields, read from the raw entry so they are named even when fields are invalid."""
    if not isinstance(data, dict):
        return []
    problems = []
    promised = data.get("promised_working_days")
    statutory_limit = data.get("statutory")
    statutory = statutory_limit.get("working_days") if isinstance(statutory_limit, dict) else None
    if isinstance(promised, int) and isinstance(statutory, int) and promised > statutory:
        problems.append("promised_working_days: exceeds statutory.working_days")
    codes = [str(m.get("code")) for m in data.get("materials") or [] if isinstance(m, dict)]
    problems += [
        f"materials: code {code} repeats" for code in sorted({c for c in codes if codes.count(c) > 1})
    ]
    region_codes = [r.get("region_code") for r in data.get("regions") or [] if isinstance(r, dict)]
    problems += [
        f"regions: {code} listed twice"
        for code in sorted({str(c) for c in region_codes if region_codes.count(c) > 1})
    ]
    certificate = data.get("certificate")
    issuers = certificate.get("issuers") if isinstance(certificate, dict) else None
    issuer_codes = [i.get("region_code") for i in issuers or [] if isinstance(i, dict)]
    problems += [
        f"certificate.issuers: {code} listed twice"
        for code in sorted({str(c) for c in issuer_codes if issuer_codes.count(c) > 1})
    ]
    for region in data.get("regions") or []:
        if isinstance(region, dict):
            p = region.get("promised_working_days")
            if isinstance(p, int) and isinstance(statutory, int) and p > statutory:
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
            listed = [d for d in stage.get("departments") or [] if isinstance(d, dict)]
            departments = [d.get("code") for d in listed]
            if len(departments) != len(set(departments)):
                problems.append(f"stages.{number}: a department appears twice in one stage")
            problems += [
                f"stages.{number}: {d.get('code')} names no materials (the codes of those its review reads)"
                for d in listed
                if "materials" not in d
            ]
    return problems


def describe(error: object) -> str:
    """One pydantic error as 'field.path: message' without echoing the input value."""
    assert isinstance(error, dict)
    location = ".".join(str(part) for part in error.get("loc", ())) or "(root)"
    return f"{location}: {error.get('msg', 'invalid')}"
