"""The partner trust boundary (issue 9), through the real handler on the local runtime, which sends
what API Gateway sends for the template's stage (rawPath ``/dev/...``)."""

import base64
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from zerovisit.adapters.secrets import partner_secret
from zerovisit.clock import clock
from zerovisit.domain.case import Change
from zerovisit.domain.model import Task, TaskKind, TaskRef, TimelineEntry
from zerovisit.domain.signature import signed_headers, signed_headers_v2
from zerovisit.errors import InvalidInput
from zerovisit.storage import cases

from infra.local.partners import PartnerSimulator
from infra.local.runtime import HttpResponse, LocalRuntime, _http_event
from infra.local.template import load_template
from tests.integration.conftest import partition
from tests.support import application, held_transfer

NETWORK = "service-network"
REPORT_QUERY = "region=320104&from=2026-02-01&to=2026-02-28"


@pytest.fixture
def events(runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The events the API function receives."""
    seen: list[dict[str, Any]] = []
    invoke = runtime.invoke

    def recording(function_name: str, event: Any) -> tuple[Any, bool]:
        if isinstance(event, dict) and event.get("version") == "2.0":
            seen.append(event)
        return invoke(function_name, event)

    monkeypatch.setattr(runtime, "invoke", recording)
    return seen


def test_the_api_runs_on_the_templates_stage(runtime: LocalRuntime, events: list[dict[str, Any]]) -> None:
    stage = load_template()["Parameters"]["Stage"]["Default"]

    runtime.signed_http("supervision", "GET", "/reports/3550", query=REPORT_QUERY)

    assert stage == "dev"
    assert events[-1]["rawPath"] == "/dev/reports/3550"
    assert events[-1]["requestContext"]["stage"] == "dev"
    assert events[-1]["routeKey"] == "GET /reports/3550"


def test_on_the_stage_every_route_keeps_its_owner_and_the_public_route_stays_public(
    runtime: LocalRuntime,
) -> None:
    detail = application()

    by_department = runtime.signed_http("dept-ga", "POST", "/applications", detail)
    report_by_ems = runtime.signed_http("ems", "GET", "/reports/3550", query=REPORT_QUERY)
    unsigned_verify = runtime.http("GET", "/certificates/1.2.156.3005.2.X/verify")

    assert by_department.status == 403
    assert report_by_ems.status == 403
    assert unsigned_verify.status == 422  # checked, not asked for a signature
    assert runtime.signed_http(NETWORK, "GET", f"/cases/{detail['application_id']}").status == 404


def test_a_signature_over_the_path_with_the_stage_is_refused(runtime: LocalRuntime) -> None:
    body = json.dumps(application(), ensure_ascii=False)
    secret = runtime.partner_secrets[NETWORK]
    headers = signed_headers_v2(NETWORK, secret, "POST", "/dev/applications", body.encode())

    assert runtime.http("POST", "/applications", body, headers).status == 401


# ---------------------------------------------------------------- each partner reads only its own


def test_each_partner_reads_only_its_own_case_data(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    case_id = waiting_review["case_id"]
    department = waiting_review["partner_id"]

    network = runtime.signed_http(NETWORK, "GET", f"/cases/{case_id}")
    supervision = runtime.signed_http("supervision", "GET", f"/cases/{case_id}")
    reviewer = runtime.signed_http(department, "GET", f"/cases/{case_id}")
    others = [
        runtime.signed_http(p, "GET", f"/cases/{case_id}")
        for p in ("ems", "payment-platform", "dept-ga")
        if p != department
    ]

    assert (network.status, network.body["view"]) == (200, "case")
    assert (supervision.status, supervision.body["view"]) == (200, "case")
    assert (reviewer.status, reviewer.body["view"]) == (200, "review")
    assert [t["task_id"] for t in reviewer.body["tasks"]] == [waiting_review["task_id"]]
    assert reviewer.body["applicant"]["id_number_masked"] == "360*************71"
    assert "timeline" not in reviewer.body
    assert [r.status for r in others] == [404] * len(others)
    assert others[0].body == runtime.signed_http(NETWORK, "GET", "/cases/NO-SUCH-CASE").body
    stored = cases.get_case(case_id).application
    for view in (network.body, supervision.body, reviewer.body):
        text = json.dumps(view, ensure_ascii=False)
        assert "360426199101010071" not in text
        assert stored.delivery is None or stored.delivery.phone not in text
        assert stored.delivery is None or stored.delivery.address not in text
        assert "token" not in text


def test_a_department_sees_only_the_materials_its_review_reads(runtime: LocalRuntime) -> None:
    detail = held_transfer(runtime, submitted_at=clock.now().isoformat())
    case_id = detail["application_id"]
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    reviews = review_tasks(case_id, count=3)  # 不动产登记, 契税 and 交易备案, in parallel

    seen = {
        t.partner: [
            m["code"] for m in runtime.signed_http(t.partner, "GET", f"/cases/{case_id}").body["materials"]
        ]
        for t in reviews
    }
    for task in reviews:
        assert decide_review(runtime, task).status == 200
    PartnerSimulator(runtime).run_until_closed(case_id)

    submitted = [m["code"] for m in detail["materials"]]
    assert seen["dept-bdc"] == submitted  # the registration reads every one
    assert seen["dept-sw"] == ["SALE_CONTRACT", "PROPERTY_CERTIFICATE", "SELLER_ID", "BUYER_ID"]
    assert seen["dept-zj"] == ["SALE_CONTRACT", "SELLER_ID", "BUYER_ID"]


def review_tasks(case_id: str, count: int, timeout_seconds: float = 30.0) -> list[Task]:
    """The case's review tasks once ``count`` are open (a stage dispatches its departments in
    parallel), bounded in real time."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        found = [t for t in cases.tasks(case_id) if t.kind is TaskKind.REVIEW and t.is_open]
        if len(found) >= count:
            return found
        time.sleep(0.01)
    raise TimeoutError(f"fewer than {count} review tasks for {case_id} within {timeout_seconds}s")


