from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.application import parse_application
from zerovisit.domain.catalog import Holder
from zerovisit.domain.identity import certificate_identifier
from zerovisit.domain.model import Application, Deficiency, SubmittedMaterial
from zerovisit.domain.prereview import (
    AGENT,
    apply_correction,
    held_on,
    holder_id,
    holders,
    may_ask_for_correction,
    review_materials,
)

from tests.support import application, document, held_title, without_material

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
BUSINESS_STARTUP = MATTERS["BUSINESS-STARTUP"]
REAL_ESTATE = MATTERS["REAL-ESTATE-TRANSFER"]
NAMES = {m.code: m.name for m in BUSINESS_STARTUP.materials}

FOUNDER = "360426199101010071"  # the sample's applicant and legal representative
OTHER_PERSON = "11010519491231002X"
SELLER = "320104196505120036"
BUYER = "11010519491231002X"
ADULT_AGENT = "320102198503151230"

ID_CARD = certificate_identifier("11100000MB0143028R009", "11320100MB0C005112", "00000042", 1)
PROPERTY = certificate_identifier("11100000MB0143028R002", "11320100MB0C00773R", "00000011", 1)
SELLER_TITLE = "1.2.156.3005.2.11100000MB0143028R002.11320100MB0C00773R.00000007.001.S"
OTHER_TITLE = certificate_identifier("11100000MB0143028R002", "11320100MB0C00773R", "00000008", 1)


@dataclass(frozen=True)
class Held:
    identifier: str
    kind: str
    holder_id: str
    status: str = "valid"


def submitted(*missing: str, name: str = "application_submitted.business_startup") -> Application:
    detail = application(name)
    for code in missing:
        detail = without_material(detail, code)
    return parse_application(detail)


def transfer(*missing: str) -> Application:
    """The sample transfer naming SELLER_TITLE as the seller's title."""
    detail = application("application_submitted.real_estate_transfer")
    detail["transfer"]["seller_title"] = SELLER_TITLE
    for code in missing:
        detail = without_material(detail, code)
    return parse_application(detail)


def with_agent(id_number: str, *, authorisation: bool = True, **changes: Any) -> Application:
    detail = application(**changes)
    detail["agent"] = {"name": "李代办", "id_number": id_number, "authorisation_ref": "AUTH-1"}
    if authorisation:
        detail["materials"].append({"code": "AGENT_AUTHORISATION", "document_ref": document("authorisation")})
    return parse_application(detail)


def deficiency(code: str) -> Deficiency:
    return Deficiency(material=code, problem=f"{NAMES[code]}: not submitted")


# --- review_materials ---------------------------------------------------------------------------------


def test_complete_submission_has_no_deficiencies() -> None:
    assert review_materials(submitted(), BUSINESS_STARTUP, []) == ([], {})


def test_every_missing_material_is_named_at_once_and_the_authorisation_only_with_an_agent() -> None:
    deficiencies, reused = review_materials(submitted(*NAMES), BUSINESS_STARTUP, [])

    assert [d.problem for d in deficiencies] == [
        "公司设立登记申请书: not submitted",
        "公司章程: not submitted",
        "法定代表人身份证明: not submitted",
        "住所（经营场所）使用证明: not submitted",
    ]
    assert reused == {}


def test_missing_materials_are_named_in_catalog_order() -> None:
    deficiencies, _ = review_materials(
        submitted("PREMISES_PROOF", "ESTABLISHMENT_FORM"), BUSINESS_STARTUP, []
    )

    assert deficiencies == [deficiency("ESTABLISHMENT_FORM"), deficiency("PREMISES_PROOF")]


@pytest.mark.parametrize(
    ("material", "certificate"),
    [
        ("REPRESENTATIVE_ID", Held(ID_CARD, "RESIDENT_ID_CARD", FOUNDER)),
        ("PREMISES_PROOF", Held(PROPERTY, "REAL_ESTATE_CERTIFICATE", FOUNDER)),
    ],
)
def test_a_certificate_the_right_party_holds_is_reused_not_demanded(material: str, certificate: Held) -> None:
    deficiencies, reused = review_materials(submitted(material), BUSINESS_STARTUP, [certificate])

    assert deficiencies == []
    assert reused == {material: certificate.identifier}


def test_a_certificate_held_by_someone_else_never_counts() -> None:
    held = [
        Held(ID_CARD, "RESIDENT_ID_CARD", OTHER_PERSON),
        Held(PROPERTY, "REAL_ESTATE_CERTIFICATE", SELLER),
    ]

    deficiencies, reused = review_materials(
        submitted("REPRESENTATIVE_ID", "PREMISES_PROOF"), BUSINESS_STARTUP, held
    )

    assert deficiencies == [deficiency("REPRESENTATIVE_ID"), deficiency("PREMISES_PROOF")]
    assert reused == {}


