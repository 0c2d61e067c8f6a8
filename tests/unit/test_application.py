import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.clock import clock
from zerovisit.domain.application import (
    application_problems,
    parse_application,
    registration_credit_code,
    validated_application,
)
from zerovisit.domain.catalog import Matter
from zerovisit.domain.identity import credit_code_problems
from zerovisit.errors import InvalidInput

from tests.support import application

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
BUSINESS_STARTUP = MATTERS["BUSINESS-STARTUP"]

SAMPLE_ID_NUMBER = "360426199101010071"
SAMPLE_PHONE = "13912345678"
VALID_AGENT_ID = "320102198503151230"
VALID_CREDIT_CODE = "91110108551385082Q"
PHONE_PROBLEM = "not an 11-digit mainland mobile number"


def today() -> date:
    return clock.today()


def problems_of(detail: dict[str, Any], matter: Matter | None = BUSINESS_STARTUP) -> list[str]:
    return application_problems(parse_application(detail), matter, today())


def with_applicant(**changes: Any) -> dict[str, Any]:
    detail = application()
    detail["applicant"] = {**detail["applicant"], **changes}
    return detail


def with_agent(id_number: str, phone: str | None = None) -> dict[str, Any]:
    return application(
        agent={
            "name": "李代办",
            "id_number": id_number,
            "phone": phone,
            "authorisation_ref": "AUTH-2026-0001",
        }
    )


def enterprise(credit_code: str | None) -> dict[str, Any]:
    return application(
        applicant={"kind": "enterprise", "name": "南京晓明科技有限公司", "credit_code": credit_code}
    )


# --- a valid application ------------------------------------------------------------------------------


def test_catalog_sample_matter_is_the_business_startup() -> None:
    assert BUSINESS_STARTUP.name.startswith("企业开办")
    assert BUSINESS_STARTUP.certificate.paper_original


def test_sample_application_passes() -> None:
    detail = application()

    parsed, matter = validated_application(detail, MATTERS.get, today())

    assert matter is BUSINESS_STARTUP
    assert parsed.application_id == detail["application_id"]
    assert parsed.applicant.id_number == SAMPLE_ID_NUMBER
    assert [m.code for m in parsed.materials] == [
        m.code for m in BUSINESS_STARTUP.materials if not m.only_with_agent
    ]
    assert problems_of(detail) == []


def test_lowercase_x_check_character_is_accepted() -> None:
    assert problems_of(with_applicant(id_number="11010519491231002x")) == []


def test_enterprise_with_valid_credit_code_passes() -> None:
    assert problems_of(enterprise(VALID_CREDIT_CODE)) == []


def test_agent_with_valid_id_number_passes() -> None:
    assert problems_of(with_agent(VALID_AGENT_ID, phone="13812345678")) == []


def test_paperless_matter_needs_no_delivery_address() -> None:
    matter = MATTERS["INDUSTRIAL-CONSTRUCTION-PERMIT"]
    assert not matter.certificate.paper_original
    detail = application(
        matter_code=matter.code,
        delivery=None,
        enterprise=None,
        materials=[{"code": m.code, "document_ref": f"sha256:{m.code.lower()}"} for m in matter.materials],
    )

    assert problems_of(detail, matter) == []


# --- every problem at once ----------------------------------------------------------------------------


def several_defects(matter_code: str) -> dict[str, Any]:
    detail = application(matter_code=matter_code)
    detail["applicant"]["id_number"] = "360426199101010072"  # check character should be 1
    detail["delivery"]["phone"] = "1391234567"
    detail["materials"].append({"code": "BANK_STATEMENT", "document_ref": "sha256:ab"})
    detail["materials"].append({"code": "PREMISES_PROOF", "document_ref": "sha256:cd"})
    return detail


def test_several_defects_are_named_at_once_each_with_its_field() -> None:
    detail = several_defects(BUSINESS_STARTUP.code)

    with pytest.raises(InvalidInput) as raised:
        validated_application(detail, MATTERS.get, today())

    assert raised.value.problems == [
        "applicant.id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2)",
        f"delivery.phone: {PHONE_PROBLEM}",
        "materials: 'BANK_STATEMENT' is not a material of matter BUSINESS-STARTUP",
        "materials: 'PREMISES_PROOF' submitted twice",
    ]