def decide_review(runtime: LocalRuntime, task: Task) -> HttpResponse:
    return runtime.signed_http(
        task.partner, "POST", f"/reviews/{task.task_id}/decision", {"decision": "approve"}
    )


def test_supervision_sees_only_the_regions_it_oversees(
    runtime: LocalRuntime, waiting_review: dict[str, Any], supervised_regions: Callable[[str], None]
) -> None:
    case_id = waiting_review["case_id"]
    region = cases.get_case(case_id).application.region_code
    other = "110101"
    supervised_regions("110000")

    case = runtime.signed_http("supervision", "GET", f"/cases/{case_id}")
    report_elsewhere = runtime.signed_http(
        "supervision", "GET", "/reports/3550", query=f"region={region}&from=2026-02-01&to=2026-02-28"
    )
    report_own = runtime.signed_http(
        "supervision", "GET", "/reports/3550", query=f"region={other}&from=2026-02-01&to=2026-02-28"
    )

    assert case.status == 404
    assert report_elsewhere.status == 404
    assert report_own.status == 200
    assert report_own.body["from"] == "2026-02-01"


def listed(runtime: LocalRuntime, path: str, query: str, pages: int = 50) -> list[str]:
    """The case ids of every page of a supervision list."""
    found: list[str] = []
    cursor = None
    for _ in range(pages):
        page = runtime.signed_http(
            "supervision", "GET", path, query=query + (f"&cursor={cursor}" if cursor else "")
        )
        assert page.status == 200, page.body
        found += [c["case_id"] for c in page.body["cases"]]
        cursor = page.body["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError(f"{path}: more than {pages} pages")


def test_supervision_lists_only_the_regions_it_oversees(
    runtime: LocalRuntime, waiting_review: dict[str, Any], supervised_regions: Callable[[str], None]
) -> None:
    case_id = waiting_review["case_id"]
    region = cases.get_case(case_id).application.region_code
    missing = runtime.signed_http(NETWORK, "GET", "/cases/NO-SUCH-CASE")

    lists = ((f"/regions/{region}/open-cases", "limit=100"), ("/cases", f"region={region}&limit=100"))

    by_the_template = [listed(runtime, path, query) for path, query in lists]  # SupervisedRegions 320000
    supervised_regions("110000,320500")  # Beijing and Suzhou
    elsewhere = [runtime.signed_http("supervision", "GET", path, query=query) for path, query in lists]
    without_region = runtime.signed_http("supervision", "GET", "/cases", query="status=in_review")

    assert load_template()["Parameters"]["SupervisedRegions"]["Default"] == "320000"
    assert all(case_id in ids for ids in by_the_template)
    assert [r.status for r in elsewhere] == [404, 404]
    assert all(r.body == missing.body for r in elsewhere)  # as if there were nothing there
    assert without_region.status == 403


def test_ems_reads_only_its_own_shipments(runtime: LocalRuntime) -> None:
    detail = application()
    runtime.signed_http(NETWORK, "POST", "/applications", detail)
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])

    mine = runtime.signed_http("ems", "GET", f"/shipments/{detail['application_id']}.EMS1")
    not_a_shipment = runtime.signed_http("ems", "GET", f"/shipments/{detail['application_id']}.PAY")

    assert mine.status == 200
    assert not_a_shipment.status == 404


