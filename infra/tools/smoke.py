"""Smoke test of a deployed stack's HTTP API, as the service network would call it.

python -m infra.tools.smoke --stack zerovisit-dev            read-only checks (safe in prod)
python -m infra.tools.smoke --stack zerovisit-dev --submit   also submits the sample application
                                                              (dev only: it opens a real case)

The API's URL comes from the stack's Outputs and the service network's secret from Secrets Manager,
with the operator's own AWS credentials. Each check prints one line; the exit status is the number
of failed checks. Requests are signed over the path without the API's stage.
"""

import argparse
import json
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from zerovisit.clock import clock
from zerovisit.domain.identity import certificate_identifier
from zerovisit.domain.signature import signed_headers_v2

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "events" / "application_submitted.business_startup.json"
NETWORK = "service-network"
# Well formed, never issued: serial SMOKE0 of a made-up type and issuer.
NO_SUCH_CERTIFICATE = certificate_identifier("1" * 18 + "001", "1" * 18, "SMOKE0", 1)
# method, path (no stage), query, body, headers -> status, parsed body
Send = Callable[[str, str, str, str | None, dict[str, str]], tuple[int, Any]]


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    detail: str


def smoke(send: Send, secret: str, submit: bool, now: Callable[[], datetime] = clock.now) -> list[Check]:
    """``now`` dates the sample application (the domain clock); signatures use the real time."""

    def signed(method: str, path: str, query: str = "", body: Any = None) -> tuple[int, Any]:
        raw = None if body is None else json.dumps(body, ensure_ascii=False)
        headers = signed_headers_v2(NETWORK, secret, method, path, (raw or "").encode(), query)
        if raw is not None:
            headers["Content-Type"] = "application/json"
        return send(method, path, query, raw, headers)

    checks = []
    status, _ = send("GET", f"/certificates/{NO_SUCH_CERTIFICATE}/verify", "", None, {})
    checks.append(Check("public verification answers an unknown certificate", status == 404, f"{status}"))
    status, _ = send("GET", "/cases", "status=in_review", None, {})
    checks.append(Check("an unsigned list is refused", status == 401, f"{status}"))
    status, body = signed("GET", "/cases", "status=in_review&limit=1")
    checks.append(Check("the service network lists cases", status == 200 and "cases" in body, f"{status}"))
    if submit:
        detail = json.loads(SAMPLE.read_text(encoding="utf-8"))["detail"]
        case_id = f"SMOKE-{now().strftime('%Y%m%d%H%M%S')}"
        detail = {**detail, "application_id": case_id, "submitted_at": now().isoformat()}
        status, _ = signed("POST", "/applications", body=detail)
        checks.append(Check(f"the sample application {case_id} is taken in", status == 202, f"{status}"))
        status, body = signed("GET", f"/cases/{case_id}")
        checks.append(Check("its case can be read", status == 200, f"{status} {body.get('status', '')}"))
        applicant = detail["applicant"]["id_number"]
        status, body = signed("GET", "/cases", f"applicant={applicant}&limit=100")
        found = status == 200 and case_id in [c["case_id"] for c in body["cases"]]
        checks.append(Check("it is found by applicant", found, f"{status}"))
    return checks


def http_sender(base_url: str) -> Send:
    """Requests to the deployed API; ``base_url`` is the stack's HttpApiUrl (with its stage)."""

    def send(
        method: str, path: str, query: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, Any]:
        url = f"{base_url.rstrip('/')}{path}" + (f"?{query}" if query else "")
        if urlsplit(url).scheme != "https":
            raise ValueError(f"not an https URL: {url}")
        data = body.encode() if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    return send


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--submit", action="store_true", help="submit the sample application (dev only)")
    args = parser.parse_args(argv)
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    secret_id = f"{outputs['PartnerSecretPrefix']}{NETWORK}"
    secret = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"]
    checks = smoke(http_sender(outputs["HttpApiUrl"]), secret, args.submit)
    for check in checks:
        print(f"{'ok  ' if check.passed else 'FAIL'} {check.name} ({check.detail})")
    return sum(not c.passed for c in checks)


if __name__ == "__main__":
    sys.exit(main())
