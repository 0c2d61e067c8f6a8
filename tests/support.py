"""Test helpers: sample events from events/, copied and varied per test."""

import copy
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, by file name without .json."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def application(name: str = "application_submitted.business_startup", **changes: Any) -> dict[str, Any]:
    """The detail of a sample ApplicationSubmitted event with a fresh application id."""
    detail: dict[str, Any] = copy.deepcopy(load_event(name)["detail"])
    detail["application_id"] = f"T-{uuid4().hex[:12]}"
    detail.update(changes)
    return detail


def without_material(detail: dict[str, Any], code: str) -> dict[str, Any]:
    changed = copy.deepcopy(detail)
    changed["materials"] = [m for m in changed["materials"] if m["code"] != code]
    return changed
