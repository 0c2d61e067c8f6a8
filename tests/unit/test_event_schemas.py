"""The outbound events' contract: one JSON schema per published detail type, and a sample of each.

The published detail types are read from the services' source (``aws.publish("<Literal>", ...)``),
so a new event without a schema, or a schema for an event nobody publishes, fails here.
"""

import ast
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from zerovisit.domain.case import EventType

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "layers" / "common" / "zerovisit" / "services"
SCHEMAS = ROOT / "events" / "schemas"
OUTBOUND = ROOT / "events" / "outbound"
EVENT_SOURCE = "zerovisit.cases"
ENVELOPE = {"version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"}


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"{path.relative_to(ROOT)}: not a JSON object"
    return data


def schema_names() -> list[str]:
    return sorted(path.stem for path in SCHEMAS.glob("*.json"))


def sample_names() -> list[str]:
    return sorted(path.stem for path in OUTBOUND.glob("*.json"))


def validator(detail_type: str) -> Draft202012Validator:
    schema = load(SCHEMAS / f"{detail_type}.json")
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(detail_type: str, detail: Any) -> list[str]:
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(detail)'}: {error.message}"
        for error in validator(detail_type).iter_errors(detail)
    ]


def _literals(node: ast.expr, where: str) -> set[str]:
    """The detail type(s) a publish call's first argument can take."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _literals(node.body, where) | _literals(node.orelse, where)
    raise AssertionError(f"{where}: aws.publish's detail type is not a string literal: {ast.unparse(node)}")


def detail_types_in(source: str, filename: str) -> dict[str, list[str]]:
    """The detail types passed to ``aws.publish`` in one module's source, each with its line."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(ast.parse(source, filename=filename)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "publish"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "aws"
        ):
            continue
        where = f"{filename}:{node.lineno}"
        assert node.args, f"{where}: aws.publish without a positional detail type"
        for detail_type in _literals(node.args[0], where):
            found.setdefault(detail_type, []).append(where)
    return found


def published_detail_types() -> dict[str, list[str]]:
    """Every detail type the services publish, with where."""
    found: dict[str, list[str]] = {}
    for path in sorted(SERVICES.glob("*.py")):
        module = detail_types_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
        for detail_type, places in module.items():
            found.setdefault(detail_type, []).extend(places)
    return found


def test_there_are_schemas_and_samples() -> None:
    assert schema_names(), f"no schemas under {SCHEMAS.relative_to(ROOT)}"
    assert sample_names(), f"no samples under {OUTBOUND.relative_to(ROOT)}"


@pytest.mark.parametrize("detail_type", schema_names())
def test_schema_is_a_valid_draft_2020_12_schema(detail_type: str) -> None:
    schema = load(SCHEMAS / f"{detail_type}.json")
    assert schema.get("$schema") == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema.get("title") == detail_type
    assert schema.get("type") == "object"
    assert schema.get("additionalProperties") is False


@pytest.mark.parametrize("detail_type", schema_names())
def test_every_field_is_described_and_closed(detail_type: str) -> None:
    undescribed: list[str] = []

    def walk(node: dict[str, Any], path: str) -> None:
        for name, field in node.get("properties", {}).items():
            here = f"{path}.{name}" if path else name
            description = field.get("description")
            if not isinstance(description, str) or not description.strip() or "\n" in description:
                undescribed.append(here)
            if field.get("type") == "object":
                assert field.get("additionalProperties") is False, f"{here}: object is not closed"
                walk(field, here)
            if isinstance(field.get("items"), dict):
                walk(field["items"], f"{here}[]")

    schema = load(SCHEMAS / f"{detail_type}.json")
    walk(schema, "")
    assert not undescribed, f"{detail_type}: fields without a one-line description: {undescribed}"
    assert set(schema["required"]) == set(schema["properties"]), f"{detail_type}: every field is sent"


@pytest.mark.parametrize("detail_type", sample_names())
def test_sample_validates_against_its_schema(detail_type: str) -> None:
    assert (SCHEMAS / f"{detail_type}.json").is_file(), f"sample {detail_type} has no schema"
    event = load(OUTBOUND / f"{detail_type}.json")
    assert set(event) == ENVELOPE
    assert event["detail-type"] == detail_type
    assert event["source"] == EVENT_SOURCE
    assert problems(detail_type, event["detail"]) == []


def test_every_schema_has_a_sample() -> None:
    assert schema_names() == sample_names()


def test_published_detail_types_are_exactly_the_schemas() -> None:
    """What the case aggregate emits (its EventType) and what services publish directly."""
    published = published_detail_types()
    for event_type in EventType:
        published.setdefault(event_type.value, []).append("zerovisit.domain.case.EventType")
    without_schema = {t: where for t, where in published.items() if t not in schema_names()}
    unpublished = sorted(set(schema_names()) - set(published))
    assert not without_schema, f"published without a schema in {SCHEMAS.relative_to(ROOT)}: {without_schema}"
    assert not unpublished, f"schemas for detail types no service publishes: {unpublished}"


def test_publish_calls_are_found_in_conditional_and_plain_form() -> None:
    """The scanner itself: both literals of a conditional expression count, a variable is refused."""
    source = 'aws.publish("A" if ok else "B", {})\naws.publish("C", {})\nother.publish("D", {})\n'
    assert detail_types_in(source, "example.py") == {
        "A": ["example.py:1"],
        "B": ["example.py:1"],
        "C": ["example.py:2"],
    }
    with pytest.raises(AssertionError, match="not a string literal"):
        detail_types_in("aws.publish(kind, {})\n", "example.py")


@pytest.mark.parametrize("detail_type", schema_names())
def test_schema_refuses_an_unknown_field(detail_type: str) -> None:
    detail = copy.deepcopy(load(OUTBOUND / f"{detail_type}.json")["detail"])
    detail["unexpected_field"] = "x"
    assert any("unexpected_field" in problem for problem in problems(detail_type, detail))


def test_no_event_carries_a_delivery_address() -> None:
    """Personal data stays off the bus: EMS reads the recipient with its own signed request."""
    detail = copy.deepcopy(load(OUTBOUND / "ShipmentDispatched.json")["detail"])
    detail["recipient"] = {"recipient": "王晓明", "phone": "13912345678", "address": "江苏省南京市"}
    assert any("recipient" in p for p in problems("ShipmentDispatched", detail))
    for path in SCHEMAS.glob("*.json"):
        assert "address" not in load(path)["properties"], path.name


@pytest.mark.parametrize(
    ("detail_type", "field", "value"),
    [
        ("PaymentRequested", "amount_fen", 50.5),
        ("PaymentRequested", "amount_fen", "5000"),
        ("PaymentRequested", "due_on", "2026-02-30"),
        ("CaseAccepted", "occurred_at", "yesterday"),
        ("ReviewDecided", "decision", "approved"),
        ("CaseAccepted", "case_number", None),
    ],
)
def test_schema_refuses_a_wrong_value(detail_type: str, field: str, value: Any) -> None:
    detail = copy.deepcopy(load(OUTBOUND / f"{detail_type}.json")["detail"])
    detail[field] = value
    assert problems(detail_type, detail)


@pytest.mark.parametrize(
    ("detail_type", "field"), [("CaseClosed", "case_number"), ("ServiceEvaluated", "case_number")]
)
def test_fields_the_code_may_send_as_null_accept_null(detail_type: str, field: str) -> None:
    detail = copy.deepcopy(load(OUTBOUND / f"{detail_type}.json")["detail"])
    detail[field] = None
    assert problems(detail_type, detail) == []
