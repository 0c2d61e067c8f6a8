"""A small client for partner systems (departments, the payment platform, EMS, the service network,
supervision): it signs every request with signature version 2 and knows the routes.

Only the standard library and ``zerovisit.domain.signature`` are needed. Usage::

    from zerovisit.partner_client import PartnerClient

    client = PartnerClient("https://api.example.gov.cn/dev", "dept-scjg", secret)
    page = client.list_tasks()                      # this department's open review tasks
    for task in page.body["tasks"]:
        case = client.get_case(task["case_id"])     # what the review needs
        answer = client.decide(task["task_id"], {"decision": "approve", "comments": "同意"})
        if not answer.ok:
            print(answer.status, answer.body["message"], answer.body["problems"])

Every call returns an ``Answer``: the HTTP status and the decoded JSON body. A refusal's body is
``{"message": ..., "problems": [...]}``. Sending the same request again (a network retry) is safe:
``resend`` repeats it with the same signature: a POST gets the first answer, with no second effect
(a POST other than a callback gets 409 while the first is still being answered: resend a little
later), a GET a fresh answer.
"""

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode

from zerovisit.domain.signature import signed_headers_v2

# (method, url, headers, body) -> (status, body): urllib by default; tests pass their own.
Transport = Callable[[str, str, dict[str, str], bytes], tuple[int, bytes]]
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    request: tuple[str, str, dict[str, str], bytes] = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def urllib_transport(method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return int(response.status), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


class PartnerClient:
    def __init__(self, base_url: str, partner: str, secret: str, transport: Transport = urllib_transport):
        """``base_url`` is the API's URL with its stage (the stack's HttpApiUrl output, or
        ``http://127.0.0.1:8787/dev`` for ``make serve``); signatures cover the path after it."""
        self.base_url = base_url.rstrip("/")
        self.partner = partner
        self.secret = secret
        self.transport = transport

    def request(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> Answer:
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        query_string = urlencode(query or {}, quote_via=quote)
        headers = signed_headers_v2(self.partner, self.secret, method, path, raw, query_string)
        if raw:
            headers["Content-Type"] = "application/json"
        url = self.base_url + path + (f"?{query_string}" if query_string else "")
        return self._send((method, url, headers, raw))

    def resend(self, answer: Answer) -> Answer:
        """The same request again, same signature (within 300 s): a POST's first answer comes back."""
        return self._send(answer.request)

    def _send(self, request: tuple[str, str, dict[str, str], bytes]) -> Answer:
        status, payload = self.transport(*request)
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = payload.decode("utf-8", errors="replace")
        return Answer(status, decoded, request)

    # ------------------------------------------------------------------ the routes
    def submit_application(self, application: dict[str, Any]) -> Answer:
        return self.request("POST", "/applications", application)

    def submit_correction(self, application_id: str, materials: list[dict[str, str]]) -> Answer:
        return self.request(
            "POST", f"/applications/{_segment(application_id)}/corrections", {"materials": materials}
        )

    def get_case(self, case_id: str) -> Answer:
        return self.request("GET", f"/cases/{_segment(case_id)}")

    def evaluate(self, case_id: str, level: int, comment: str = "") -> Answer:
        return self.request(
            "POST", f"/cases/{_segment(case_id)}/evaluation", {"level": level, "comment": comment}
        )

    def list_tasks(self, cursor: str | None = None, limit: int = 50) -> Answer:
        """The calling partner's open tasks, soonest due first; pass ``next_cursor`` for the next page."""
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        return self.request("GET", "/tasks", query=query)

    def decide(self, task_id: str, decision: dict[str, Any]) -> Answer:
        return self.request("POST", f"/reviews/{_segment(task_id)}/decision", decision)

    def confirm_payment(self, confirmation: dict[str, Any]) -> Answer:
        return self.request("POST", "/callbacks/payment", confirmation)

    def track_shipment(self, event: dict[str, Any]) -> Answer:
        return self.request("POST", "/callbacks/ems", event)

    def shipment_recipient(self, order_id: str) -> Answer:
        return self.request("GET", f"/shipments/{_segment(order_id)}")

    def report_3550(self, region: str, first: str, last: str) -> Answer:
        return self.request("GET", "/reports/3550", query={"region": region, "from": first, "to": last})

    def enterprise_services(self, credit_code: str) -> Answer:
        """What an enterprise got after its licence: seal filing, tax registration, bank account."""
        return self.request("GET", f"/enterprises/{_segment(credit_code)}/services")

    def verify_certificate(self, identifier: str, code: str | None = None) -> Answer:
        """Public: sent unsigned would do as well; signed does no harm."""
        query = {"code": code} if code else None
        return self.request("GET", f"/certificates/{_segment(identifier)}/verify", query=query)

    def holder_certificates(self, holder_id: str, cursor: str | None = None, limit: int = 25) -> Answer:
        """The service network, for the holder: the holder's certificates, newest first, each with a
        five-minute link to its rendering; pass ``next_cursor`` for the next page."""
        query = {"limit": str(limit)} | ({"cursor": cursor} if cursor else {})
        return self.request("GET", f"/holders/{_segment(holder_id)}/certificates", query=query)

    def revoke_certificate(self, identifier: str, reason: str) -> Answer:
        """Operations: revoke with a reason; again, the first reason and time stand."""
        return self.request("POST", f"/certificates/{_segment(identifier)}/revocation", {"reason": reason})


def _segment(value: str) -> str:
    """One path segment: identifiers are ASCII letters, digits, '-' and '.', anything else is refused."""
    if not value or "/" in value or quote(value, safe="-._~") != value:
        raise ValueError(f"not an identifier: {value!r}")
    return value
