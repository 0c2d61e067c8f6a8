"""Every event the running pipeline publishes matches its committed schema under events/schemas."""

import json
from pathlib import Path

import jsonschema
import pytest
from zerovisit.clock import clock

from infra.local.partners import PartnerSimulator, Script
from infra.local.runtime import LocalRuntime
from tests.conftest import OutboundEvents
from tests.support import application, document, held_transfer, without_material

SCHEMAS = Path(__file__).resolve().parents[2] / "events" / "schemas"

pytestmark = pytest.mark.pipeline


def test_events_of_real_cases_match_their_schemas(runtime: LocalRuntime, outbound: OutboundEvents) -> None:
    business = without_material(application(), "PREMISES_PROOF")
    real_estate = held_transfer(runtime, submitted_at=clock.now().isoformat())
    supplied = [{"code": "PREMISES_PROOF", "document_ref": document("premises.pdf")}]
    for detail in (business, real_estate):
        runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
        script = Script(correct=lambda event: supplied)
        assert PartnerSimulator(runtime, script).run_until_closed(detail["application_id"]) == "SUCCEEDED"

    outbound.of("CaseAccepted")  # drain the queue into outbound.seen
    ours = [
        e
        for e in outbound.seen
        if e["detail"].get("case_id") in (business["application_id"], real_estate["application_id"])
    ]
    kinds = {e["detail-type"] for e in ours}
    assert {"CorrectionRequested", "PaymentRequested", "ShipmentDelivered", "CaseCompleted"} <= kinds
    for event in ours:
        schema = json.loads((SCHEMAS / f"{event['detail-type']}.json").read_text(encoding="utf-8"))
        jsonschema.validate(event["detail"], schema, format_checker=jsonschema.FormatChecker())
