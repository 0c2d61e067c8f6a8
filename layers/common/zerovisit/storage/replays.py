"""The first answer to each signed request that changes something, kept while its timestamp is inside
the signature window, so that a replay of the same request gets that answer again and has no second
effect.

A request is claimed before its route runs: one conditional put of a pending record, which fails
for a replay (the stored record then gives the first answer) and for a twin sent at the same moment
(the record is still pending). The answer replaces the pending record: in the route's own
transaction where the answer is known before the write (the partners' callbacks), else once the
route has run. A pending record whose lease has run out (the function crashed or timed out before
answering) may be claimed again; the route's own idempotency then keeps the effect single.

Kept in the cases table under ``REPLAY#<digest>`` and removed by the table's time to live.
"""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from zerovisit.errors import CaseNotFound, Conflict
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CaseTableItem

KEEP = timedelta(minutes=15)  # longer than the window either side of the signed timestamp


class ReplayItem(Model):
    class Meta:
        table_name = "unbound-cases"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute(default="replay")
    body = UnicodeAttribute(null=True)  # none while the request is being answered
    lease_until = NumberAttribute(default=0)  # unix seconds: a pending claim lapses then
    expires_at = NumberAttribute()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any


@dataclass(frozen=True)
class Pending:
    """The same request is being answered now (a twin sent at the same moment)."""


@dataclass(frozen=True)
class Claimed:
    """The request is this caller's to run until ``lease_until`` (unix seconds); its answer or its
    release is written only while the claim is still the one this caller made."""

    lease_until: int


def _bound() -> type[ReplayItem]:
    """The cases table, whatever name cold start bound it to."""
    if ReplayItem.Meta.table_name != CaseTableItem.Meta.table_name:
        ReplayItem.Meta.table_name = CaseTableItem.Meta.table_name
        ReplayItem._connection = None
    return ReplayItem


def _item(digest: str, now: datetime, **values: Any) -> ReplayItem:
    return _bound()(f"REPLAY#{digest}", "REPLAY", expires_at=int((now + KEEP).timestamp()), **values)


def claim(digest: str, now: datetime, lease: timedelta) -> Answer | Pending | Claimed:
    """Claimed: the request is this caller's to run, until ``now + lease``. Otherwise the first
    answer, or Pending while a twin runs it. DependencyUnavailable when the store fails."""
    model = _bound()
    free = model.pk.does_not_exist() | (
        model.body.does_not_exist() & (model.lease_until < int(now.timestamp()))
    )
    lease_until = int((now + lease).timestamp())
    try:
        with storage_errors():
            _item(digest, now, lease_until=lease_until).save(condition=free)
        return Claimed(lease_until)
    except Conflict:
        pass
    try:
        with storage_errors():
            item = model.get(f"REPLAY#{digest}", "REPLAY", consistent_read=True)
    except CaseNotFound:
        return Pending()  # gone since the put: its time to live ran out; the caller retries
    if item.body is None:
        return Pending()
    data = json.loads(item.body)
    return Answer(int(data["status"]), data["body"])


def _still_mine(claimed: Claimed) -> Any:
    model = _bound()
    return model.body.does_not_exist() & (model.lease_until == claimed.lease_until)


def _answer_item(digest: str, claimed: Claimed, answer: Answer, now: datetime) -> ReplayItem:
    body = json.dumps({"status": answer.status, "body": answer.body}, ensure_ascii=False)
    return _item(digest, now, body=body, lease_until=claimed.lease_until)


def keep_answer(digest: str, claimed: Claimed, answer: Answer, now: datetime) -> None:
    """The claimed request's answer, for its replays. InvalidInput for an answer too large to keep,
    Conflict when the claim lapsed and a twin took it over, DependencyUnavailable when the store
    fails."""
    with storage_errors():
        _answer_item(digest, claimed, answer, now).save(condition=_still_mine(claimed))


def keep_answer_in(tx: TransactWrite, digest: str, claimed: Claimed, answer: Answer, now: datetime) -> None:
    """The claimed request's answer, written by the transaction ``tx`` with the change the request
    makes: a replay finds it even if the function stops right after the write."""
    tx.save(_answer_item(digest, claimed, answer, now), condition=_still_mine(claimed))


def release(digest: str, claimed: Claimed, now: datetime) -> None:
    """Give the claim up unanswered (the route failed), so that the same request may run again.
    Conflict when the claim lapsed and a twin took it over."""
    with storage_errors():
        _item(digest, now).save(condition=_still_mine(claimed))
