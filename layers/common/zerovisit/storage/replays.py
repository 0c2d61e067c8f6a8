"""The first answer to each signed request, kept while its timestamp is inside the signature window,
so that a replay of the same request gets that answer again and has no second effect.

Kept in the cases table under ``REPLAY#<digest>`` and removed by the table's time to live.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PutError
from pynamodb.models import Model

from zerovisit.errors import CaseNotFound, DependencyUnavailable
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CaseTableItem

KEEP = timedelta(minutes=15)  # longer than the window either side of the signed timestamp


class ReplayItem(Model):
    class Meta:
        table_name = "unbound-cases"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="replay")
    body = UnicodeAttribute()
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


def _bound() -> type[ReplayItem]:
    """The cases table, whatever name cold start bound it to."""
    if ReplayItem.Meta.table_name != CaseTableItem.Meta.table_name:
        ReplayItem.Meta.table_name = CaseTableItem.Meta.table_name
        ReplayItem._connection = None
    return ReplayItem


def first_answer(digest: str) -> Answer | None:
    try:
        with storage_errors():
            item = _bound().get(f"REPLAY#{digest}", "REPLAY", consistent_read=True)
    except CaseNotFound:
        return None
    data = json.loads(item.body)
    return Answer(int(data["status"]), data["body"])


def keep_answer(digest: str, answer: Answer, now: datetime) -> None:
    """Keep the first answer; a concurrent identical request that answered first keeps its own."""
    model = _bound()
    item = model(
        f"REPLAY#{digest}",
        "REPLAY",
        body=json.dumps({"status": answer.status, "body": answer.body}, ensure_ascii=False),
        expires_at=int((now + KEEP).timestamp()),
    )
    try:
        item.save(condition=model.pk.does_not_exist())
    except PutError as e:
        if e.cause_response_code != "ConditionalCheckFailedException":
            raise DependencyUnavailable("replay record write failed") from e
