import copy
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from zerovisit.catalog_files import read_catalog, read_catalog_files
from zerovisit.clock import CHINA
from zerovisit.domain.catalog import Matter, TimeoutPolicy, parse_matter
from zerovisit.errors import InvalidInput

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
COMMITTED = sorted(CATALOG.glob("*.yaml"))
MATTER_FILES = [path for path in COMMITTED if path.name != "divisions.yaml"]
BUSINESS_STARTUP_FILE = CATALOG / "business_startup.yaml"


def business_startup() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BUSINESS_STARTUP_FILE.read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def write(directory: Path, name: str, data: object) -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def refused(paths: list[Path]) -> list[str]:
    with pytest.raises(InvalidInput) as raised:
        read_catalog(paths)
    return raised.value.problems


# --- the committed catalog ----------------------------------------------------------------------------


def test_the_catalog_has_files() -> None:
    assert len(MATTER_FILES) >= 3


def test_the_division_list_has_jiangsus_13_cities_and_95_counties() -> None:
    [divisions] = read_catalog_files(COMMITTED)[1]

    assert divisions.province == "320000"
    assert len(divisions.children("320000")) == 13
    assert sum(len(divisions.children(city)) for city in divisions.children("320000")) == 95
    assert divisions.children("320100")[:2] == ["320102", "320104"]
    assert divisions.within("320115") == ["320115"]
    assert divisions.name("321000") == "扬州市"


def test_a_division_outside_the_province_or_without_its_city_is_refused(tmp_path: Path) -> None:
    data = {"province": "320000", "divisions": {"320000": "江苏省", "330100": "杭州市", "321002": "广陵区"}}

    assert refused([write(tmp_path, "divisions.yaml", data)]) == [
        "divisions.yaml: divisions: 330100 does not lie in province 320000",
        "divisions.yaml: divisions: 321002 lies in city 321000, which is not listed",
    ]


@pytest.mark.parametrize("path", MATTER_FILES, ids=lambda p: p.name)
def test_every_committed_file_loads(path: Path) -> None:
    [matter] = read_catalog([path])

    assert matter.promised_working_days <= matter.statutory_working_days
    assert matter.stages
    assert all(stage.departments for stage in matter.stages)


def test_the_committed_files_load_together_with_distinct_codes() -> None:
    matters = read_catalog(COMMITTED)

    assert sorted(m.code for m in matters) == [
        "BUSINESS-STARTUP",
        "INDUSTRIAL-CONSTRUCTION-PERMIT",
        "REAL-ESTATE-TRANSFER",
    ]


def test_the_business_startup_reads_as_written() -> None:
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])

    assert matter.code == "BUSINESS-STARTUP"
    assert (matter.promised_working_days, matter.statutory_working_days) == (3, 3)
    assert matter.statutory.extension_working_days == 3
    assert "《市场主体登记管理条例》第十九条" in matter.statutory.article
    assert [m.code for m in matter.materials] == [
        "ESTABLISHMENT_FORM",
        "ARTICLES_OF_ASSOCIATION",
        "REPRESENTATIVE_ID",
        "PREMISES_PROOF",
        "AGENT_AUTHORISATION",
    ]
    assert [len(stage.departments) for stage in matter.stages] == [1, 3]
    assert matter.stages[1].departments[0].timeout_policy is TimeoutPolicy.DEEM_APPROVED
    assert matter.certificate.type_code == "11100000MB0143028R001"
    assert matter.certificate.paper_original is True


def test_material_lookup() -> None:
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])

    premises = matter.material("PREMISES_PROOF")
    assert premises is not None
    assert premises.satisfied_by_certificate == "REAL_ESTATE_CERTIFICATE"
    assert matter.material("LAND_USE_PROOF") is None


def test_read_order_does_not_depend_on_the_order_given() -> None:
    assert [m.code for m in read_catalog(reversed(COMMITTED))] == [m.code for m in read_catalog(COMMITTED)]


# --- a bad matter -------------------------------------------------------------------------------------


def longer_promise(data: dict[str, Any]) -> None:
    data["promised_working_days"] = data["statutory"]["working_days"] + 1


def repeated_material(data: dict[str, Any]) -> None:
    data["materials"].append(dict(data["materials"][0]))


def no_stages(data: dict[str, Any]) -> None:
    data["stages"] = []


def bad_type_code(data: dict[str, Any]) -> None:
    data["certificate"]["type_code"] = "11100000MB0143028R0A1"


