"""Cursors: opaque to the caller, bound to their query, and refused when forged."""

import base64
import json

import pytest
from zerovisit.errors import InvalidInput
from zerovisit.services.search import _fingerprint, decode_cursor, encode_cursor

QUERY = {"cases": {"status": "in_review"}, "limit": 25}
KEY = {"pk": {"S": "CASE#T-1"}, "sk": {"S": "CASE"}, "status_sort": {"S": "320102#2026-02-25#T-1"}}


def test_a_cursor_resumes_its_own_query() -> None:
    cursor = encode_cursor(QUERY, KEY)
    assert cursor is not None
    assert "CASE#T-1" not in cursor
    assert decode_cursor(QUERY, cursor) == KEY
    assert encode_cursor(QUERY, None) is None
    assert decode_cursor(QUERY, None) is None


def test_a_cursor_of_another_query_is_refused() -> None:
    cursor = encode_cursor(QUERY, KEY)
    with pytest.raises(InvalidInput) as refused:
        decode_cursor({**QUERY, "limit": 26}, cursor)
    assert refused.value.problems == ["cursor: belongs to another query; start again without it"]


@pytest.mark.parametrize(
    "key",
    [
        {},
        {"pk": {"N": "1"}},
        {"pk": {"S": ""}},
        {"pk": {"S": "CASE#T-1"}, "sk": "CASE"},
        {f"a{i}": {"S": "x"} for i in range(5)},
        ["pk"],
    ],
)
def test_a_forged_key_with_the_right_fingerprint_is_refused(key: object) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"q": _fingerprint(QUERY), "k": key}).encode()).decode()
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(QUERY, forged)
    assert refused.value.problems == ["cursor: not a cursor this API gave out"]


@pytest.mark.parametrize("cursor", ["%%%", "bm90LWpzb24", base64.urlsafe_b64encode(b'{"k": {}}').decode()])
def test_garbage_is_not_a_cursor(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(QUERY, cursor)
    assert refused.value.problems == ["cursor: not a cursor this API gave out"]
