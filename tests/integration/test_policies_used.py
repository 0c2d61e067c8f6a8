"""What each function's code really calls, recorded on the local runtime, against tests/function_uses.py.

Together with tests/unit/test_policies.py (the template's policies grant exactly what function_uses.py
declares) this ties every allowed action to a call the code makes."""

from datetime import timedelta
from typing import Any

import pytest
from zerovisit.clock import clock
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator, Script, approve
from infra.local.runtime import LocalRuntime
from tests.aws_calls import CallRecorder
from tests.conftest import SUBMITTED
from tests.function_uses import NOT_EXERCISED_LOCALLY, USES
from tests.support import application, next_partner_task, without_material

pytestmark = pytest.mark.pipeline

NETWORK = "service-network"


def _seal_office_silent(event: dict[str, Any]) -> dict[str, Any] | None:
    return None if event["department"] == "GA-SEAL" else approve(event)


def _every_path(runtime: LocalRuntime) -> None:
    """Each function along every path its calls differ on: intake (new, duplicate, rejected),
    a correction round, a silent department the sweeper deems approved, a certificate step retried
    after its writes, the API's reads, a holder's library and a revocation."""
    corrected = without_material(application(), "PREMISES_PROOF")
    supplied = [{"code": "PREMISES_PROOF", "document_ref": "sha256:" + "0" * 64}]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", corrected)
    runtime.put_event("gov.service-network", "ApplicationSubmitted", corrected)
    runtime.put_event("gov.service-network", "ApplicationSubmitted", application(region_code="bad"))
    script = Script(decide=_seal_office_silent, correct=lambda event: supplied)
    simulator = PartnerSimulator(runtime, script)
    case_id = corrected["application_id"]
    # the certificate step times out after its writes: the retry reads the certificate to render it
    runtime.faults.inject("CertificateFunction", error="Sandbox.Timedout", times=1, when="after")
    assert simulator.run_until_closed(case_id, clock_step=timedelta(hours=4)) == "SUCCEEDED"

    case = cases.get_case(case_id)
    assert case.certificate_id is not None
    assert case.registered_credit_code is not None
    holder = f"/holders/{case.registered_credit_code}/certificates"
    assert runtime.signed_http(NETWORK, "GET", holder).status == 200
    revoked = runtime.signed_http(
        "operations", "POST", f"/certificates/{case.certificate_id}/revocation", {"reason": "issued in error"}
    )
    assert revoked.status == 200
    assert runtime.signed_http(NETWORK, "GET", f"/cases/{case_id}").status == 200
    assert runtime.signed_http(NETWORK, "POST", f"/cases/{case_id}/evaluation", {"level": 5}).status == 200
    assert runtime.http("GET", f"/certificates/{case.certificate_id}/verify").status == 200
    query = "region=320102&from=2026-01-01&to=2026-12-31"
    assert runtime.signed_http("supervision", "GET", "/reports/3550", query=query).status == 200
    for query in (
        "applicant=360426199101010071",
        "status=completed",
        "step=completion&region=320102",
        "region=320102",
        "due_from=2026-01-01",
    ):
        assert runtime.signed_http(NETWORK, "GET", "/cases", query=query).status == 200
    assert runtime.signed_http("dept-scjg", "GET", "/tasks").status == 200
    assert runtime.signed_http("supervision", "GET", "/regions/320102/open-cases").status == 200
    _overdue_then_refused_parcel(runtime)


def _overdue_then_refused_parcel(runtime: LocalRuntime) -> None:
    """Through the API: market regulation stays silent past the deadline (the sweeper's alarms and
    escalation), then EMS reports a refused parcel (the API fails the delivery task)."""
    # From the sample's Friday the promised limit passes before the silent task's last one; filed on
    # some other days (2026-02-26, 2026-03-04) the two pass at the same moment, and nothing is left
    # to approve. The case before this one moved the clock on by as much as its run took.
    clock.set(SUBMITTED)
    detail = application()
    case_id = detail["application_id"]
    assert runtime.signed_http(NETWORK, "POST", "/applications", detail).status == 202
    silent = next_partner_task(runtime, "ReviewRequested", case_id)
    for _ in range(60):  # up to 15 days, stopping at the overdue alarm, before the final limit passes
        if "promised:overdue" in cases.get_case(case_id).alarms_raised:
            break
        runtime.advance(timedelta(hours=6))
    assert "promised:overdue" in cases.get_case(case_id).alarms_raised
    path = f"/reviews/{silent['task_id']}/decision"
    assert runtime.signed_http("dept-scjg", "POST", path, {"decision": "approve"}).status == 200
    waybills: list[str] = []

    def refused_once(event: dict[str, Any]) -> list[str]:
        waybills.append(str(event["waybill"]))
        return ["picked_up", "refused"] if len(waybills) == 1 else ["picked_up", "signed_for"]

    assert PartnerSimulator(runtime, Script(tracking=refused_once)).run_until_closed(case_id) == "SUCCEEDED"
    assert len(waybills) == 2


def test_every_call_a_function_makes_is_declared_and_every_declared_call_is_made(
    runtime: LocalRuntime,
) -> None:
    recorder = CallRecorder(runtime)
    with recorder.recording():
        _every_path(runtime)

    observed = {function: uses for function, uses in recorder.uses.items() if uses}
    undeclared = {f: sorted(u - USES.get(f, set())) for f, u in observed.items() if u - USES.get(f, set())}
    assert undeclared == {}, "calls no policy allows: add them to tests/function_uses.py and the template"
    unused = {
        f: sorted(declared - observed.get(f, set()) - NOT_EXERCISED_LOCALLY.get(f, {}).keys())
        for f, declared in USES.items()
    }
    assert {f: u for f, u in unused.items() if u} == {}, "declared but never called: drop them"
