"""A case's one service evaluation, as stored with the case."""

from zerovisit.errors import CaseNotFound
from zerovisit.storage.cases import case_pk
from zerovisit.storage.common import storage_errors
from zerovisit.storage.tables import CaseTableItem


def get_evaluation(case_id: str) -> str | None:
    """The stored evaluation's JSON, or None."""
    try:
        with storage_errors():
            item = CaseTableItem.get(case_pk(case_id), "EVALUATION", consistent_read=True)
    except CaseNotFound:
        return None
    return item.body
