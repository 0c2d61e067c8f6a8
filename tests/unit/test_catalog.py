import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.catalog import Matter, TimeoutPolicy, parse_matter
from zerovisit.errors import InvalidInput

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
COMMITTED = sorted(CATALOG.glob("*.yaml"))
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
    assert len(COMMITTED) >= 3


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: p.name)
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
    from zerovisit.services.common import stage_plan

    from infra.local.runtime import CATALOG_DIR

    matter = next(
        m for m in read_catalog(CATALOG_DIR.glob("*.yaml")) if m.code == "INDUSTRIAL-CONSTRUCTION-PERMIT"
    )
    drawings = next(i for i, s in enumerate(matter.stages) if s.name == "多图联审")

    plain = stage_plan(matter, drawings)["departments"]
    complex_ = stage_plan(matter, drawings, complex_project=True)["departments"]

    assert [(d["code"], d["limit_working_days"]) for d in plain] == [("ZJ-DRAWINGS", 7)]
    assert [(d["code"], d["limit_working_days"]) for d in complex_] == [("ZJ-DRAWINGS", 10)]
