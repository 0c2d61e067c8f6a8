"""The moto internals the local runtime relies on. A moto upgrade that moves one fails here,
loudly, instead of the local runtime failing in some stranger way."""

import inspect
import time
from importlib.metadata import version
from typing import Any

import pytest
from moto.cloudformation.parsing import clean_json
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from infra.local import runtime


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == "5.2.5", "the local runtime was checked against moto 5.2.5: re-check the seams"


@pytest.mark.parametrize("seam", sorted(runtime.MOTO_SEAMS))
def test_each_replaced_member_is_still_there(seam: str) -> None:
    owner, name = runtime.MOTO_SEAMS[seam]
    assert hasattr(owner, name), f"moto moved {seam}: {owner!r}.{name}"


def original(seam: str) -> Any:
    member = runtime.MOTO_ORIGINALS[seam]
    return member.__func__ if isinstance(member, classmethod) else member


def test_lambda_invoke_keeps_its_signature() -> None:
    parameters = list(inspect.signature(original("lambda invoke")).parameters)
    assert parameters == ["self", "body", "request_headers", "response_headers"]


def test_eventbridge_delivery_keeps_its_signature_and_rejects_lambda_targets() -> None:
    parameters = list(inspect.signature(original("eventbridge delivery")).parameters)
    assert parameters[:3] == ["self", "original_event", "transform_input"]
    # moto itself still does not deliver to Lambda targets; if it starts to, the runtime's
    # delivery would run handlers twice.
    assert "NotImplementedError" in inspect.getsource(original("eventbridge delivery"))


def test_kms_cloudformation_still_ignores_the_key_spec() -> None:
    source = inspect.getsource(original("kms key from cloudformation"))
    assert 'key_spec="SYMMETRIC_DEFAULT"' in source, "moto now honours KeySpec: the KMS patch can go"


def test_the_retrier_still_waits_with_time_sleep() -> None:
    source = inspect.getsource(retrier_decl.RetrierDecl)
    assert original("retry wait") is time
    assert "time.sleep(interval_seconds)" in source


def test_cloudformation_state_machines_still_land_outside_the_interpreter() -> None:
    from moto.stepfunctions import models

    source = inspect.getsource(models.StateMachine.create_from_cloudformation_json)
    assert "stepfunctions_backends[account_id][region_name]" in source
    assert "DefinitionSubstitutions" not in source


def test_the_stack_internals_read_are_there() -> None:
    assert list(inspect.signature(clean_json).parameters) == ["resource_json", "resources_map"]
    from moto.cloudformation.models import Stack

    assert "resource_map" in inspect.getsource(Stack.__init__)


def test_the_runtime_puts_back_what_it_replaced() -> None:
    def current() -> dict[str, object]:
        return {
            seam: inspect.getattr_static(owner, name) for seam, (owner, name) in runtime.MOTO_SEAMS.items()
        }

    originals = current()
    local = runtime.LocalRuntime()
    local._patch_moto()
    patched = current()
    local._unpatch_moto()

    assert all(patched[seam] is not originals[seam] for seam in originals)
    assert all(value is originals[seam] for seam, value in current().items())


def test_the_interpreter_still_asks_for_a_lambda_client_by_region_and_service() -> None:
    parameters = list(inspect.signature(original("interpreter lambda client")).parameters)
    assert parameters == ["region", "service", "state_credentials"]
