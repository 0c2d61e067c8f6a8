"""Every Lambda task of the state machine sends what its step function's input model takes: no
field the model would refuse, every field it needs."""

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from zerovisit.steps import (
    AcceptanceInput,
    BeginServicesInput,
    CallbackStepInput,
    CloseInput,
    ConsolidationInput,
    DeliveryInput,
    PreReviewInput,
    ReviewDispatchInput,
    StepInput,
)

DEFINITION = Path(__file__).resolve().parents[2] / "statemachines" / "case_handling.asl.json"

# Which model each function reads its payload into, by the payload's "action" where one function
# has several (functions/*/app.py).
MODELS: dict[tuple[str, str | None], type[BaseModel]] = {
    ("${PreReviewFunctionArn}", "check"): PreReviewInput,
    ("${PreReviewFunctionArn}", "await_correction"): PreReviewInput,
    ("${AcceptanceFunctionArn}", None): AcceptanceInput,
    ("${AcceptanceFunctionArn}", "resume"): AcceptanceInput,
    ("${ReviewDispatchFunctionArn}", None): ReviewDispatchInput,
    ("${ReviewConsolidationFunctionArn}", None): ConsolidationInput,
    ("${ReviewConsolidationFunctionArn}", "begin_services"): BeginServicesInput,
    ("${PaymentFunctionArn}", None): CallbackStepInput,
    ("${CertificateFunctionArn}", None): StepInput,
    ("${DeliveryFunctionArn}", "dispatch"): DeliveryInput,
    ("${DeliveryFunctionArn}", "assess"): DeliveryInput,
    ("${CompletionFunctionArn}", None): CloseInput,
}


def lambda_tasks(states: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for name, state in states.items():
        if state["Type"] == "Task" and str(state.get("Resource", "")).startswith("arn:aws:states:::lambda"):
            found.append((name, state["Parameters"]))
        if state["Type"] == "Map":
            found += lambda_tasks(state["ItemProcessor"]["States"])
        for branch in state.get("Branches", []):
            found += lambda_tasks(branch["States"])
    return found


TASKS = lambda_tasks(json.loads(DEFINITION.read_text(encoding="utf-8"))["States"])


def test_every_lambda_task_is_known() -> None:
    assert len(TASKS) >= 10
    for name, parameters in TASKS:
        payload = parameters["Payload"]
        assert (parameters["FunctionName"], payload.get("action")) in MODELS, name


@pytest.mark.parametrize(("name", "parameters"), TASKS, ids=[name for name, _ in TASKS])
def test_payload_matches_the_step_input(name: str, parameters: dict[str, Any]) -> None:
    payload = parameters["Payload"]
    model = MODELS[(parameters["FunctionName"], payload.get("action"))]
    sent = {key.removesuffix(".$") for key in payload}
    fields = model.model_fields
    assert sent - set(fields) == set(), f"{name} sends fields {model.__name__} refuses"
    required = {field for field, info in fields.items() if info.is_required()}
    assert required - sent == set(), f"{name} leaves out fields {model.__name__} needs"


def test_consolidation_takes_the_payload_of_executions_started_before_answers_were_dropped() -> None:
    earlier = {"case_id": "C-000001", "stage": 0, "answers": [{"department": "scjg", "answered": True}]}
    assert ConsolidationInput.model_validate(earlier).stage == 0
    assert ConsolidationInput.model_validate({"case_id": "C-000001", "stage": 1}).stage == 1
