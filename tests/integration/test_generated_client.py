"""A client generated from openapi.json by openapi-python-client (pinned with the dev dependencies)
has typed models and completes a signed call against ``make serve``'s threaded server, over a
real loopback socket with httpx.
"""

import importlib
import subprocess
import sys
from collections.abc import Generator, Iterator
from datetime import date
from types import ModuleType
from typing import Any

import httpx
import pytest
from zerovisit.api.access import route_path
from zerovisit.domain.signature import signed_headers_v2

from infra.local.runtime import LocalRuntime
from infra.tools.openapi import OPENAPI_FILE

PACKAGE = "zerovisit_generated_client"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    root = tmp_path_factory.mktemp("generated")
    subprocess.run(  # noqa: S603 - this interpreter and fixed arguments
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(OPENAPI_FILE),
            "--output-path",
            str(root / PACKAGE),
            "--meta",
            "none",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root))


class Signing(httpx.Auth):
    """Signs each request as a partner system does: version 2, the path without the stage."""

    def __init__(self, runtime: LocalRuntime, partner: str) -> None:
        self.runtime = runtime
        self.partner = partner

    def auth_flow(self, request: Any) -> Generator[Any, Any]:
        path = route_path(request.url.path, self.runtime.stage)
        query = request.url.query.decode()
        headers = signed_headers_v2(
            self.partner,
            self.runtime.partner_secrets[self.partner],
            request.method,
            path,
            request.content,
            query,
        )
        request.headers.update(headers)
        yield request


def client_for(generated: ModuleType, runtime: LocalRuntime, server: tuple[str, int], partner: str) -> Any:
    host, port = server
    return generated.AuthenticatedClient(
        base_url=f"http://{host}:{port}/{runtime.stage}",
        token="unused",
        prefix="",
        auth_header_name="X-Unused",
        timeout=httpx.Timeout(30.0),
        httpx_args={"auth": Signing(runtime, partner)},
    )


def test_the_generated_client_has_typed_models(generated: ModuleType) -> None:
    models = importlib.import_module(f"{PACKAGE}.models")

    for name in ("Application", "Report3550", "CaseView", "DepartmentCaseView", "ErrorBody", "Verification"):
        assert hasattr(models, name), name
    assert {d.value for d in models.Decision} == {"approve", "reject", "needs_correction", "suspend"}


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])  # make serve's server, in this process
def test_a_signed_call_completes_against_the_local_server(
    generated: ModuleType, runtime: LocalRuntime, local_server: tuple[str, int]
) -> None:
    report_route = importlib.import_module(f"{PACKAGE}.api.default.get_report_3550")
    models = importlib.import_module(f"{PACKAGE}.models")
    client = client_for(generated, runtime, local_server, "supervision")

    report = report_route.sync(client=client, region="320104", from_=date(2026, 2, 1), to=date(2026, 2, 28))
    refused = report_route.sync_detailed(
        client=client_for(generated, runtime, local_server, "ems"),
        region="320104",
        from_=date(2026, 2, 1),
        to=date(2026, 2, 28),
    )

    assert isinstance(report, models.Report3550)
    assert report.region_code == "320104"
    assert {m.matter_code for m in report.matters} >= {"BUSINESS-STARTUP"}
    assert refused.status_code == 403
    assert isinstance(refused.parsed, models.ErrorBody)