def test_the_legal_representatives_id_card_is_his_own_not_the_founders() -> None:
    detail = application()
    detail["enterprise"]["legal_representative"]["id_number"] = OTHER_PERSON
    detail = without_material(detail, "REPRESENTATIVE_ID")
    founders_card = Held(ID_CARD, "RESIDENT_ID_CARD", FOUNDER)
    representatives_card = Held(PROPERTY, "RESIDENT_ID_CARD", OTHER_PERSON)

    assert review_materials(parse_application(detail), BUSINESS_STARTUP, [founders_card])[0] == [
        deficiency("REPRESENTATIVE_ID")
    ]
    assert review_materials(parse_application(detail), BUSINESS_STARTUP, [representatives_card])[1] == {
        "REPRESENTATIVE_ID": PROPERTY
    }


def test_a_revoked_certificate_does_not_count() -> None:
    held = [Held(ID_CARD, "RESIDENT_ID_CARD", FOUNDER, status="revoked")]

    deficiencies, reused = review_materials(submitted("REPRESENTATIVE_ID"), BUSINESS_STARTUP, held)

    assert deficiencies == [deficiency("REPRESENTATIVE_ID")]
    assert reused == {}


def test_a_certificate_of_another_kind_does_not_satisfy() -> None:
    held = [Held(ID_CARD, "BUSINESS_LICENCE", FOUNDER)]

    deficiencies, reused = review_materials(submitted("REPRESENTATIVE_ID"), BUSINESS_STARTUP, held)

    assert deficiencies == [deficiency("REPRESENTATIVE_ID")]
    assert reused == {}


def test_an_empty_certificate_identifier_does_not_satisfy() -> None:
    held = [Held("", "RESIDENT_ID_CARD", FOUNDER)]

    assert review_materials(submitted("REPRESENTATIVE_ID"), BUSINESS_STARTUP, held)[0] == [
        deficiency("REPRESENTATIVE_ID")
    ]


def test_a_submitted_material_is_not_replaced_by_a_held_certificate() -> None:
    held = [Held(ID_CARD, "RESIDENT_ID_CARD", FOUNDER), Held(PROPERTY, "REAL_ESTATE_CERTIFICATE", FOUNDER)]

    assert review_materials(submitted(), BUSINESS_STARTUP, held) == ([], {})


# --- a transfer: the seller's title and both parties -------------------------------------------------


def test_the_sellers_named_title_held_by_the_seller_stands_in_for_the_property_certificate() -> None:
    held = [Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER)]

    deficiencies, reused = review_materials(transfer("PROPERTY_CERTIFICATE"), REAL_ESTATE, held)

    assert deficiencies == []
    assert reused == {"PROPERTY_CERTIFICATE": SELLER_TITLE}


def test_with_a_scan_uploaded_the_sellers_valid_title_is_still_checked_and_the_scan_counts() -> None:
    held = [Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER)]

    assert review_materials(transfer(), REAL_ESTATE, held) == ([], {})


NOT_AMONG = "is not among the seller's titles in the certificate library"