def test_unknown_matter_is_named_with_the_other_defects() -> None:
    # Without a matter there is no material list to hold BANK_STATEMENT against; the rest is named.
    detail = several_defects("BUSINESS-CLOSURE")
    looked_up: list[str] = []

    def lookup(code: str) -> Matter | None:
        looked_up.append(code)
        return MATTERS.get(code)

    with pytest.raises(InvalidInput) as raised:
        validated_application(detail, lookup, today())

    assert looked_up == ["BUSINESS-CLOSURE"]
    assert raised.value.problems == [
        "matter_code: no online matter 'BUSINESS-CLOSURE' in the catalog",
        "applicant.id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2)",
        f"delivery.phone: {PHONE_PROBLEM}",
        "materials: 'PREMISES_PROOF' submitted twice",
    ]


def test_invalid_input_message_joins_every_problem() -> None:
    with pytest.raises(InvalidInput) as raised:
        validated_application(several_defects(BUSINESS_STARTUP.code), MATTERS.get, today())

    assert str(raised.value) == "; ".join(raised.value.problems)


# --- the applicant ------------------------------------------------------------------------------------


@pytest.mark.parametrize("id_number", [None, ""])
def test_person_without_id_number(id_number: str | None) -> None:
    assert problems_of(with_applicant(id_number=id_number)) == ["applicant.id_number: required for a person"]


@pytest.mark.parametrize(
    ("id_number", "expected"),
    [
        ("360426199101010072", ["check character does not match (GB 11643, ISO 7064 MOD 11-2)"]),
        ("36042619910101007", ["must be 18 characters, got 17"]),
        ("360426199113010079", ["birth date (characters 7-14) is not a real date"]),
        ("32010220300101001X", ["birth date (characters 7-14) is in the future"]),
        ("3604261991010100A1", ["characters 1-17 must be digits"]),
    ],
)
def test_person_with_invalid_id_number(id_number: str, expected: list[str]) -> None:
    assert problems_of(with_applicant(id_number=id_number)) == [f"applicant.id_number: {p}" for p in expected]


def test_enterprise_with_invalid_credit_code() -> None:
    problems = problems_of(enterprise("914403001922038217"))

    assert problems == ["applicant.credit_code: check character is '7', expected '6' (GB 32100-2015)"]


def test_enterprise_credit_code_problems_are_all_prefixed() -> None:
    problems = problems_of(enterprise("91A4O30019220382"))

    assert len(problems) == 3
    assert all(p.startswith("applicant.credit_code: ") for p in problems)


@pytest.mark.parametrize("credit_code", [None, ""])
def test_enterprise_without_credit_code(credit_code: str | None) -> None:
    assert problems_of(enterprise(credit_code)) == ["applicant.credit_code: required for an enterprise"]


def test_enterprise_is_not_held_to_an_id_number() -> None:
    detail = enterprise(VALID_CREDIT_CODE)
    detail["applicant"]["id_number"] = "not checked"

    assert problems_of(detail) == []


@pytest.mark.parametrize("phone", ["13912345678", "19912345678", "13012345678", None])
def test_applicant_phone_accepted(phone: str | None) -> None:
    assert problems_of(with_applicant(phone=phone)) == []


@pytest.mark.parametrize(
    "phone",
    ["1391234567", "139123456789", "12912345678", "23912345678", "139-1234-5678", "+8613912345678", ""],
)
def test_applicant_phone_refused(phone: str) -> None:
    assert problems_of(with_applicant(phone=phone)) == [f"applicant.phone: {PHONE_PROBLEM}"]


# --- the agent ----------------------------------------------------------------------------------------


def test_agent_with_invalid_id_number() -> None:
    problems = problems_of(with_agent("320102198503151231"))

    assert problems == ["agent.id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2)"]


