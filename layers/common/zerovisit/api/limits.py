"""Limits on a request body, checked before anything parses it for a route.

A body is at most ``MAX_BODY_BYTES``, UTF-8, and, when it is JSON, nested at most ``MAX_DEPTH``
deep, with no repeated key in an object, integers of at most ``MAX_INTEGER_DIGITS`` digits, no
NaN or Infinity, and strings of at most ``MAX_STRING_LENGTH`` characters (fields may set less).
"""

import json
import math
from collections import Counter
from typing import Any, NamedTuple

MAX_BODY_BYTES = 64 * 1024
MAX_DEPTH = 16
MAX_INTEGER_DIGITS = 15
MAX_FLOAT_CHARACTERS = 32
MAX_STRING_LENGTH = 2000


class Refusal(NamedTuple):
    status: int
    message: str
    problems: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "problems": list(self.problems)}


class _NotStrictJson(ValueError):
    pass


def text_of(body: bytes) -> str | Refusal:
    """The body as text, or the refusal for one too large or not UTF-8."""
    if len(body) > MAX_BODY_BYTES:
        return Refusal(413, f"the body is {len(body)} bytes; at most {MAX_BODY_BYTES} are accepted")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        return Refusal(400, f"the body is not UTF-8 (byte {e.start} is invalid)")


def json_problems(text: str) -> Refusal | None:
    """None for JSON within the limits; otherwise the refusal naming every problem found."""
    depth = nesting_depth(text)
    if depth > MAX_DEPTH:
        return Refusal(400, "the body is not accepted JSON", (f"nested {depth} deep; at most {MAX_DEPTH}",))
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_without_repeats,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
        )
    except _NotStrictJson as e:
        return Refusal(400, "the body is not accepted JSON", (str(e),))
    except ValueError as e:
        return Refusal(400, "the body is not JSON", (str(e),))
    long = list(_long_strings(value, "body"))
    if long:
        return Refusal(422, "the request is invalid", tuple(long))
    return None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, counted without recursion (strings skipped)."""
    deepest = depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _object_without_repeats(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    repeated = sorted(k for k, n in Counter(k for k, _ in pairs).items() if n > 1)
    if repeated:
        raise _NotStrictJson(f"key {', '.join(repr(k[:40]) for k in repeated)} appears more than once")
    return dict(pairs)


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise _NotStrictJson(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(digits)


def _bounded_float(text: str) -> float:
    value = float(text)
    if len(text) > MAX_FLOAT_CHARACTERS or not math.isfinite(value):
        raise _NotStrictJson(f"a number is longer than {MAX_FLOAT_CHARACTERS} characters or not finite")
    return value


def _no_constant(name: str) -> Any:
    raise _NotStrictJson(f"{name} is not a JSON number")


def _long_strings(value: Any, where: str) -> Any:
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            yield f"{where}: {len(value)} characters; at most {MAX_STRING_LENGTH}"
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _long_strings(item, f"{where}.{key[:40]}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _long_strings(item, f"{where}[{index}]")
