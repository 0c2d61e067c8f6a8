"""The first answer to each signed request that changes something, kept while its timestamp is inside
the signature window, so that a replay of the same request gets that answer again and has no second
effect.

Two ways to keep it:

- Claimed first (the routes whose answer is known only once they have run): one conditional put of
  a pending record before the route runs, which fails for a replay (the stored record then gives
  the first answer) and for a twin sent at the same moment (the record is still pending). The
  answer replaces the pending record once the route has run. A pending record whose lease has run
  out (the function crashed or timed out before answering) may be claimed again; the route's own
  idempotency then keeps the effect single.
- Kept with the change (the partners' callbacks, whose answer is known before their write): no
  claim; the answer is a put in the route's own transaction, on the condition that no answer is
  kept yet. A replay's write, or a twin's that comes second, then fails as a whole and changes
  nothing, and the first answer is read (``first_answer``). A callback that writes nothing (its
  own idempotency, or a refusal) keeps its answer after the route (``keep_first_answer``). A
  callback's happy path costs no call of its own.

Kept in the cases table under ``REPLAY#<digest>`` and removed by the table's time to live.
"""

import json
from datetime import datetime, timedelta
from typing import Any, NamedTuple

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


class Answer(NamedTuple):
    status: int
    body: Any


class Pending(NamedTuple):
    """The same request is being answered now (a twin sent at the same moment)."""


class Claimed(NamedTuple):
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


def _free(now: datetime) -> Any:
    """No record, or a pending one whose lease has run out."""
    model = _bound()
    return model.pk.does_not_exist() | (
        model.body.does_not_exist() & (model.lease_until < int(now.timestamp()))
    )


def claim(digest: str, now: datetime, lease: timedelta) -> Answer | Pending | Claimed:
    """Claimed: the request is this caller's to run, until ``now + lease``. Otherwise the first
    answer, or Pending while a twin runs it. DependencyUnavailable when the store fails."""
    lease_until = int((now + lease).timestamp())
    try:
        with storage_errors():
            _item(digest, now, lease_until=lease_until).save(condition=_free(now))
        return Claimed(lease_until)
    except Conflict:
        pass
    try:
        with storage_errors():
            item = _bound().get(f"REPLAY#{digest}", "REPLAY", consistent_read=True)
    except CaseNotFound:
        return Pending()  # gone since the put: its time to live ran out; the caller retries
    return _answer_of(item) or Pending()


def _answer_of(item: ReplayItem) -> Answer | None:
    if item.body is None:
        return None
    data = json.loads(item.body)
    return Answer(int(data["status"]), data["body"])


def first_answer(digest: str) -> Answer | None:
    """The request's kept answer; None while there is none. DependencyUnavailable when the store
    fails."""
    try:
        with storage_errors():
            item = _bound().get(f"REPLAY#{digest}", "REPLAY", consistent_read=True)
    except CaseNotFound:
        return None
    return _answer_of(item)


def _still_mine(claimed: Claimed) -> Any:
    model = _bound()
    return model.body.does_not_exist() & (model.lease_until == claimed.lease_until)


def _answer_item(digest: str, answer: Answer, now: datetime, lease_until: int = 0) -> ReplayItem:
    body = json.dumps({"status": answer.status, "body": answer.body}, ensure_ascii=False)
    return _item(digest, now, body=body, lease_until=lease_until)


def keep_answer(digest: str, claimed: Claimed, answer: Answer, now: datetime) -> None:
    """The claimed request's answer, for its replays. InvalidInput for an answer too large to keep,
    Conflict when the claim lapsed and a twin took it over, DependencyUnavailable when the store
    fails."""
    with storage_errors():
        _answer_item(digest, answer, now, claimed.lease_until).save(condition=_still_mine(claimed))


def keep_first_answer(digest: str, answer: Answer, now: datetime) -> None:
    """An unclaimed request's answer, unless one is kept already. InvalidInput for an answer too
    large to keep, Conflict when one is, DependencyUnavailable when the store fails."""
    with storage_errors():
        _answer_item(digest, answer, now).save(condition=_free(now))


def keep_answer_in(tx: TransactWrite, digest: str, answer: Answer, now: datetime) -> None:
    """An unclaimed request's answer, written by the transaction ``tx`` with the change the request
    makes, unless an answer is kept already (the transaction then fails whole): a replay finds it
    even if the function stops right after the write."""
    tx.save(_answer_item(digest, answer, now), condition=_free(now))


def release(digest: str, claimed: Claimed, now: datetime) -> None:
    """Give the claim up unanswered (the route failed), so that the same request may run again.
    Conflict when the claim lapsed and a twin took it over."""
    with storage_errors():
        _item(digest, now).save(condition=_still_mine(claimed))