def test_agent_problems_are_named_with_the_applicants() -> None:
    detail = with_agent("3201021985")
    detail["applicant"]["id_number"] = "360426199101010072"

    assert problems_of(detail) == [
        "applicant.id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2)",
        "agent.id_number: must be 18 characters, got 10",
    ]


def test_agent_phone_is_checked_like_the_applicants() -> None:
    assert problems_of(with_agent(VALID_AGENT_ID, phone="12345")) == [f"agent.phone: {PHONE_PROBLEM}"]


# --- delivery -----------------------------------------------------------------------------------------


def test_missing_delivery_address_when_the_certificate_has_a_paper_original() -> None:
    assert problems_of(application(delivery=None)) == [
        "delivery: required, the paper result of this matter is sent by EMS"
    ]


@pytest.mark.parametrize("phone", ["1391234567", "10912345678", "139 1234 5678", "phone"])
def test_bad_delivery_phone(phone: str) -> None:
    detail = application()
    detail["delivery"]["phone"] = phone

    assert problems_of(detail) == [f"delivery.phone: {PHONE_PROBLEM}"]


@pytest.mark.parametrize("phone", ["13912345678\n", "139１２３４５６７８"])
def test_delivery_phone_must_be_ascii_digits_only(phone: str) -> None:
    detail = application()
    detail["delivery"]["phone"] = phone

    assert problems_of(detail) == [f"delivery.phone: {PHONE_PROBLEM}"]


# --- materials ----------------------------------------------------------------------------------------


def test_each_unknown_material_is_named() -> None:
    detail = application()
    detail["materials"] += [
        {"code": "BANK_STATEMENT", "document_ref": "sha256:ab"},
        {"code": "LAND_USE_PROOF", "document_ref": "sha256:cd"},
    ]

    assert problems_of(detail) == [
        "materials: 'BANK_STATEMENT' is not a material of matter BUSINESS-STARTUP",
        "materials: 'LAND_USE_PROOF' is not a material of matter BUSINESS-STARTUP",
    ]


def test_missing_materials_are_not_an_intake_problem() -> None:
    assert problems_of(application(materials=[])) == []


# --- the JSON shape -----------------------------------------------------------------------------------


def test_malformed_shape_names_each_field() -> None:
    detail = application(region_code="32010")
    del detail["submitted_at"]
    del detail["applicant"]["name"]
    detail["materials"][0] = {"code": "ESTABLISHMENT_FORM"}

    with pytest.raises(InvalidInput) as raised:
        parse_application(detail)

    fields = sorted(p.split(": ", 1)[0] for p in raised.value.problems)
    assert fields == ["applicant.name", "materials.0.document_ref", "region_code", "submitted_at"]
    assert "submitted_at: Field required" in raised.value.problems


@pytest.mark.parametrize("region_code", ["32010", "3201020", "32O102", "", 320102])
def test_bad_region_code(region_code: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_application(application(region_code=region_code))

    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith("region_code: ")


def test_region_code_must_be_ascii_digits() -> None:
    with pytest.raises(InvalidInput):
        parse_application(application(region_code="３２０１０２"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"applicant": {"kind": "robot", "name": "R2"}}, "applicant.kind"),
        ({"application_id": "A#1"}, "application_id"),
        ({"unexpected": True}, "unexpected"),
        ({"submitted_at": "yesterday"}, "submitted_at"),
    ],
)
def test_each_bad_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_application(application(**change))

    assert [p.split(": ", 1)[0] for p in raised.value.problems] == [field]


def test_malformed_shape_is_refused_before_the_catalog_is_consulted() -> None:
    detail = application()
    del detail["matter_code"]

    def lookup(code: str) -> Matter | None:
        raise AssertionError(f"looked up {code}")

    with pytest.raises(InvalidInput) as raised:
        validated_application(detail, lookup, today())

    assert raised.value.problems == ["matter_code: Field required"]


@pytest.mark.parametrize("shape", [None, [], "application", 42])
def test_not_an_object_is_refused(shape: object) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_application(shape)

    assert raised.value.problems
    assert raised.value.problems[0].startswith("(root): ")