@pytest.mark.parametrize(
    ("held", "problem"),
    [
        ([], NOT_AMONG),
        ([Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", BUYER)], NOT_AMONG),  # the buyer's own purchase
        ([Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", OTHER_PERSON)], NOT_AMONG),
        ([Held(OTHER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER)], NOT_AMONG),  # another home of the seller
        ([Held(SELLER_TITLE, "RESIDENT_ID_CARD", SELLER)], NOT_AMONG),
        ([Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER, status="revoked")], "is revoked"),
        ([Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER, status="expired")], "is expired"),
    ],
    ids=[
        "not-held",
        "held-by-the-buyer",
        "held-by-someone-else",
        "another-title",
        "another-kind",
        "revoked",
        "expired",
    ],
)
@pytest.mark.parametrize("scan", [True, False], ids=["scan-uploaded", "no-scan"])
def test_a_named_title_that_is_not_the_sellers_valid_title_cannot_be_corrected(
    held: list[Held], problem: str, scan: bool
) -> None:
    application = transfer() if scan else transfer("PROPERTY_CERTIFICATE")

    deficiencies, reused = review_materials(application, REAL_ESTATE, held)

    assert deficiencies == [
        Deficiency(
            material="PROPERTY_CERTIFICATE",
            problem=f"不动产权属证书（出卖人）: the title the application names {problem}",
            correctable=False,
        )
    ]
    assert reused == {}
    # the answer goes to the applicant: no party's identity number or name in it
    for person in (SELLER, BUYER, OTHER_PERSON, "张建国", "李娜"):
        assert person not in deficiencies[0].problem
    assert not may_ask_for_correction(0, REAL_ESTATE.waits.max_correction_rounds, deficiencies)


def test_a_missing_document_can_still_be_corrected_beside_a_valid_title() -> None:
    held = [Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER)]

    deficiencies, _ = review_materials(transfer("SALE_CONTRACT"), REAL_ESTATE, held)

    assert [(d.material, d.correctable) for d in deficiencies] == [("SALE_CONTRACT", True)]
    assert may_ask_for_correction(0, REAL_ESTATE.waits.max_correction_rounds, deficiencies)


def test_the_title_check_sees_a_certificates_status_on_the_day() -> None:
    title = held_title(
        {"seller_title": SELLER_TITLE, "seller": {"id_number": SELLER, "name": "张建国"}},
        valid_until=date(2026, 10, 31),
    )

    assert held_on(title, date(2026, 10, 31)).status == "valid"
    assert held_on(title, date(2026, 11, 1)).status == "expired"
    assert held_on(
        title.revoked(datetime(2026, 10, 1, tzinfo=UTC), "court order"), date(2026, 10, 2)
    ).status == ("revoked")


def test_each_partys_id_card_comes_from_that_partys_library() -> None:
    held = [
        Held(ID_CARD, "RESIDENT_ID_CARD", BUYER),
        Held(PROPERTY, "RESIDENT_ID_CARD", SELLER),
        Held(SELLER_TITLE, "REAL_ESTATE_CERTIFICATE", SELLER),
    ]

    deficiencies, reused = review_materials(transfer("BUYER_ID", "SELLER_ID"), REAL_ESTATE, held)

    assert deficiencies == []
    assert reused == {"BUYER_ID": ID_CARD, "SELLER_ID": PROPERTY}


def test_pre_review_reads_the_libraries_of_every_party_a_material_may_be_held_by() -> None:
    assert holders(transfer(), REAL_ESTATE) == {SELLER, BUYER}
    assert holders(submitted(), BUSINESS_STARTUP) == {FOUNDER}
    assert holder_id(submitted(), Holder.SELLER) is None


# --- the agent ----------------------------------------------------------------------------------------


def test_an_adult_agent_with_an_authorisation_passes() -> None:
    assert review_materials(with_agent(ADULT_AGENT), BUSINESS_STARTUP, []) == ([], {})


def test_an_agent_without_the_authorisation_material_is_asked_for_it() -> None:
    deficiencies, _ = review_materials(with_agent(ADULT_AGENT, authorisation=False), BUSINESS_STARTUP, [])

    assert deficiencies == [
        Deficiency(material="AGENT_AUTHORISATION", problem="授权委托书（代办）: not submitted")
    ]


@pytest.mark.parametrize(
    ("id_number", "problem"),
    [
        ("44011320141005001X", "must be at least 18 years old on the day of submission"),
        ("440524188001010014", "identity number gives an age above 120"),
        (FOUNDER, "is the applicant; an applicant files without an agent"),
    ],
    ids=["twelve-years-old", "born-in-1880", "the-applicant"],
)
def test_an_agent_who_may_not_act_is_named(id_number: str, problem: str) -> None:
    deficiencies, _ = review_materials(with_agent(id_number), BUSINESS_STARTUP, [])

    assert deficiencies == [Deficiency(material=AGENT, problem=f"代办人 李代办: {problem}")]
    assert id_number not in deficiencies[0].problem


def test_the_agents_age_counts_on_the_day_of_submission_in_china() -> None:
    # Born 2008-02-14: 18 from 2026-02-14, which begins at 16:00 UTC on the 13th.
    agent = "320102200802140013"
    before = with_agent(agent, submitted_at=datetime.fromisoformat("2026-02-13T15:59:00+00:00"))
    after = with_agent(agent, submitted_at=datetime.fromisoformat("2026-02-13T16:00:00+00:00"))

    assert [d.material for d in review_materials(before, BUSINESS_STARTUP, [])[0]] == [AGENT]
    assert review_materials(after, BUSINESS_STARTUP, [])[0] == []


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
    deficiencies, _ = review_materials(original, BUSINESS_STARTUP, [])
    correction = [SubmittedMaterial(code=d.material, document_ref=document(d.material)) for d in deficiencies]

    assert review_materials(apply_correction(original, correction), BUSINESS_STARTUP, []) == ([], {})


# --- correction rounds --------------------------------------------------------------------------------


def test_the_catalog_allows_two_correction_rounds() -> None:
    rounds = 0
    while may_ask_for_correction(rounds, BUSINESS_STARTUP.waits.max_correction_rounds):
        rounds += 1
        assert rounds <= 10, "may_ask_for_correction never says no"

    assert rounds == 2


@pytest.mark.parametrize(
    ("rounds_so_far", "max_rounds", "allowed"),
    [(0, 1, True), (1, 1, False), (1, 2, True), (2, 2, False), (3, 2, False)],
)
def test_may_ask_for_correction(rounds_so_far: int, max_rounds: int, allowed: bool) -> None:
    assert may_ask_for_correction(rounds_so_far, max_rounds) is allowed


def test_a_document_without_a_verifiable_digest_is_a_deficiency() -> None:
    detail = application()
    detail["materials"][0]["document_ref"] = "scan.jpg"
    deficiencies, _ = review_materials(parse_application(detail), BUSINESS_STARTUP, [])
    assert deficiencies == [
        Deficiency(material="ESTABLISHMENT_FORM", problem="公司设立登记申请书: document cannot be verified")
    ]
