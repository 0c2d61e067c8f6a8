"""The runbook's smoke test, run against the local runtime's API instead of a deployed one."""

from typing import Any

from infra.local.runtime import LocalRuntime
from infra.tools.smoke import NETWORK, smoke


def test_the_smoke_test_passes_on_a_working_stack_and_fails_on_a_wrong_secret(runtime: LocalRuntime) -> None:
    def send(
        method: str, path: str, query: str, body: str | None, headers: dict[str, str]
    ) -> tuple[int, Any]:
        response = runtime.http(method, path, body, headers, query)
        return response.status, response.body

    checks = smoke(send, runtime.partner_secrets[NETWORK], submit=True)

    assert [c for c in checks if not c.passed] == []
    assert len(checks) == 6
    wrong = smoke(send, "not-the-secret", submit=False)
    assert [c.passed for c in wrong] == [True, True, False]
