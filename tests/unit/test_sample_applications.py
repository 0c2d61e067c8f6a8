"""The sample applications under events/: the valid ones pass intake, the invalid ones are refused
with every problem named, field by field, and no personal data echoed."""

from datetime import date

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.application import validated_application
from zerovisit.errors import InvalidInput

from infra.local.runtime import CATALOG_DIR
from tests.support import load_event

MATTERS = {m.code: m for m in read_catalog(CATALOG_DIR.glob("*.yaml"))}
TODAY = date(2026, 11, 27)
FLOWS = ["business_startup", "real_estate_transfer", "industrial_construction_permit"]
INVALID = {
    "business_startup": [
        "applicant.id_number",
        "applicant.phone",
        "delivery.phone",
        "enterprise.legal_representative",
        "enterprise.registered_capital_fen",
    ],
    "real_estate_transfer": [
        "agent.id_number",
        "applicant.id_number",
        "region_code",
        "transfer.buyer.id_number",
        "transfer.seller_title",
    ],
    "industrial_construction_permit": ["applicant.credit_code", "applicant.credit_code", "materials"],
}


@pytest.mark.parametrize("flow", FLOWS)
def test_the_valid_sample_passes_intake(flow: str) -> None:
    application, matter = validated_application(
        load_event(f"application_submitted.{flow}")["detail"], MATTERS.get, TODAY
    )
    assert matter.code == application.matter_code


@pytest.mark.parametrize("flow", FLOWS)
def test_the_invalid_sample_is_refused_with_every_problem(flow: str) -> None:
    detail = load_event(f"application_submitted.{flow}.invalid")["detail"]
    with pytest.raises(InvalidInput) as refused:
        validated_application(detail, MATTERS.get, TODAY)
    assert sorted(p.split(":")[0] for p in refused.value.problems) == INVALID[flow]
    for person in (detail["applicant"], detail.get("agent") or {}):
        if person.get("id_number"):
            assert person["id_number"] not in str(refused.value.problems)
