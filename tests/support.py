"""Test helpers: sample events from events/, copied and varied per test."""

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

from infra.local.registry import fresh_title_identifier

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, by file name without .json."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text(encoding="utf-8"))
    return data


def application(name: str = "application_submitted.business_startup", **changes: Any) -> dict[str, Any]:
    """The detail of a sample ApplicationSubmitted event with a fresh application id; a transfer
    names a fresh seller's title, so that one test's revocation leaves another's title alone."""
    detail: dict[str, Any] = copy.deepcopy(load_event(name)["detail"])
    detail["application_id"] = f"T-{uuid4().hex[:12]}"
    if detail.get("transfer"):
        detail["transfer"]["seller_title"] = fresh_title_identifier(detail["transfer"]["seller_title"])
    detail.update(changes)
    return detail


def held_title(transfer: dict[str, Any], **changes: Any) -> Any:
    """The seller's title a transfer names, as a certificate in the seller's library (for the
    in-memory library of the unit tests; ``register_seller_title`` holds a signed one locally)."""
    from datetime import timedelta

    from zerovisit.clock import clock
    from zerovisit.domain.certificate import Certificate

    title = Certificate(
        identifier=transfer["seller_title"],
        kind="REAL_ESTATE_CERTIFICATE",
        name="不动产权证书",
        holder_id=transfer["seller"]["id_number"],
        holder_name=transfer["seller"]["name"],
        issuer_code="11320100MB0C00773R",
        issuer_name="南京市不动产登记中心",
        case_id="EARLIER-CASE",
        case_number="32010220250000001",
        issued_at=clock.now() - timedelta(days=900),
        signing_key_id="key",
        signature="sig",
    )
    return title.model_copy(update=changes)


def held_transfer(runtime: Any, **changes: Any) -> dict[str, Any]:
    """The sample transfer (``application`` with ``changes``), its fresh seller's title held by the
    seller in the local registry."""
    detail = application("application_submitted.real_estate_transfer", **changes)
    register_seller_title(runtime, detail)
    return detail


def register_seller_title(runtime: Any, detail: dict[str, Any]) -> str | None:
    """Hold the title a transfer names for its seller in the local registry (signed, in the
    library) before the application is submitted; None for an application that transfers nothing."""
    from infra.local.registry import hold_sellers_title

    return hold_sellers_title(runtime, detail)


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


def run_as_deployed(program: str, *args: str, without: str | None = None) -> str:
    """``program`` in a fresh interpreter with the environment Lambda gives a function (the
    template's variables and the runtime's name; ``without`` one of them) and the package on the
    path; its last line of output."""
    from infra.bench.imports import import_environment

    env = {**import_environment(), "PYTHONPATH": str(ROOT / "layers" / "common")}
    if without is not None:
        del env[without]
    result = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()[-1]


@contextmanager
def aws_of_its_own(region: str) -> Iterator[None]:
    """moto for one test, leaving no DynamoDB table behind. Under the session's local runtime,
    which mocks AWS for the whole process, a nested ``mock_aws`` shares its state and resets
    nothing on exit: the tables a test makes would still be there for the next."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name=region)
        before = set(client.list_tables()["TableNames"])
        try:
            yield
        finally:
            for name in set(client.list_tables()["TableNames"]) - before:
                client.delete_table(TableName=name)
