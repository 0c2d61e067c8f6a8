from pathlib import Path

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.application import parse_application
from zerovisit.domain.identity import certificate_identifier
from zerovisit.domain.model import Application, Deficiency, SubmittedMaterial
from zerovisit.domain.prereview import (
    MAX_CORRECTION_ROUNDS,
    apply_correction,
    may_ask_for_correction,
    review_materials,
)

from tests.support import application, document, without_material

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
BUSINESS_STARTUP = MATTERS["BUSINESS-STARTUP"]
NAMES = {m.code: m.name for m in BUSINESS_STARTUP.materials}

ID_CARD = certificate_identifier("11100000MB0143028R009", "11320100MB0C005112", "00000042", 1)
PROPERTY = certificate_identifier("11100000MB0143028R002", "11320100MB0C005112", "00000007", 1)


def submitted(*missing: str) -> Application:
    detail = application()
    for code in missing:
        detail = without_material(detail, code)
    return parse_application(detail)


def deficiency(code: str) -> Deficiency:
    return Deficiency(material=code, problem=f"{NAMES[code]}: not submitted")


# --- review_materials ---------------------------------------------------------------------------------


def test_complete_submission_has_no_deficiencies() -> None:
    assert review_materials(submitted(), BUSINESS_STARTUP, {}) == ([], {})


def test_every_missing_material_is_named_at_once() -> None:
    deficiencies, reused = review_materials(submitted(*NAMES), BUSINESS_STARTUP, {})

    assert deficiencies == [deficiency(code) for code in NAMES]
    assert [d.problem for d in deficiencies] == [
        "公司设立登记申请书: not submitted",
        "公司章程: not submitted",
        "法定代表人身份证明: not submitted",
        "住所（经营场所）使用证明: not submitted",
    ]
    assert reused == {}


def test_missing_materials_are_named_in_catalog_order() -> None:
    deficiencies, _ = review_materials(
        submitted("PREMISES_PROOF", "ESTABLISHMENT_FORM"), BUSINESS_STARTUP, {}
    )

    assert deficiencies == [deficiency("ESTABLISHMENT_FORM"), deficiency("PREMISES_PROOF")]


@pytest.mark.parametrize(
    ("material", "certificate_kind", "identifier"),
    [
        ("REPRESENTATIVE_ID", "RESIDENT_ID_CARD", ID_CARD),
        ("PREMISES_PROOF", "REAL_ESTATE_CERTIFICATE", PROPERTY),
    ],
)
def test_held_certificate_is_reused_not_demanded(
    material: str, certificate_kind: str, identifier: str
) -> None:
    deficiencies, reused = review_materials(
        submitted(material), BUSINESS_STARTUP, {certificate_kind: identifier}
    )

    assert deficiencies == []
    assert reused == {material: identifier}


def test_held_certificates_cover_their_materials_and_the_rest_is_demanded() -> None:
    held = {"RESIDENT_ID_CARD": ID_CARD, "REAL_ESTATE_CERTIFICATE": PROPERTY}

    deficiencies, reused = review_materials(submitted(*NAMES), BUSINESS_STARTUP, held)

    assert deficiencies == [deficiency("ESTABLISHMENT_FORM"), deficiency("ARTICLES_OF_ASSOCIATION")]
    assert reused == {"REPRESENTATIVE_ID": ID_CARD, "PREMISES_PROOF": PROPERTY}


def test_a_certificate_of_another_kind_does_not_satisfy() -> None:
    held = {"BUSINESS_LICENCE": ID_CARD, "REAL_ESTATE_CERTIFICATE": PROPERTY}

    deficiencies, reused = review_materials(submitted("REPRESENTATIVE_ID"), BUSINESS_STARTUP, held)

    assert deficiencies == [deficiency("REPRESENTATIVE_ID")]
    assert reused == {}


def test_an_empty_certificate_identifier_does_not_satisfy() -> None:
    deficiencies, reused = review_materials(
        submitted("REPRESENTATIVE_ID"), BUSINESS_STARTUP, {"RESIDENT_ID_CARD": ""}
    )

    assert deficiencies == [deficiency("REPRESENTATIVE_ID")]
    assert reused == {}