def department_twice(data: dict[str, Any]) -> None:
    stage = data["stages"][1]
    stage["departments"].append(dict(stage["departments"][0]))


@pytest.mark.parametrize(
    ("defect", "phrase"),
    [
        (longer_promise, "promised_working_days: exceeds statutory.working_days"),
        (repeated_material, "materials: code "),
        (no_stages, "stages: List should have at least 1 item"),
        (bad_type_code, "certificate.type_code: String should match pattern"),
        (department_twice, "stages.2: a department appears twice in one stage"),
    ],
)
def test_each_defect_is_refused_and_names_the_file(tmp_path: Path, defect: Any, phrase: str) -> None:
    data = business_startup()
    defect(data)

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert len(problems) == 1
    assert problems[0].startswith("startup.yaml: ")
    assert phrase in problems[0]


def test_consistency_problems_are_named_together(tmp_path: Path) -> None:
    data = business_startup()
    longer_promise(data)
    repeated_material(data)
    department_twice(data)

    text = "; ".join(refused([write(tmp_path, "startup.yaml", data)]))

    assert "promised_working_days: exceeds statutory.working_days" in text
    assert "materials: code " in text
    assert "stages.2: a department appears twice in one stage" in text


def test_field_problems_are_named_together(tmp_path: Path) -> None:
    data = business_startup()
    no_stages(data)
    bad_type_code(data)
    data["waits"]["payment_working_days"] = 0

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert [p.split(": ")[1] for p in problems] == [
        "waits.payment_working_days",
        "stages",
        "certificate.type_code",
    ]
    assert all(p.startswith("startup.yaml: ") for p in problems)


def test_every_problem_of_a_matter_is_named_at_once(tmp_path: Path) -> None:
    data = business_startup()
    longer_promise(data)
    repeated_material(data)
    no_stages(data)
    bad_type_code(data)

    problems = refused([write(tmp_path, "startup.yaml", data)])

    text = "; ".join(problems)
    assert all(p.startswith("startup.yaml: ") for p in problems)
    assert "promised_working_days: exceeds statutory.working_days" in text
    assert "materials: code " in text
    assert "stages: List should have at least 1 item" in text
    assert "certificate.type_code: String should match pattern" in text


def test_problems_do_not_echo_the_bad_values(tmp_path: Path) -> None:
    data = business_startup()
    data["certificate"]["issuer_code"] = "issuer-secret-value"

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert problems[0].startswith("startup.yaml: certificate.issuer_code: ")
    assert "issuer-secret-value" not in "; ".join(problems)


def test_parse_matter_without_a_source_says_matter() -> None:
    data = business_startup()
    no_stages(data)

    with pytest.raises(InvalidInput) as raised:
        parse_matter(data)

    assert raised.value.problems == [
        "matter: stages: List should have at least 1 item after validation, not 0"
    ]


def test_parse_matter_accepts_the_committed_entry() -> None:
    matter = parse_matter(business_startup(), source="business_startup.yaml")

    assert isinstance(matter, Matter)
    assert matter.code == "BUSINESS-STARTUP"


# --- bad files ----------------------------------------------------------------------------------------


def test_invalid_yaml_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("code: BROKEN\nstages: [unclosed\n", encoding="utf-8")

    problems = refused([path])

    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: not valid YAML")


@pytest.mark.parametrize(
    "content", ["", "- a list\n- of things\n", "just text\n"], ids=["empty", "list", "str"]
)
def test_a_file_that_is_not_a_mapping_is_named(tmp_path: Path, content: str) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(content, encoding="utf-8")

    problems = refused([path])

    assert problems
    assert all(p.startswith("odd.yaml: ") for p in problems)


