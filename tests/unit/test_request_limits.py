"""The body limits the API checks before any route parses a body (zerovisit.api.limits)."""

import pytest
from zerovisit.api.access import route_path
from zerovisit.api.limits import MAX_BODY_BYTES, json_problems, nesting_depth, text_of


def test_nesting_is_counted_without_recursion_and_ignores_brackets_in_strings() -> None:
    assert nesting_depth('{"a": [1, {"b": "[[[{{{"}]}') == 3
    assert nesting_depth('"\\"[" ') == 0
    assert nesting_depth("[" * 100_000) == 100_000


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"a": 1}', None),
        ('{"a": 123456789012345}', None),
        ('{"a": 1234567890123456}', 400),
        ('{"a": -1234567890123456}', 400),
        ('{"a": 1e999999999999999999999999999999}', 400),
        ('{"a": Infinity}', 400),
        ('{"a": 1, "b": {"c": 1, "c": 2}}', 400),
        ("{", 400),
        ('{"a": "' + "x" * 2001 + '"}', 422),
    ],
)
def test_json_limits(body: str, status: int | None) -> None:
    refusal = json_problems(body)

    assert (refusal.status if refusal else None) == status


def test_the_body_is_bounded_and_utf8() -> None:
    assert text_of("南京".encode()) == "南京"
    too_large = text_of(b" " * (MAX_BODY_BYTES + 1))
    not_utf8 = text_of(b"\xff")
    assert not isinstance(too_large, str)
    assert too_large.status == 413
    assert not isinstance(not_utf8, str)
    assert not_utf8.status == 400


def test_the_stage_is_taken_off_the_path_only_as_a_whole_segment() -> None:
    assert route_path("/dev/applications", "dev") == "/applications"
    assert route_path("/dev", "dev") == "/"
    assert route_path("/developers/x", "dev") == "/developers/x"
    assert route_path("/applications", "$default") == "/applications"
