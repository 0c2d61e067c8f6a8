"""What a case charges: one payment order whose items are the fixed fees and, for a transfer,
the deed tax (契税), each with the document that sets it."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import Field

from zerovisit.domain.catalog import DeedTaxSchedule, Matter
from zerovisit.domain.model import Application, Frozen, ShortText, Transfer
from zerovisit.errors import CaseNotFound

DEED_TAX = "DEED_TAX"


class PaymentItem(Frozen):
    code: ShortText
    name: ShortText
    amount_fen: int = Field(ge=0)
    basis: ShortText


class PaymentOrder(Frozen):
    """One unified order (统一公共支付): the payer pays the total, the items stay apart."""

    order_id: ShortText
    case_id: ShortText
    items: list[PaymentItem] = Field(min_length=1)

    @property
    def total_fen(self) -> int:
        return sum(item.amount_fen for item in self.items)

    def summary(self) -> str:
        """'契税（1%） 28500.00 yuan + 不动产登记费（住宅） 80.00 yuan = 28580.00 yuan'."""
        parts = " + ".join(f"{item.name} {yuan(item.amount_fen)}" for item in self.items)
        return parts if len(self.items) == 1 else f"{parts} = {yuan(self.total_fen)}"


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d} yuan"


def deed_tax_fen(declared_price_fen: int, rate_percent: Decimal) -> int:
    """The tax on the declared price at the rate, to the fen, rounded half up."""
    tax = Decimal(declared_price_fen) * rate_percent / 100
    return int(tax.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def deed_tax_item(transfer: Transfer, schedule: DeedTaxSchedule) -> PaymentItem:
    """The buyer's deed tax on the declared price, at the rate the buyer's family and the floor
    area qualify for."""
    rate = schedule.rate_for(transfer.buyer_family_homes, transfer.floor_area_m2)
    return PaymentItem(
        code=DEED_TAX,
        name=f"契税（{rate.normalize():f}%）",
        amount_fen=deed_tax_fen(transfer.declared_price_fen, rate),
        basis="；".join(schedule.basis),
    )


def payment_items(matter: Matter, application: Application, day: date) -> list[PaymentItem]:
    """The items of the case's payment order: the deed tax first for a transfer, then the fees.
    Empty when the case charges nothing. CaseNotFound when the catalog has no deed-tax schedule
    in force for the region on the day."""
    items: list[PaymentItem] = []
    if application.transfer is not None:
        schedule = matter.deed_tax_schedule(application.region_code, day)
        if schedule is None:
            raise CaseNotFound(
                f"matter {matter.code} has no deed-tax schedule for region {application.region_code} on {day}"
            )
        items.append(deed_tax_item(application.transfer, schedule))
    items += [
        PaymentItem(code=fee.code, name=fee.name, amount_fen=fee.amount_fen, basis=fee.basis)
        for fee in matter.fees
    ]
    return items
