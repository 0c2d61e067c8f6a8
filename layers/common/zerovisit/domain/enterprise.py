"""What a newly registered enterprise gets after its licence (领取执照以后办理刻章、办税、开户): the
departments' results, checked, and the record the enterprise keeps of each."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from zerovisit.domain.model import Frozen, ShortText


class ServiceKind(StrEnum):
    """Which result a post-issuance department answers with (the catalog names it per department)."""

    SEAL = "seal"  # 印章刻制备案
    TAX = "tax"  # 税务登记（多证合一）与发票领用
    BANK_ACCOUNT = "bank_account"  # 基本存款账户开立


class SealType(StrEnum):
    OFFICIAL = "official"  # 公章
    FINANCE = "finance"  # 财务专用章
    INVOICE = "invoice"  # 发票专用章
    CONTRACT = "contract"  # 合同专用章
    LEGAL_REPRESENTATIVE = "legal_representative"  # 法定代表人名章


class InvoiceType(StrEnum):
    DIGITAL_GENERAL = "digital_general"  # 数电发票（普通发票）
    DIGITAL_SPECIAL = "digital_special"  # 数电发票（增值税专用发票）


class SealFiling(Frozen):
    """The public security bureau's filing of the engraved seals."""

    kind: Literal["seal"]
    filing_number: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{8,32}$", max_length=32)]
    seals: list[SealType] = Field(min_length=1, max_length=len(SealType))


class TaxRegistration(Frozen):
    """The tax office's registration and first invoices. Since 多证合一 the taxpayer id is the
    enterprise's unified social credit code; the quota is the monthly total it may invoice."""

    kind: Literal["tax"]
    taxpayer_id: str = Field(min_length=18, max_length=18)
    invoice_types: list[InvoiceType] = Field(min_length=1, max_length=len(InvoiceType))
    monthly_quota_fen: int = Field(gt=0, le=10**13)


class BankAccount(Frozen):
    """The basic deposit account; since 2019 its number (基本存款账户编号, 'J' and 13 digits)
    replaces the account-opening permit."""

    kind: Literal["bank_account"]
    bank_name: ShortText
    account_number: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,32}$", max_length=32)]
    account_code: Annotated[str, StringConstraints(pattern=r"^J[0-9]{13}$", max_length=14)]


ServiceResult = Annotated[SealFiling | TaxRegistration | BankAccount, Field(discriminator="kind")]


class ServiceOutcome(StrEnum):
    COMPLETED = "completed"
    DEEMED_COMPLETED = "deemed_completed"  # silent within its limit under a deem-approved policy
    REFUSED = "refused"
    EXPIRED = "expired"  # silent past the final limit after escalation


class ServiceRecord(Frozen):
    """One post-issuance service as the enterprise keeps it, under its credit code."""

    credit_code: str = Field(max_length=18)
    case_id: str = Field(max_length=64)
    case_number: str | None = Field(max_length=32)
    department: str = Field(max_length=40)
    department_name: ShortText
    service: ServiceKind
    outcome: ServiceOutcome
    result: ServiceResult | None = None
    reason: str | None = Field(default=None, max_length=2000)
    task_id: str | None = Field(max_length=128)
    recorded_at: datetime

    @property
    def done(self) -> bool:
        return self.outcome in (ServiceOutcome.COMPLETED, ServiceOutcome.DEEMED_COMPLETED)

    def summary(self) -> str:
        """One line for the timeline; an account number shows only its last four digits."""
        if self.outcome is ServiceOutcome.REFUSED:
            return f"{self.department_name}: refused ({self.reason or 'no reason given'})"
        if self.outcome is ServiceOutcome.EXPIRED:
            return f"{self.department_name}: {self.reason or 'no answer within the final limit'}"
        if self.result is None:
            return f"{self.department_name}: {self.reason or 'deemed completed'}"
        return f"{self.department_name}: {describe(self.result)}"


def describe(result: SealFiling | TaxRegistration | BankAccount) -> str:
    if isinstance(result, SealFiling):
        return f"seal filing {result.filing_number} ({', '.join(s.value for s in result.seals)})"
    if isinstance(result, TaxRegistration):
        invoices = ", ".join(t.value for t in result.invoice_types)
        return (
            f"taxpayer {result.taxpayer_id}, invoices {invoices}, "
            f"{result.monthly_quota_fen / 100:.2f} yuan a month"
        )
    return f"basic account {result.account_code} at {result.bank_name} (****{result.account_number[-4:]})"


def result_problems(
    service: ServiceKind, result: SealFiling | TaxRegistration | BankAccount | None, credit_code: str | None
) -> list[str]:
    """What is wrong with a department's result for its service and the enterprise registered."""
    if result is None:
        return [f"result: the {service.value} result is required with decision 'approve'"]
    if result.kind != service.value:
        return [f"result.kind: this task answers with a {service.value} result, not {result.kind}"]
    if isinstance(result, TaxRegistration) and result.taxpayer_id != credit_code:
        return ["result.taxpayer_id: must be the enterprise's unified social credit code (多证合一)"]
    return []