def test_two_files_with_the_same_matter_code_are_refused(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", business_startup())
    second = business_startup()
    second["name"] = "企业开办（另一版本）"

    problems = refused([first, write(tmp_path, "b.yaml", second)])

    assert problems == ["matter code BUSINESS-STARTUP appears in more than one file"]


def test_nothing_is_returned_when_any_file_is_bad(tmp_path: Path) -> None:
    good = write(tmp_path, "good.yaml", business_startup())
    other = business_startup()
    other["code"] = "OTHER-MATTER"
    longer_promise(other)
    bad = write(tmp_path, "bad.yaml", other)
    assert [m.code for m in read_catalog([good])] == ["BUSINESS-STARTUP"]

    problems = refused([good, bad])

    assert len(problems) == 1
    assert problems[0].startswith("bad.yaml: ")


def test_problems_of_every_bad_file_are_named(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("code: [\n", encoding="utf-8")
    data = business_startup()
    bad_type_code(data)
    duplicate = business_startup()

    problems = refused(
        [
            *COMMITTED,
            broken,
            write(tmp_path, "invalid.yaml", data),
            write(tmp_path, "duplicate.yaml", duplicate),
        ]
    )

    assert [p.split(":")[0] for p in problems] == [
        "broken.yaml",
        "invalid.yaml",
        "matter code BUSINESS-STARTUP appears in more than one file",
    ]


def test_a_file_not_in_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(BUSINESS_STARTUP_FILE.read_text(encoding="utf-8").encode("gbk"))

    problems = refused([path])

    assert problems
    assert problems[0].startswith("gbk.yaml: ")


def test_joint_drawing_review_takes_seven_working_days_or_ten_when_complex() -> None:
    from zerovisit.domain.plan import stage_plan

    from infra.local.runtime import CATALOG_DIR

    matter = next(
        m for m in read_catalog(CATALOG_DIR.glob("*.yaml")) if m.code == "INDUSTRIAL-CONSTRUCTION-PERMIT"
    )
    drawings = next(i for i, s in enumerate(matter.stages) if s.name == "多图联审")

    at = datetime(2026, 2, 13, 10, tzinfo=CHINA)
    plain = stage_plan(matter, drawings, at)["departments"]
    complex_ = stage_plan(matter, drawings, at, complex_project=True)["departments"]

    assert [(d["code"], d["limit_working_days"]) for d in plain] == [("ZJ-DRAWINGS", 7)]
    assert [(d["code"], d["limit_working_days"]) for d in complex_] == [("ZJ-DRAWINGS", 10)]


# --- promises against the critical path ---------------------------------------------------------------


def test_yangzhou_promises_two_working_days_because_it_registers_in_one() -> None:
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])
    registration = matter.stages[0].departments[0]

    assert matter.critical_path("321002") == 2
    assert matter.department_limit(registration, "321002") == 1
    assert matter.department_limit(registration, "320102") == 2
    assert matter.critical_path("320102") == 3


def test_a_region_promising_less_than_its_critical_path_is_refused_by_name(tmp_path: Path) -> None:
    data = business_startup()
    yangzhou = next(r for r in data["regions"] if r["region_code"] == "321000")
    del yangzhou["department_limits"]

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert problems == [
        "startup.yaml: regions: 321000 promises 2 working days, shorter than its critical path of "
        "3 working days (SCJG 2 + GA-SEAL 1 after issuance)"
    ]


def test_parallel_departments_take_the_longest_and_sequential_stages_add(tmp_path: Path) -> None:
    data = business_startup()
    data["stages"][1]["departments"][2]["limit_working_days"] = 2  # the bank, in parallel

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert problems == [
        "startup.yaml: promised_working_days: 3 working days is shorter than the critical path of "
        "the stages (4 working days)",
        "startup.yaml: regions: 320000 promises 3 working days, shorter than its critical path of "
        "4 working days (SCJG 2 + BANK-ACCOUNT 2 after issuance)",
        "startup.yaml: regions: 321000 promises 2 working days, shorter than its critical path of "
        "3 working days (SCJG 1 + BANK-ACCOUNT 2 after issuance)",
    ]


def test_the_services_after_the_licence_count_in_the_three_day_promise(tmp_path: Path) -> None:
    """3550: licence, seal, tax and bank in three working days together; a slower bank after the
    licence breaks the promise as a slower registration before it would."""
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])
    assert matter.critical_path("320102") == 3  # SCJG 2, then the services after issuance, 1
    data = business_startup()
    data["stages"][0]["departments"][0]["limit_working_days"] = 1
    data["stages"][1]["departments"][1]["limit_working_days"] = 3  # the tax office, after the licence

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert problems == [
        "startup.yaml: promised_working_days: 3 working days is shorter than the critical path of "
        "the stages (4 working days)",
        "startup.yaml: regions: 320000 promises 3 working days, shorter than its critical path of "
        "4 working days (SCJG 1 + SW-INVOICE 3 after issuance)",
        "startup.yaml: regions: 321000 promises 2 working days, shorter than its critical path of "
        "4 working days (SCJG 1 + SW-INVOICE 3 after issuance)",
    ]


