"""GET /tasks: the calling partner's own tasks, a page at a time, never their task tokens."""

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel

from zerovisit.domain.model import Task
from zerovisit.storage import partner_tasks

TaskState = Literal["open", "answered"]
# What a partner needs from a task's details: the department's code and name, the amount, the waybill.
SHOWN_DETAILS = ("department", "department_name", "amount_fen", "waybill")


class TaskView(BaseModel):
    task_id: str
    case_id: str
    kind: Literal["review", "correction", "payment", "delivery"]
    status: TaskState
    stage: int | None
    created_at: datetime
    due_on: date | None
    details: dict[str, str | int]


class TaskPage(BaseModel):
    tasks: list[TaskView]
    cursor: str | None


def view(task: Task) -> TaskView:
    details: dict[str, Any] = {k: v for k, v in task.details.items() if k in SHOWN_DETAILS}
    return TaskView(
        task_id=task.task_id,
        case_id=task.case_id,
        kind=task.kind.value,
        status=task.status.value,
        stage=None if task.stage is None else task.stage + 1,
        created_at=task.created_at,
        due_on=task.due_on,
        details=details,
    )


def list_tasks(partner: str, status: TaskState, cursor: str | None, limit: int) -> TaskPage:
    page = partner_tasks.partner_tasks(partner, status, cursor, limit)
    return TaskPage(tasks=[view(t) for t in page.tasks], cursor=page.cursor)
