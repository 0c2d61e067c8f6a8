"""The partner client (zerovisit.partner_client) against the local server's WSGI app, in-process: a
department finds its task, reads the case, decides, and retries safely."""

import io
from typing import Any
from urllib.parse import urlsplit

import pytest
from zerovisit.partner_client import PartnerClient
from zerovisit.storage import certificates

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime
from infra.local.server import wsgi_app
from tests.integration.test_certificate_verification import issued
from tests.support import application, next_partner_task

BASE_URL = "http://127.0.0.1:8787/dev"


def in_process(runtime: LocalRuntime) -> Any:
    app = wsgi_app(runtime)

    def transport(method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(url)
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": parts.path,
            "QUERY_STRING": parts.query,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items() if k != "Content-Type"},
        }
        if "Content-Type" in headers:
            environ["CONTENT_TYPE"] = headers["Content-Type"]
        statuses: list[str] = []
        payload = b"".join(app(environ, lambda status, _: statuses.append(status)))
        return int(statuses[0].split()[0]), payload

    return transport


def client(runtime: LocalRuntime, partner: str) -> PartnerClient:
    return PartnerClient(BASE_URL, partner, runtime.partner_secrets[partner], transport=in_process(runtime))


def test_a_department_works_through_its_tasks_with_the_client(runtime: LocalRuntime) -> None:
    detail = application()
    network = client(runtime, "service-network")
    assert network.submit_application(detail).status == 202
    task = next_partner_task(runtime, "ReviewRequested", detail["application_id"])
    department = client(runtime, task["partner_id"])

    listed = department.list_tasks(limit=100)
    case = department.get_case(task["case_id"])
    decided = department.decide(task["task_id"], {"decision": "approve", "comments": "同意"})
    retried = department.resend(decided)

    assert listed.ok
    assert task["task_id"] in {t["task_id"] for t in listed.body["tasks"]}
    assert case.body["view"] == "review"
    assert decided.status == 200
    assert retried.body == decided.body
    assert PartnerSimulator(runtime).run_until_closed(detail["application_id"]) == "SUCCEEDED"
    report = client(runtime, "supervision").report_3550(detail["region_code"], "2026-02-01", "2026-02-28")
    assert report.status == 200
    credit_code = network.get_case(task["case_id"]).body["registered_credit_code"]
    services = network.enterprise_services(credit_code)
    assert (services.status, len(services.body["services"])) == (200, 3)


def test_a_refusal_names_its_problems(runtime: LocalRuntime) -> None:
    answer = client(runtime, "service-network").evaluate("T-000000000000", 9)

    assert not answer.ok
    assert answer.status == 422
    assert answer.body["message"] == "the request is invalid"
    assert any(p.startswith("level: ") for p in answer.body["problems"])


def test_identifiers_that_would_change_the_path_are_refused_before_sending(runtime: LocalRuntime) -> None:
    with pytest.raises(ValueError, match="not an identifier"):
        client(runtime, "ems").shipment_recipient("../reports/3550")


def test_the_service_network_lists_a_holders_library_and_operations_revoke_with_the_client(
    runtime: LocalRuntime,
) -> None:
    identifier = issued(runtime)
    certificate = certificates.get_certificate(identifier)
    assert certificate is not None

    revoked = client(runtime, "operations").revoke_certificate(identifier, "issued in error")
    listed = client(runtime, "service-network").holder_certificates(certificate.holder_id, limit=10)
    refused = client(runtime, "ems").holder_certificates(certificate.holder_id)

    assert (revoked.status, revoked.body["revoked_now"]) == (200, True)
    assert listed.ok
    assert [(c["identifier"], c["status"]) for c in listed.body["certificates"]] == [(identifier, "revoked")]
    assert refused.status == 403
