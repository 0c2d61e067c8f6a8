"""Deed tax and the payment order: rates and conditions are catalog data, the items stay apart."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from zerovisit.catalog_files import read_catalog
from zerovisit.domain.application import parse_application
from zerovisit.domain.catalog import DeedTaxSchedule
from zerovisit.domain.model import Transfer
from zerovisit.domain.payment import (
    DEED_TAX,
    PaymentItem,
    PaymentOrder,
    deed_tax_fen,
    deed_tax_item,
    payment_items,
)
from zerovisit.errors import CaseNotFound

from tests.support import application

CATALOG = Path(__file__).resolve().parents[2] / "infra" / "catalog"
MATTERS = {m.code: m for m in read_catalog(CATALOG.glob("*.yaml"))}
REAL_ESTATE = MATTERS["REAL-ESTATE-TRANSFER"]
SALE_DAY = date(2026, 9, 30)
PRICE = 285_000_000  # 2,850,000 yuan


def schedule(day: date = SALE_DAY, region: str = "320104") -> DeedTaxSchedule:
    found = REAL_ESTATE.deed_tax_schedule(region, day)
    assert found is not None
    return found


def transfer(family_homes: int, area: str, price: int = PRICE) -> Transfer:
    detail = application("application_submitted.real_estate_transfer")
    detail["transfer"].update(buyer_family_homes=family_homes, floor_area_m2=area, declared_price_fen=price)
    parsed = parse_application(detail).transfer
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("family_homes", "area", "rate", "tax_fen"),
    [
        (1, "89.50", "1", 2_850_000),
        (1, "140.00", "1", 2_850_000),  # the threshold itself is within it
        (1, "140.01", "1.5", 4_275_000),
        (2, "120", "1", 2_850_000),
        (2, "160", "2", 5_700_000),
        (3, "89.50", "3", 8_550_000),  # a third home: Jiangsu's rate
    ],
)
def test_the_deed_tax_follows_the_family_and_the_floor_area(
    family_homes: int, area: str, rate: str, tax_fen: int
) -> None:
    item = deed_tax_item(transfer(family_homes, area), schedule())

    assert item.code == DEED_TAX
    assert item.name == f"契税（{rate}%）"
    assert item.amount_fen == tax_fen
    assert "2024年第16号" in item.basis


def test_before_december_2024_the_area_threshold_was_90_square_metres() -> None:
    earlier = schedule(date(2024, 11, 30))

    assert deed_tax_item(transfer(1, "100"), earlier).amount_fen == 4_275_000
    assert deed_tax_item(transfer(1, "100"), schedule(date(2024, 12, 1))).amount_fen == 2_850_000


@pytest.mark.parametrize(
    ("price", "rate", "tax"),
    [(100, "1.5", 2), (150, "1", 2), (149, "1", 1), (333_333, "3", 10_000), (1, "0", 0)],
)
def test_the_tax_is_rounded_half_up_to_the_fen(price: int, rate: str, tax: int) -> None:
    assert deed_tax_fen(price, Decimal(rate)) == tax


def test_the_transfer_pays_deed_tax_and_registration_fee_as_two_items() -> None:
    parsed = parse_application(application("application_submitted.real_estate_transfer"))

    items = payment_items(REAL_ESTATE, parsed, SALE_DAY)

    assert [(i.code, i.amount_fen) for i in items] == [(DEED_TAX, 2_850_000), ("REGISTRATION_FEE", 8000)]
    order = PaymentOrder(order_id="PAY-1", case_id="C-1", items=items)
    assert order.total_fen == 2_858_000
    assert order.summary() == "契税（1%） 28500.00 yuan + 不动产登记费（住宅） 80.00 yuan = 28580.00 yuan"


def test_a_business_start_up_charges_nothing() -> None:
    assert payment_items(MATTERS["BUSINESS-STARTUP"], parse_application(application()), SALE_DAY) == []


def test_a_sale_before_any_schedule_is_not_taxed_by_guess() -> None:
    parsed = parse_application(application("application_submitted.real_estate_transfer"))

    with pytest.raises(CaseNotFound, match="no deed-tax schedule for region 320104 on 2021-08-31"):
        payment_items(REAL_ESTATE, parsed, date(2021, 8, 31))


def test_an_order_of_one_item_has_no_sum() -> None:
    item = PaymentItem(code="FEE", name="登记费", amount_fen=8000, basis="x")

    assert PaymentOrder(order_id="P", case_id="C", items=[item]).summary() == "登记费 80.00 yuan"
