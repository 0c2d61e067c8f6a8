"""The DynamoDB tables as pynamodb models. Table names are bound from settings at cold start."""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from zerovisit.config import Settings
from zerovisit.domain.certificate import Certificate
from zerovisit.storage.common import applicant_key


class OpenByDeadline(GlobalSecondaryIndex["CaseTableItem"]):
    class Meta:
        index_name = "OpenByDeadline"
        projection = KeysOnlyProjection()

    open_shard = UnicodeAttribute(hash_key=True)
    deadline_at = UnicodeAttribute(range_key=True)


class ByApplicant(GlobalSecondaryIndex["CaseTableItem"]):
    class Meta:
        index_name = "ByApplicant"
        projection = KeysOnlyProjection()

    applicant_key = UnicodeAttribute(hash_key=True)
    submitted_at = UnicodeAttribute(range_key=True)


class DueAlarms(GlobalSecondaryIndex["CaseTableItem"]):
    """Open cases and review tasks by their next alarm moment, in a few shards."""

    class Meta:
        index_name = "DueAlarms"
        projection = KeysOnlyProjection()

    alarm_shard = UnicodeAttribute(hash_key=True)
    next_alarm_at = UnicodeAttribute(range_key=True)


class ClosedByMatterRegion(GlobalSecondaryIndex["CaseTableItem"]):
    """Closed cases by matter and region, by closing date: what the 3550 report reads."""

    class Meta:
        index_name = "ClosedByMatterRegion"
        projection = IncludeProjection(["status", "report_days", "report_documents"])

    report_key = UnicodeAttribute(hash_key=True)
    closed_on = UnicodeAttribute(range_key=True)


class TasksByPartner(GlobalSecondaryIndex["CaseTableItem"]):
    """Each partner's tasks by status and age: what GET /tasks reads (zerovisit.storage.partner_tasks)."""

    class Meta:
        index_name = "TasksByPartner"
        projection = IncludeProjection(["body"])

    task_partner = UnicodeAttribute(hash_key=True)
    task_key = UnicodeAttribute(range_key=True)


class CaseTableItem(Model):
    """One item of a case's partition: the case itself, a timeline entry, a task, or a counter."""

    class Meta:
        table_name = "unbound-cases"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
    body = UnicodeAttribute(null=True)
    status = UnicodeAttribute(null=True)
    version = NumberAttribute(null=True)
    counter = NumberAttribute(null=True)
    open_shard = UnicodeAttribute(null=True)
    deadline_at = UnicodeAttribute(null=True)
    applicant_key = UnicodeAttribute(null=True)
    submitted_at = UnicodeAttribute(null=True)
    alarm_shard = UnicodeAttribute(null=True)
    next_alarm_at = UnicodeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    closed_on = UnicodeAttribute(null=True)
    report_days = NumberAttribute(null=True)
    report_documents = NumberAttribute(null=True)
    task_partner = UnicodeAttribute(null=True)
    task_key = UnicodeAttribute(null=True)

    open_by_deadline = OpenByDeadline()
    due_alarms = DueAlarms()
    closed_by_matter_region = ClosedByMatterRegion()
    by_applicant = ByApplicant()
    tasks_by_partner = TasksByPartner()


class CatalogItem(Model):
    class Meta:
        table_name = "unbound-catalog"

    matter_code = UnicodeAttribute(hash_key=True)
    body = UnicodeAttribute()


class ByHolder(GlobalSecondaryIndex["CertificateItem"]):
    class Meta:
        index_name = "ByHolder"
        projection = AllProjection()

    holder_key = UnicodeAttribute(hash_key=True)
    issued_at = UnicodeAttribute(range_key=True)


class CertificateItem(Model):
    class Meta:
        table_name = "unbound-certificates"

    identifier = UnicodeAttribute(hash_key=True)
    holder_key = UnicodeAttribute()
    issued_at = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    body = UnicodeAttribute()

    by_holder = ByHolder()


def bind_tables(settings: Settings) -> None:
    CaseTableItem.Meta.table_name = settings.cases_table
    CatalogItem.Meta.table_name = settings.catalog_table
    CertificateItem.Meta.table_name = settings.certificates_table
    for model in (CaseTableItem, CatalogItem, CertificateItem):
        model._connection = None  # a new name needs a new connection


def certificate_item(certificate: Certificate) -> CertificateItem:
    return CertificateItem(
        certificate.identifier,
        holder_key=applicant_key(certificate.holder_id),
        issued_at=certificate.issued_at.isoformat(),
        kind=certificate.kind,
        status=certificate.status,
        body=certificate.model_dump_json(),
    )