# ---------------------------------------------------------------- input limits


def test_malformed_signatures_are_401_never_500(runtime: LocalRuntime) -> None:
    body = '{"level": 5}'
    good = signed_headers(NETWORK, runtime.partner_secrets[NETWORK], datetime.now(UTC), "GET", "/x", body)
    statuses = []
    for signature in ("é" * 64, "0" * 63, "g" * 64, "0" * 65):
        response = runtime.http("GET", "/cases/T-000000000000", None, {**good, "X-ZV-Signature": signature})
        statuses.append(response.status)
        assert "64 hexadecimal characters" in response.body["message"]
    assert statuses == [401] * 4


@pytest.mark.parametrize(
    ("body", "status", "problem"),
    [
        ("[" * 10_000 + "]" * 10_000, 400, "nested 10000 deep"),
        ('{"level": ' + "9" * 5000 + "}", 400, "more than 15 digits"),
        ('{"level": 5, "level": 1}', 400, "'level' appears more than once"),
        ('{"level": NaN}', 400, "NaN is not a JSON number"),
        ('{"level": 5, "comment": "' + "好" * 2001 + '"}', 422, "body.comment: 2001 characters"),
    ],
)
def test_json_beyond_the_limits_is_refused_precisely(
    runtime: LocalRuntime, submitted: dict[str, Any], body: str, status: int, problem: str
) -> None:
    detail = submitted
    before = partition(detail["application_id"])

    response = runtime.signed_http(NETWORK, "POST", f"/cases/{detail['application_id']}/evaluation", body)

    assert response.status == status
    assert any(problem in p for p in response.body["problems"]), response.body
    assert partition(detail["application_id"]) == before


def test_a_megabyte_tracking_note_is_413_not_503(runtime: LocalRuntime) -> None:
    note = {"order_id": "T-000000000000.EMS1", "waybill": "EA000000015CN", "status": "in_transit"}
    body = json.dumps({**note, "note": "x" * 1_000_000})

    response = runtime.signed_http("ems", "POST", "/callbacks/ems", body)

    assert response.status == 413
    assert "at most 65536" in response.body["message"]


def test_a_body_that_is_not_utf8_is_400(runtime: LocalRuntime) -> None:
    raw = b'{"level": 5, "comment": "\xff\xfe"}'
    path = "/cases/T-000000000000/evaluation"
    headers = signed_headers_v2(NETWORK, runtime.partner_secrets[NETWORK], "POST", path, raw)
    route = next(r for r in runtime.routes if r.path == "/cases/{case_id}/evaluation")
    event = _http_event("POST", path, "", route, {"case_id": "T-000000000000"}, None, headers, runtime.stage)
    event |= {"body": base64.b64encode(raw).decode(), "isBase64Encoded": True}

    payload, failed = runtime.invoke(route.function, event)

    assert not failed
    assert payload["statusCode"] == 400
    assert "not UTF-8" in json.loads(payload["body"])["message"]