def test_the_on_site_inspection_is_on_the_critical_path_only_where_the_region_has_one() -> None:
    matter = next(m for m in read_catalog(MATTER_FILES) if m.code == "INDUSTRIAL-CONSTRUCTION-PERMIT")
    [inspection] = [i for i, s in enumerate(matter.stages) if s.onsite_inspection is not None]

    assert [d.code for d in matter.stages[inspection].departments] == ["ZJ-SURVEY"]
    assert matter.critical_path("320115") == matter.critical_path("320102") + 5  # 江宁区 inspects
    assert matter.critical_path(None) == matter.critical_path("320115")
    assert not matter.stage_applies(inspection, "320102")
    assert matter.stage_applies(inspection, "320115")
    assert "ZJ-SURVEY" not in {d.code for s in matter.stages[:inspection] for d in s.departments}


def test_a_misplaced_stage_after_issuance_and_a_region_inspecting_nothing_are_refused(tmp_path: Path) -> None:
    data = business_startup()
    data["stages"].reverse()  # the services first, registration after them
    data["stages"][0]["departments"][2].pop("service")
    data["stages"][1]["departments"][0]["service"] = "seal"
    data["regions"][0]["onsite_inspection"] = True
    data["requires"] = []

    assert refused([write(tmp_path, "startup.yaml", data)]) == [
        "startup.yaml: stages: a review stage follows a stage after issuance",
        "startup.yaml: stages: the services after issuance are for a registered enterprise (requires)",
        "startup.yaml: stages.1: BANK-ACCOUNT names no service for after issuance",
        "startup.yaml: stages.2: SCJG names a service in a review stage",
        "startup.yaml: regions: 320000 asks for on-site inspection, but no stage is one",
    ]


def test_a_region_limit_for_a_department_the_matter_lacks_is_refused(tmp_path: Path) -> None:
    data = business_startup()
    data["regions"][1]["department_limits"]["FGW"] = 1

    assert refused([write(tmp_path, "startup.yaml", data)]) == [
        "startup.yaml: regions: 321000 sets a limit for FGW, not a department of this matter"
    ]


def test_each_department_names_the_matters_materials_its_review_reads(tmp_path: Path) -> None:
    data = business_startup()
    del data["stages"][0]["departments"][0]["materials"]
    data["stages"][1]["departments"][0]["materials"] = ["REPRESENTATIVE_ID", "SALE_CONTRACT"]

    assert refused([write(tmp_path, "startup.yaml", data)]) == [
        "startup.yaml: stages.1: SCJG names no materials (the codes of those its review reads)",
        "startup.yaml: stages.2: GA-SEAL reads material SALE_CONTRACT, not a material of this matter",
    ]


def test_a_matter_stored_before_departments_named_their_materials_still_reads() -> None:
    data = business_startup()
    for stage in data["stages"]:
        for department in stage["departments"]:
            del department["materials"]

    stored = Matter.model_validate(data)  # as storage reads the catalog table, without the file rules

    assert stored.stages[0].departments[0].materials is None
    assert [d.materials for d in Matter.model_validate(business_startup()).stages[1].departments] == [
        ["REPRESENTATIVE_ID", "AGENT_AUTHORISATION"],
        ["REPRESENTATIVE_ID", "PREMISES_PROOF", "AGENT_AUTHORISATION"],
        ["ARTICLES_OF_ASSOCIATION", "REPRESENTATIVE_ID", "AGENT_AUTHORISATION"],
    ]


def test_a_region_cannot_lengthen_a_departments_limit(tmp_path: Path) -> None:
    data = business_startup()
    data["regions"][1]["department_limits"]["SCJG"] = 5

    assert refused([write(tmp_path, "startup.yaml", data)]) == [
        "startup.yaml: regions: 321000 promises 2 working days, shorter than its critical path of "
        "6 working days (SCJG 5 + GA-SEAL 1 after issuance)",
        "startup.yaml: regions: 321000 sets 5 working days for SCJG, longer than the catalog's 2",
    ]


# --- statutory limits, issuers, waits -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "days", "extension", "article"),
    [
        ("BUSINESS-STARTUP", 3, 3, "《市场主体登记管理条例》第十九条"),
        ("REAL-ESTATE-TRANSFER", 30, 0, "《不动产登记暂行条例》第二十条"),
        ("INDUSTRIAL-CONSTRUCTION-PERMIT", 60, 0, "《行政许可法》第四十二条"),
    ],
)
def test_statutory_limits_follow_the_cited_article(
    code: str, days: int, extension: int, article: str
) -> None:
    matter = next(m for m in read_catalog(COMMITTED) if m.code == code)

    assert (matter.statutory.working_days, matter.statutory.extension_working_days) == (days, extension)
    assert matter.statutory.article.startswith(article)
    assert all(r.promised_working_days <= days for r in matter.regions)