# --- personal data stays out of the messages ----------------------------------------------------------


@pytest.mark.parametrize(
    "id_number",
    [
        "360426199101010072",
        "36042619910101007",
        "3604261991010100711",
        "360426199113010079",
        "36042620300101007Z",
        "36042619910101 071",
    ],
)
@pytest.mark.parametrize("phone", ["1391234567", "12912345678", "139123456789"])
def test_no_message_contains_the_identity_number_or_phone(id_number: str, phone: str) -> None:
    detail = application(
        agent={"name": "李代办", "id_number": id_number, "phone": phone, "authorisation_ref": "AUTH-1"}
    )
    detail["applicant"]["id_number"] = id_number
    detail["applicant"]["phone"] = phone
    detail["delivery"]["phone"] = phone

    with pytest.raises(InvalidInput) as raised:
        validated_application(detail, MATTERS.get, today())

    problems = raised.value.problems
    assert {p.split(": ", 1)[0] for p in problems} >= {"applicant.id_number", "agent.id_number"}
    assert {f"applicant.phone: {PHONE_PROBLEM}", f"delivery.phone: {PHONE_PROBLEM}"} <= set(problems)
    for text in [*problems, str(raised.value)]:
        assert id_number not in text
        assert id_number[6:14] not in text  # the birth date
        assert phone not in text


def test_no_shape_message_contains_the_identity_number_or_phone() -> None:
    detail = application()
    detail["applicant"]["id_number"] = ["360426199101010071"]
    detail["applicant"]["phone"] = {"mobile": "13912345678"}
    detail["delivery"]["phone"] = ["13912345678"]

    with pytest.raises(InvalidInput) as raised:
        parse_application(detail)

    assert sorted(p.split(": ", 1)[0] for p in raised.value.problems) == [
        "applicant.id_number",
        "applicant.phone",
        "delivery.phone",
    ]
    assert SAMPLE_ID_NUMBER not in str(raised.value)
    assert SAMPLE_PHONE not in str(raised.value)


def test_sample_detail_is_not_changed_by_validation() -> None:
    detail = application()
    before = copy.deepcopy(detail)

    validated_application(detail, MATTERS.get, today())

    assert detail == before


# --- the enterprise a business start-up registers -----------------------------------------------------


def with_enterprise(**changes: Any) -> dict[str, Any]:
    detail = application()
    detail["enterprise"].update(changes)
    return detail


def test_the_sample_registers_a_limited_liability_company() -> None:
    parsed = parse_application(application())

    assert parsed.enterprise is not None
    assert parsed.enterprise.type == "limited_liability_company"
    assert parsed.enterprise.registered_capital_fen == 100_000_000
    assert parsed.enterprise.legal_representative.id_number == SAMPLE_ID_NUMBER


def test_a_business_start_up_without_an_enterprise_is_refused() -> None:
    assert problems_of(application(enterprise=None)) == ["enterprise: required for matter BUSINESS-STARTUP"]


def test_a_transfer_in_a_business_start_up_is_refused() -> None:
    transfer = application("application_submitted.real_estate_transfer")["transfer"]

    assert problems_of(application(transfer=transfer))[-1] == "transfer: not part of matter BUSINESS-STARTUP"


def test_every_problem_of_the_enterprise_is_named_with_the_applicants() -> None:
    detail = with_enterprise(
        registered_capital_fen=0,
        legal_representative={"name": "王小明", "id_number": "44011320141005001X", "phone": "123"},
    )
    detail["applicant"]["phone"] = "1391234567"

    problems = problems_of(detail)

    assert problems == [
        f"applicant.phone: {PHONE_PROBLEM}",
        "enterprise.legal_representative: must be at least 18 years old",
        f"enterprise.legal_representative.phone: {PHONE_PROBLEM}",
        "enterprise.registered_capital_fen: a company needs a registered capital above 0",
    ]
    assert "44011320141005001X" not in str(problems)


def test_the_legal_representatives_identity_number_is_checked() -> None:
    detail = with_enterprise(legal_representative={"name": "王晓明", "id_number": "360426199101010072"})

    assert problems_of(detail) == [
        "enterprise.legal_representative.id_number: "
        "check character does not match (GB 11643, ISO 7064 MOD 11-2)"
    ]


