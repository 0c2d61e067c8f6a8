"""`zerovisit partner add|rotate|remove` against the local stack's Secrets Manager, found from the
stack's Outputs (--stack) as the runbook has it, and what the API then accepts."""

import re
import shlex
from datetime import UTC, datetime, timedelta

import pytest
from aws_lambda_powertools.utilities import parameters
from zerovisit.cli import main
from zerovisit.domain.signature import PartnerKey, PartnerKeys, signed_headers, signed_headers_v2
from zerovisit.partner_cli import rotate

from infra.local.runtime import ROOT, LocalRuntime
from infra.local.stack import STACK_NAME

PATH = "/cases/T-000000000000"


@pytest.fixture
def without_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's shell: the functions' environment variable is not set."""
    monkeypatch.delenv("PARTNER_SECRET_PREFIX")


def command(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    status = main(["partner", *args, "--stack", STACK_NAME])
    parameters.clear_caches()  # type: ignore[no-untyped-call] # the API's five-minute cache, elapsed
    return status, capsys.readouterr().out.strip()


def status_with(runtime: LocalRuntime, partner: str, secret: str) -> int:
    return runtime.http("GET", PATH, None, signed_headers_v2(partner, secret, "GET", PATH)).status


def test_add_rotate_and_remove_a_partner_of_the_stack(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str], without_prefix: None
) -> None:
    partner = f"dept-new-{datetime.now(UTC).strftime('%H%M%S%f')}"

    added, first = command(capsys, "add", partner)
    assert added == 0
    secret_name = f"{runtime.outputs['PartnerSecretPrefix']}{partner}"
    assert runtime.client("secretsmanager").describe_secret(SecretId=secret_name)["Name"] == secret_name
    assert status_with(runtime, partner, first) == 404  # authenticated: no such case
    v1 = signed_headers(partner, first, datetime.now(UTC), "GET", PATH, "")
    assert runtime.http("GET", PATH, None, v1).status == 401  # a new partner signs with version 2

    rotated, second = command(capsys, "rotate", partner)
    assert rotated == 0
    assert second != first
    assert status_with(runtime, partner, second) == 404
    assert status_with(runtime, partner, first) == 404  # still valid during the overlap

    ended, third = command(capsys, "rotate", partner, "--overlap-hours", "0")
    assert ended == 0
    assert status_with(runtime, partner, third) == 404
    assert status_with(runtime, partner, second) == 401
    assert status_with(runtime, partner, first) == 401

    removed, _ = command(capsys, "remove", partner)
    assert removed == 0
    assert status_with(runtime, partner, third) == 401
    assert command(capsys, "remove", partner)[0] == 1


def runbook_partner_commands() -> list[list[str]]:
    """The `zerovisit partner` command lines of the runbook's section on partners, as arguments."""
    text = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    section = text.split("## 3. Partners and their secrets", 1)[1].split("\n## ", 1)[0]
    return [shlex.split(m) for m in re.findall(r"^\.venv/bin/zerovisit (partner .+)$", section, re.MULTILINE)]


def test_the_runbooks_partner_commands_run_on_the_local_stack(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str], without_prefix: None
) -> None:
    partner = f"dept-runbook-{datetime.now(UTC).strftime('%H%M%S%f')}"
    commands = runbook_partner_commands()
    assert [c[:2] for c in commands] == [["partner", "add"], ["partner", "rotate"], ["partner", "remove"]]
    secrets = []
    for argv in commands:
        argv = [partner if a == "dept-scjg" else STACK_NAME if a == "zerovisit-prod" else a for a in argv]
        assert main(argv) == 0, argv
        secrets.append(capsys.readouterr().out.strip())
        parameters.clear_caches()  # type: ignore[no-untyped-call] # the API's five-minute cache, elapsed
        if argv[1] == "rotate":
            assert status_with(runtime, partner, secrets[0]) == 404  # the overlap keeps the first
            assert status_with(runtime, partner, secrets[1]) == 404
    assert status_with(runtime, partner, secrets[1]) == 401  # removed


@pytest.mark.parametrize("action", ["add", "rotate", "remove"])
def test_without_a_stack_or_the_variable_one_line_names_what_is_missing(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str], without_prefix: None, action: str
) -> None:
    assert main(["partner", action, "ems"]) == 2

    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "zerovisit partner: error: no partner secret prefix: give --stack NAME (its PartnerSecretPrefix"
        " output) or set PARTNER_SECRET_PREFIX"
    ]
    stored = runtime.client("secretsmanager").get_secret_value(
        SecretId=f"{runtime.outputs['PartnerSecretPrefix']}ems"
    )
    assert stored["SecretString"] == runtime.partner_secrets["ems"]  # neither rotated nor removed


def test_adding_an_existing_partner_or_a_bad_id_is_refused(
    runtime: LocalRuntime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["partner", "add", "ems"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["partner", "add", "Dept_X"]) == 1
    assert "not lower-case" in capsys.readouterr().err


def test_rotation_keeps_the_secrets_still_valid_for_the_overlap_at_most() -> None:
    now = datetime(2026, 11, 27, 12, tzinfo=UTC)
    keys = PartnerKeys(
        keys=[PartnerKey("current"), PartnerKey("older", now + timedelta(hours=1)), PartnerKey("gone", now)],
        v1_until=None,
    )

    rotated = rotate(keys, "new", now, timedelta(hours=72))

    assert [(k.secret, k.valid_until) for k in rotated.keys] == [
        ("new", None),
        ("current", now + timedelta(hours=72)),
        ("older", now + timedelta(hours=1)),
    ]
    assert rotated.valid_secrets(now + timedelta(hours=2)) == ["new", "current"]