def test_a_submitted_material_is_not_replaced_by_a_held_certificate() -> None:
    held = {"RESIDENT_ID_CARD": ID_CARD, "REAL_ESTATE_CERTIFICATE": PROPERTY}

    assert review_materials(submitted(), BUSINESS_STARTUP, held) == ([], {})


def test_materials_of_another_matter_use_its_own_list() -> None:
    matter = MATTERS["REAL-ESTATE-TRANSFER"]

    deficiencies, reused = review_materials(submitted(), matter, {"RESIDENT_ID_CARD": ID_CARD})

    assert [d.material for d in deficiencies] == [
        "REGISTRATION_FORM",
        "SALE_CONTRACT",
        "PROPERTY_CERTIFICATE",
    ]
    assert reused == {"BUYER_ID": ID_CARD}


# --- apply_correction ---------------------------------------------------------------------------------


def test_correction_replaces_by_code_and_keeps_the_rest() -> None:
    original = submitted("PREMISES_PROOF")
    corrected_form = SubmittedMaterial(code="ESTABLISHMENT_FORM", document_ref="sha256:corrected-form")
    premises = SubmittedMaterial(code="PREMISES_PROOF", document_ref="sha256:lease")

    changed = apply_correction(original, [corrected_form, premises])

    refs = {m.code: m.document_ref for m in changed.materials}
    before = {m.code: m.document_ref for m in original.materials}
    assert [m.code for m in changed.materials] == [
        "ESTABLISHMENT_FORM",
        "ARTICLES_OF_ASSOCIATION",
        "REPRESENTATIVE_ID",
        "PREMISES_PROOF",
    ]
    assert refs["ESTABLISHMENT_FORM"] == "sha256:corrected-form"
    assert refs["PREMISES_PROOF"] == "sha256:lease"
    assert refs["ARTICLES_OF_ASSOCIATION"] == before["ARTICLES_OF_ASSOCIATION"]
    assert refs["REPRESENTATIVE_ID"] == before["REPRESENTATIVE_ID"]


def test_correction_leaves_the_original_and_the_rest_of_the_application_alone() -> None:
    original = submitted()
    before = original.model_dump()

    changed = apply_correction(original, [SubmittedMaterial(code="ESTABLISHMENT_FORM", document_ref="new")])

    assert original.model_dump() == before
    assert changed.model_dump(exclude={"materials"}) == original.model_dump(exclude={"materials"})
    assert len(changed.materials) == len(original.materials)


def test_empty_correction_changes_nothing() -> None:
    original = submitted("ARTICLES_OF_ASSOCIATION")

    assert apply_correction(original, []) == original


def test_corrected_application_passes_pre_review() -> None:
    original = submitted("ESTABLISHMENT_FORM", "ARTICLES_OF_ASSOCIATION")
    deficiencies, _ = review_materials(original, BUSINESS_STARTUP, {})
    correction = [SubmittedMaterial(code=d.material, document_ref=document(d.material)) for d in deficiencies]

    assert review_materials(apply_correction(original, correction), BUSINESS_STARTUP, {}) == ([], {})


# --- correction rounds --------------------------------------------------------------------------------


def test_exactly_max_correction_rounds_are_allowed() -> None:
    rounds = 0
    while may_ask_for_correction(rounds):
        rounds += 1
        assert rounds <= 10, "may_ask_for_correction never says no"

    assert rounds == MAX_CORRECTION_ROUNDS


@pytest.mark.parametrize(
    ("rounds_so_far", "allowed"),
    [
        (0, True),
        (MAX_CORRECTION_ROUNDS - 1, True),
        (MAX_CORRECTION_ROUNDS, False),
        (MAX_CORRECTION_ROUNDS + 1, False),
    ],
)
def test_may_ask_for_correction(rounds_so_far: int, allowed: bool) -> None:
    assert may_ask_for_correction(rounds_so_far) is allowed


def test_at_least_one_correction_round_is_allowed() -> None:
    assert MAX_CORRECTION_ROUNDS >= 1


def test_a_document_without_a_verifiable_digest_is_a_deficiency() -> None:
    detail = application()
    detail["materials"][0]["document_ref"] = "scan.jpg"
    deficiencies, _ = review_materials(parse_application(detail), BUSINESS_STARTUP, {})
    assert deficiencies == [
        Deficiency(material="ESTABLISHMENT_FORM", problem="公司设立登记申请书: document cannot be verified")
    ]
