"""Each partner's own tasks, through the TasksByPartner index of the cases table.

A task item carries ``task_partner`` (the partner) and ``task_key`` (status, creation moment and
task id), set by ``index_task`` when the item is written; pages are read oldest first.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC

from zerovisit.domain.model import Task
from zerovisit.errors import InvalidInput
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CaseTableItem

KEY_FIELDS = ("pk", "sk", "task_partner", "task_key")


def index_task(item: CaseTableItem, task: Task) -> None:
    """Put the task item in its partner's listing (called where the task item is built)."""
    item.task_partner = task.partner
    item.task_key = f"{task.status.value}#{task.created_at.astimezone(UTC).isoformat()}#{task.task_id}"


@dataclass(frozen=True)
class TaskPage:
    tasks: list[Task]
    cursor: str | None


def partner_tasks(partner: str, status: str, cursor: str | None, limit: int) -> TaskPage:
    start = _decode(cursor, partner, status) if cursor else None
    with storage_errors():
        results = CaseTableItem.tasks_by_partner.query(
            partner,
            CaseTableItem.task_key.startswith(f"{status}#"),
            limit=limit,
            last_evaluated_key=start,
        )
        tasks = [Task.model_validate_json(item.body or "") for item in results]
        last = results.last_evaluated_key
    return TaskPage(tasks, _encode(last) if last else None)


def _encode(key: dict[str, dict[str, str]]) -> str:
    plain = {name: key[name]["S"] for name in KEY_FIELDS}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(cursor: str, partner: str, status: str) -> dict[str, dict[str, str]]:
    """The key a cursor stands for; refused unless it is one of this partner's listing of this status."""
    try:
        plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        key = {name: {"S": str(plain[name])} for name in KEY_FIELDS}
    except (binascii.Error, ValueError, KeyError, TypeError) as e:
        raise InvalidInput(["cursor: not a cursor this listing returned"]) from e
    if plain["task_partner"] != partner or not str(plain["task_key"]).startswith(f"{status}#"):
        raise InvalidInput(["cursor: not a cursor this listing returned"])
    return key
