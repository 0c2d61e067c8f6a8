"""Least privilege: each function's policy in template.yaml allows exactly the calls its code makes,
as tests/function_uses.py declares them (and the pipeline test checks them against the real calls)."""

import copy
import re
from typing import Any

import pytest

from infra.local.template import load_template
from tests.function_uses import LAMBDA_SERVICE_USES, USES

Grant = str  # "service:Action Resource"


def _resource(value: Any) -> str:
    """A policy Resource as the logical id function_uses.py names it."""
    if value == "*":
        return "*"
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        logical, attribute = target if isinstance(target, list) else target.split(".", 1)
        return f"{logical}/stream" if attribute == "StreamArn" else str(logical)
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = str(value["Fn::Sub"])
        if index := re.fullmatch(r"\$\{(\w+)\.Arn\}/index/(\w+)", text):
            return f"{index.group(1)}/index/{index.group(2)}"
        if objects := re.fullmatch(r"\$\{(\w+)\.Arn\}/(?!index/)[\w-]+/\*", text):
            return objects.group(1)  # a bucket's objects under a prefix (not a table's indexes)
        if text.endswith("/partners/*"):
            return "PartnerSecrets"
    raise AssertionError(f"a policy resource the test cannot name: {value!r}")


def granted(template: dict[str, Any], function: str) -> set[Grant]:
    """Every (action, resource) the function's role is given in the template: its Policies, and
    any AWS::IAM::Policy attached to the role SAM makes for it (``<Function>Role``)."""
    statements = []
    for policy in template["Resources"][function]["Properties"].get("Policies", []):
        explicit = isinstance(policy, dict) and set(policy) == {"Statement"}
        assert explicit, f"{function}: explicit statements only, no SAM policy templates: {policy!r}"
        statements.extend(policy["Statement"])
    for resource in template["Resources"].values():
        if (
            resource["Type"] == "AWS::IAM::Policy"
            and {"Ref": f"{function}Role"} in resource["Properties"]["Roles"]
        ):
            statements.extend(resource["Properties"]["PolicyDocument"]["Statement"])
    grants: set[Grant] = set()
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(statement) == {"Effect", "Action", "Resource"}
        actions = _as_list(statement["Action"])
        resources = _as_list(statement["Resource"])
        grants.update(f"{action} {_resource(resource)}" for action in actions for resource in resources)
    return grants


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def excess_and_missing(template: dict[str, Any]) -> dict[str, tuple[list[Grant], list[Grant]]]:
    """Per function: what the policy allows that the code does not use, and what the code uses that the
    policy does not allow."""
    problems = {}
    for function in _functions(template):
        needed = USES.get(function, set()) | LAMBDA_SERVICE_USES.get(function, set())
        allowed = granted(template, function)
        if allowed != needed:
            problems[function] = (sorted(allowed - needed), sorted(needed - allowed))
    return problems


def _functions(template: dict[str, Any]) -> list[str]:
    return [n for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"]


def test_each_function_is_allowed_exactly_what_its_code_uses() -> None:
    template = load_template()
    assert sorted(_functions(template)) == sorted(USES)
    assert excess_and_missing(template) == {}


def test_nothing_scans_or_deletes_and_no_action_is_a_wildcard() -> None:
    template = load_template()
    for function in _functions(template):
        for grant in granted(template, function):
            action = grant.split(" ")[0]
            assert "*" not in action, grant
            assert action not in ("dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem"), grant


CASES_ARN = {"Fn::GetAtt": ["CasesTable", "Arn"]}
ANY_CASES_INDEX = {"Fn::Sub": "${CasesTable.Arn}/index/*"}


@pytest.mark.parametrize(
    ("function", "statement", "expected_excess"),
    [
        (
            "ApiFunction",
            {"Effect": "Allow", "Action": ["dynamodb:Scan"], "Resource": CASES_ARN},
            "dynamodb:Scan CasesTable",
        ),
        (
            "SweeperFunction",
            {"Effect": "Allow", "Action": "dynamodb:Query", "Resource": ANY_CASES_INDEX},
            None,  # a wildcard index the test cannot name fails loudly
        ),
        (
            "CompletionFunction",
            {"Effect": "Allow", "Action": ["dynamodb:DeleteItem"], "Resource": CASES_ARN},
            "dynamodb:DeleteItem CasesTable",
        ),
    ],
)
def test_an_action_the_code_does_not_use_fails_the_check(
    function: str, statement: dict[str, Any], expected_excess: str | None
) -> None:
    template = copy.deepcopy(load_template())
    template["Resources"][function]["Properties"]["Policies"].append({"Statement": [statement]})
    if expected_excess is None:
        with pytest.raises(AssertionError, match="cannot name"):
            excess_and_missing(template)
        return
    assert excess_and_missing(template) == {function: ([expected_excess], [])}


def test_a_missing_grant_fails_the_check() -> None:
    template = copy.deepcopy(load_template())
    for statement in template["Resources"]["CertificateFunction"]["Properties"]["Policies"][0]["Statement"]:
        if statement["Action"] == ["kms:Sign"]:
            statement["Action"] = ["kms:GetPublicKey"]
    excess, missing = excess_and_missing(template)["CertificateFunction"]
    assert excess == ["kms:GetPublicKey CertificateSigningKey"]
    assert missing == ["kms:Sign CertificateSigningKey"]


def test_a_policy_attached_to_the_functions_role_counts_as_its_grant() -> None:
    template = copy.deepcopy(load_template())
    del template["Resources"]["SweeperContinuationPolicy"]
    assert excess_and_missing(template) == {
        "SweeperFunction": ([], ["lambda:InvokeFunction SweeperFunction"])
    }


def test_the_state_machine_logs_without_full_access() -> None:
    policies = load_template()["Resources"]["CaseStateMachine"]["Properties"]["Policies"]
    assert "CloudWatchLogsFullAccess" not in policies
    log_actions = {a for p in policies if "Statement" in p for s in p["Statement"] for a in s["Action"]}
    assert log_actions
    assert all(a.startswith("logs:") and "*" not in a for a in log_actions)
