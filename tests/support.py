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


def next_partner_task(
    runtime: Any, detail_type: str, case_id: str, timeout_seconds: float = 20.0
) -> dict[str, Any]:
    """Take the next task of this case from the partner queue, as a partner integration would."""
    import time

    import boto3

    sqs = boto3.client("sqs", region_name="us-east-1")
    url = runtime.outputs["PartnerTaskQueueUrl"]
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            event = json.loads(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            if event["detail-type"] == detail_type and event["detail"]["case_id"] == case_id:
                detail: dict[str, Any] = event["detail"]
                return detail
        time.sleep(0.01)
    raise TimeoutError(f"no {detail_type} for {case_id} within {timeout_seconds}s")


def document(name: str) -> str:
    """A document reference as the service network gives it: the SHA-256 digest of the file."""
    import hashlib

    return "sha256:" + hashlib.sha256(name.encode()).hexdigest()
