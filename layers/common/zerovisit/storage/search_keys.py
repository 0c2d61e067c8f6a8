"""The search indexes' keys on case and task items, derived from the case or task being written.

storage/cases.py calls ``index_case`` from ``_case_item`` and ``index_task`` from ``_task_item``;
every write of a case or task is a whole item, so the keys always follow the record. Open-only
indexes are sparse: a closed case or an answered task loses its keys and leaves the index.
"""

from datetime import UTC

from zerovisit.domain.case import Case
from zerovisit.domain.model import Task, TaskStatus
from zerovisit.storage.tables import CaseTableItem

NO_DUE_DATE = "9999-12-31"  # sorts after every real date


def region_due_key(region_code: str, due: str, case_id: str) -> str:
    return f"{region_code}#{due}#{case_id}"


def index_case(item: CaseTableItem, case: Case) -> None:
    region = case.application.region_code
    due = case.promised_due.isoformat() if case.promised_due else NO_DUE_DATE
    item.status_key = case.status.value
    item.status_sort = region_due_key(region, due, case.case_id)
    item.step_key = case.step
    item.step_sort = region_due_key(region, due, case.case_id)
    if not case.is_closed:
        submitted = case.application.submitted_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        item.open_region = region
        item.opened_at = f"{submitted}#{case.case_id}"


def index_task(item: CaseTableItem, task: Task) -> None:
    if task.status is TaskStatus.OPEN:
        item.task_partner = task.partner
        item.task_due = f"{task.due_on.isoformat() if task.due_on else NO_DUE_DATE}#{task.task_id}"