def test_every_issuer_has_its_own_valid_credit_code() -> None:
    issuers = [i for m in read_catalog(COMMITTED) for i in m.certificate.issuers]
    codes = [i.credit_code for i in issuers]

    assert len(issuers) >= 9
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize(
    ("region", "issuer"),
    [
        ("321002", "扬州市市场监督管理局"),
        ("321000", "扬州市市场监督管理局"),
        ("320102", "南京市市场监督管理局"),
        ("320500", "江苏省市场监督管理局"),
    ],
)
def test_the_issuer_is_the_most_specific_one_above_the_region(region: str, issuer: str) -> None:
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])

    found = matter.issuer(region)

    assert found is not None
    assert found.name == issuer
    assert matter.issuer("330100") is None


def test_an_issuer_with_an_invalid_credit_code_is_refused(tmp_path: Path) -> None:
    data = business_startup()
    data["certificate"]["issuers"][1]["credit_code"] = "11320100MB0C005113"

    problems = refused([write(tmp_path, "startup.yaml", data)])

    assert len(problems) == 1
    assert problems[0].startswith("startup.yaml: certificate.issuers.1.credit_code: Value error, not a valid")
    assert "expected '2'" in problems[0]


def test_a_region_without_an_issuer_is_refused(tmp_path: Path) -> None:
    data = business_startup()
    data["certificate"]["issuers"] = [
        i for i in data["certificate"]["issuers"] if i["region_code"] == "321000"
    ]

    assert refused([write(tmp_path, "startup.yaml", data)]) == [
        "startup.yaml: regions: 320000 has no certificate issuer (certificate.issuers)"
    ]


def test_waits_partners_fees_and_the_certificate_are_catalog_data() -> None:
    matters = {m.code: m for m in read_catalog(COMMITTED)}
    startup, transfer = matters["BUSINESS-STARTUP"], matters["REAL-ESTATE-TRANSFER"]

    assert startup.waits.payment_working_days == 10
    assert startup.waits.delivery_working_days == 5
    assert startup.waits.max_shipments == 2
    assert startup.waits.max_correction_rounds == 2
    assert startup.waits.warning_share == 0.8
    assert (startup.partners.payment, startup.partners.delivery, startup.partners.service_network) == (
        "payment-platform",
        "ems",
        "service-network",
    )
    assert (startup.certificate.version, startup.certificate.trust_level) == (1, "A")
    assert startup.fee_fen == 0
    assert [(f.code, f.amount_fen) for f in transfer.fees] == [("REGISTRATION_FEE", 8000)]
    assert transfer.fee_fen == 8000
    assert all(m.flagship_3550 for m in matters.values())


def test_the_final_limit_after_escalation_defaults_to_the_departments_own_limit() -> None:
    [matter] = read_catalog([BUSINESS_STARTUP_FILE])
    registration, _, invoices, _ = [d for s in matter.stages for d in s.departments]

    assert registration.final_limit_after_escalation() == 1  # set in the catalog
    assert invoices.final_limit_after_escalation() == invoices.limit_working_days == 1


def test_a_transfer_matter_needs_a_deed_tax_schedule_for_every_region(tmp_path: Path) -> None:
    data = yaml.safe_load((CATALOG / "real_estate_transfer.yaml").read_text(encoding="utf-8"))
    data["deed_tax"] = []

    assert refused([write(tmp_path, "transfer.yaml", data)]) == [
        "transfer.yaml: regions: 320000 has no deed-tax schedule (deed_tax)"
    ]


# --- regional assessments -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "applies"), [("320115", True), ("320100", True), ("320000", True), ("320102", False)]
)
def test_a_regional_assessment_applies_only_where_its_zone_lies(region: str, applies: bool) -> None:
    matter = next(m for m in read_catalog(COMMITTED) if m.code == "INDUSTRIAL-CONSTRUCTION-PERMIT")

    found = matter.assessment_covering("JNKFQ", "HB", date(2026, 11, 27), region)

    assert (found is not None) is applies
    assert matter.assessment_covering("JNKFQ", "FGW", date(2026, 11, 27), "320115") is None
    assert matter.assessment_covering("JNKFQ", "HB", date(2028, 6, 1), "320115") is None