def test_a_resubmitted_application_id_with_another_body_is_409_naming_the_change(
    runtime: LocalRuntime,
) -> None:
    detail = application()
    first = runtime.signed_http(NETWORK, "POST", "/applications", detail)
    same = runtime.signed_http(NETWORK, "POST", "/applications", detail)
    changed = {**detail, "applicant": {**detail["applicant"], "name": "别人"}}

    conflict = runtime.signed_http(NETWORK, "POST", "/applications", changed)

    assert (first.status, same.status, same.body["created"]) == (202, 202, False)
    assert conflict.status == 409
    assert "differs in: applicant" in conflict.body["message"]
    assert "别人" not in conflict.body["message"]
    assert cases.get_case(detail["application_id"]).application.applicant.name == detail["applicant"]["name"]
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])


def test_a_field_longer_than_its_schema_allows_is_422_naming_it(runtime: LocalRuntime) -> None:
    detail = application()
    detail["applicant"]["name"] = "名" * 201

    response = runtime.signed_http(NETWORK, "POST", "/applications", detail)

    assert response.status == 422
    assert response.body["message"] == "the request is invalid"
    assert any(p.startswith("applicant.name: ") and "200" in p for p in response.body["problems"])


def test_an_enumeration_refusal_names_the_allowed_values(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    response = runtime.signed_http(
        waiting_review["partner_id"],
        "POST",
        f"/reviews/{waiting_review['task_id']}/decision",
        {"decision": "maybe"},
    )

    assert response.status == 422
    assert any(
        p.startswith("decision: ") and "'approve'" in p and "'suspend'" in p
        for p in response.body["problems"]
    ), response.body


def test_a_query_refusal_names_every_problem_and_the_allowed_values(runtime: LocalRuntime) -> None:
    response = runtime.signed_http(
        NETWORK, "GET", "/cases", query="applicant=12345&status=sleeping&step=napping"
    )

    assert response.status == 422
    applicant, status, step = response.body["problems"]
    assert applicant.startswith("applicant: ")
    assert status.startswith("status: ")
    assert "'in_review'" in status
    assert "'withdrawn'" in status
    assert step.startswith("step: ")
    assert "'post_issuance'" in step


# ---------------------------------------------------------------- signature version 2


def test_version_2_covers_the_query_string(runtime: LocalRuntime) -> None:
    secret = runtime.partner_secrets["supervision"]
    signed_for = "region=320104&from=2026-02-01&to=2026-02-28"
    headers = signed_headers_v2("supervision", secret, "GET", "/reports/3550", b"", signed_for)

    other_region = runtime.http(
        "GET", "/reports/3550", None, headers, "region=320102&from=2026-02-01&to=2026-02-28"
    )
    reordered = runtime.http(
        "GET", "/reports/3550", None, headers, "to=2026-02-28&from=2026-02-01&region=320104"
    )

    assert other_region.status == 401
    assert reordered.status == 200  # the canonical query string sorts the parameters


def test_version_2_covers_the_body_digest(runtime: LocalRuntime, waiting_review: dict[str, Any]) -> None:
    path = f"/reviews/{waiting_review['task_id']}/decision"
    partner = waiting_review["partner_id"]
    headers = signed_headers_v2(
        partner, runtime.partner_secrets[partner], "POST", path, b'{"decision":"approve"}'
    )

    tampered = runtime.http("POST", path, '{"decision":"reject"}', headers)

    assert tampered.status == 401


def test_authentication_uses_the_real_time_whatever_the_domain_clock(runtime: LocalRuntime) -> None:
    clock.advance(timedelta(hours=9))  # what --simulate-partners does to the domain clock
    secret = runtime.partner_secrets["supervision"]

    real = signed_headers_v2("supervision", secret, "GET", "/reports/3550", b"", REPORT_QUERY)
    domain = signed_headers_v2("supervision", secret, "GET", "/reports/3550", b"", REPORT_QUERY, clock.now())

    assert runtime.http("GET", "/reports/3550", None, real, REPORT_QUERY).status == 200
    refused = runtime.http("GET", "/reports/3550", None, domain, REPORT_QUERY)
    assert refused.status == 401
    assert "real time" in refused.body["message"]


def _store_secret(runtime: LocalRuntime, partner: str, value: str) -> None:
    runtime.client("secretsmanager").put_secret_value(
        SecretId=f"{os.environ['PARTNER_SECRET_PREFIX']}{partner}", SecretString=value
    )
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    assert partner_secret(partner) == value


def test_version_1_is_accepted_until_the_partners_date(runtime: LocalRuntime) -> None:
    partner = "dept-sw"
    secret = runtime.partner_secrets[partner]
    body = ""
    try:
        _store_secret(runtime, partner, json.dumps({"keys": [{"secret": secret}], "v1_until": "2026-01-01"}))
        v1 = signed_headers(partner, secret, datetime.now(UTC), "GET", "/cases/T-000000000000", body)
        refused = runtime.http("GET", "/cases/T-000000000000", None, v1)
        v2 = runtime.signed_http(partner, "GET", "/cases/T-000000000000")
        _store_secret(runtime, partner, json.dumps({"keys": [{"secret": secret}], "v1_until": "2099-01-01"}))
        accepted = runtime.http("GET", "/cases/T-000000000000", None, v1)
    finally:
        _store_secret(runtime, partner, secret)

    assert refused.status == 401
    assert "version 1 is no longer accepted" in refused.body["message"]
    assert v2.status == 404  # authenticated; no such case
    assert accepted.status == 404


# ---------------------------------------------------------------- replays


def test_a_replayed_request_gets_the_first_answer_and_no_second_effect(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    task_id, case_id, partner = (
        waiting_review["task_id"],
        waiting_review["case_id"],
        waiting_review["partner_id"],
    )
    path = f"/reviews/{task_id}/decision"
    body = json.dumps({"decision": "approve", "comments": "同意"}, ensure_ascii=False)
    headers = signed_headers_v2(partner, runtime.partner_secrets[partner], "POST", path, body.encode())

    first = runtime.http("POST", path, body, headers)
    answered = cases.get_task(TaskRef.parse(task_id))
    replayed = runtime.http("POST", path, body, headers)

    assert first.status == 200
    assert (replayed.status, replayed.body) == (first.status, first.body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    # The execution moves on meanwhile; the replay itself wrote nothing.
    assert cases.get_task(TaskRef.parse(task_id)) == answered
    assert [e.event for e in cases.timeline(case_id)].count("decided") == 1


def test_a_replayed_application_returns_the_first_answer(runtime: LocalRuntime) -> None:
    detail = application()
    raw = json.dumps(detail, ensure_ascii=False)
    headers = signed_headers_v2(
        NETWORK, runtime.partner_secrets[NETWORK], "POST", "/applications", raw.encode()
    )

    first = runtime.http("POST", "/applications", raw, headers)
    replayed = runtime.http("POST", "/applications", raw, headers)

    assert first.body["created"] is True
    assert replayed.body == first.body  # the first answer, not "created": false
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])


def test_an_identical_evaluation_sent_again_gets_the_first_answer(runtime: LocalRuntime) -> None:
    detail = application()
    runtime.signed_http(NETWORK, "POST", "/applications", detail)
    PartnerSimulator(runtime).run_until_closed(detail["application_id"])
    path = f"/cases/{detail['application_id']}/evaluation"

    first = runtime.signed_http(NETWORK, "POST", path, {"level": 4, "comment": "好"})
    again = runtime.signed_http(NETWORK, "POST", path, {"level": 4, "comment": "好"})
    different = runtime.signed_http(NETWORK, "POST", path, {"level": 2})

    assert (first.status, again.status, different.status) == (200, 200, 409)
    assert again.body == first.body
    assert [e.event for e in cases.timeline(detail["application_id"])].count("evaluated") == 1


def test_an_item_too_large_for_storage_is_invalid_input_never_unavailable(submitted: dict[str, Any]) -> None:
    detail = submitted
    huge = TimelineEntry(at=clock.now(), step="delivery", event="tracking", detail="x" * 500_000)

    with pytest.raises(InvalidInput) as refused:
        cases.save(Change(detail["application_id"], 0, None, (huge,)), clock.now())

    assert "400 KB" in refused.value.problems[0]