def test_an_individual_business_may_register_without_capital() -> None:
    assert problems_of(with_enterprise(type="individual_business", registered_capital_fen=0)) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "trust"}, "enterprise.type"),
        ({"registered_capital_fen": -1}, "enterprise.registered_capital_fen"),
        ({"address": "南京"}, "enterprise.address"),
    ],
)
def test_a_malformed_enterprise_field_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_application(with_enterprise(**change))

    assert [p.split(": ", 1)[0] for p in raised.value.problems] == [field]


# --- a transfer: both parties, the seller's title, the price ------------------------------------------

REAL_ESTATE = MATTERS["REAL-ESTATE-TRANSFER"]


def sale(**changes: Any) -> dict[str, Any]:
    detail = application("application_submitted.real_estate_transfer")
    detail["transfer"].update(changes)
    return detail


def test_the_sample_sale_passes() -> None:
    assert problems_of(sale(), REAL_ESTATE) == []


def test_a_sale_without_the_transfer_is_refused() -> None:
    detail = sale()
    del detail["transfer"]

    assert problems_of(detail, REAL_ESTATE) == ["transfer: required for matter REAL-ESTATE-TRANSFER"]


def test_the_seller_may_file_as_the_applicant() -> None:
    detail = sale()
    detail["applicant"] = dict(detail["transfer"]["seller"])

    assert problems_of(detail, REAL_ESTATE) == []


def test_a_third_person_cannot_apply_for_the_parties() -> None:
    detail = sale()
    detail["applicant"] = {"kind": "person", "name": "王晓明", "id_number": SAMPLE_ID_NUMBER}

    assert problems_of(detail, REAL_ESTATE) == [
        "applicant: must be the seller or the buyer (both parties apply together)"
    ]


def test_every_problem_of_the_parties_and_the_title_is_named_at_once() -> None:
    detail = sale(
        seller={"kind": "person", "name": "张建国", "id_number": "320104196505120037"},
        buyer={"kind": "enterprise", "name": "某公司", "credit_code": None},
        seller_title="不动产权第0012345号",
    )

    assert problems_of(detail, REAL_ESTATE) == [
        "transfer.seller.id_number: check character does not match (GB 11643, ISO 7064 MOD 11-2)",
        "transfer.buyer.credit_code: required for an enterprise",
        "applicant: must be the seller or the buyer (both parties apply together)",
        "transfer.seller_title: must start with '1.2.156.3005.2.'",
    ]


def test_seller_and_buyer_must_be_two_parties() -> None:
    detail = sale()
    detail["transfer"]["seller"] = dict(detail["transfer"]["buyer"])

    assert problems_of(detail, REAL_ESTATE) == ["transfer: seller and buyer are the same party"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"declared_price_fen": 0}, "transfer.declared_price_fen"),
        ({"floor_area_m2": "-3"}, "transfer.floor_area_m2"),
        ({"floor_area_m2": "89.555"}, "transfer.floor_area_m2"),
        ({"buyer_family_homes": 0}, "transfer.buyer_family_homes"),
    ],
)
def test_a_malformed_price_area_or_family_count_is_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_application(sale(**change))

    assert [p.split(": ", 1)[0] for p in raised.value.problems] == [field]


@pytest.mark.parametrize(
    ("enterprise_type", "prefix"),
    [("limited_liability_company", "91"), ("individual_business", "92"), ("farmers_cooperative", "93")],
)
def test_registration_assigns_a_checked_credit_code_of_the_type_and_region(
    enterprise_type: str, prefix: str
) -> None:
    parsed = parse_application(with_enterprise(type=enterprise_type, registered_capital_fen=1))
    assert parsed.enterprise is not None

    code = registration_credit_code(parsed.enterprise, "320102", 7)

    assert code.startswith(f"{prefix}320102MA")
    assert credit_code_problems(code) == []
    assert registration_credit_code(parsed.enterprise, "320102", 8) != code
