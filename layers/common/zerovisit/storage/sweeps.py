"""The sweep's cursor and lease: one item of the cases table, written only at the version read."""

import json
from datetime import datetime

from zerovisit.domain.sweep import SweepCursor
from zerovisit.errors import CaseNotFound
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CaseTableItem

CURSOR_PK = "SWEEP"
CURSOR_SK = "CURSOR"


def get_cursor() -> SweepCursor:
    try:
        with storage_errors():
            item = CaseTableItem.get(CURSOR_PK, CURSOR_SK, consistent_read=True)
    except CaseNotFound:
        return SweepCursor()  # no sweep has stored one yet
    body = json.loads(item.body or "{}")
    return SweepCursor(
        version=int(item.version or 0),
        position=body.get("position"),
        pass_started_at=_moment(body.get("pass_started_at")),
        taken_in_pass=int(body.get("taken_in_pass", 0)),
        invocations_in_pass=int(body.get("invocations_in_pass", 0)),
        owner=body.get("owner"),
        lease_until=_moment(body.get("lease_until")),
    )


def put_cursor(cursor: SweepCursor) -> SweepCursor:
    """Write the cursor if the stored one is still at ``cursor.version`` (``Conflict`` if not)."""
    body = {
        "position": cursor.position,
        "pass_started_at": _text(cursor.pass_started_at),
        "taken_in_pass": cursor.taken_in_pass,
        "invocations_in_pass": cursor.invocations_in_pass,
        "owner": cursor.owner,
        "lease_until": _text(cursor.lease_until),
    }
    version = cursor.version + 1
    item = CaseTableItem(CURSOR_PK, CURSOR_SK, kind="sweep", body=json.dumps(body), version=version)
    condition = (
        CaseTableItem.pk.does_not_exist() if cursor.version == 0 else CaseTableItem.version == cursor.version
    )
    with storage_errors():
        item.save(condition=condition)
    return cursor._replace(version=version)


def _text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
