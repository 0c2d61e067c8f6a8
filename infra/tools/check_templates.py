"""Checks template.yaml and the state machine definitions it points at, before sam validate or build.

cfn-lint lints template.yaml but never opens a DefinitionUri file, so every local `*.asl.json`
of an AWS::Serverless::StateMachine gets three checks of its own: its transition graph, its
`${Name}` placeholders against DefinitionSubstitutions, and cfn-lint's state machine rule
(E3601, called E2532 before cfn-lint 1.0) run on the definition with every placeholder filled
with a plausible value.

Run from the project root: python -m infra.tools.check_templates [--template template.yaml]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.api import lint_file
from cfnlint.decode.decode import decode
from cfnlint.match import Match

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = PROJECT_ROOT / "template.yaml"

SERVERLESS_STATE_MACHINE = "AWS::Serverless::StateMachine"
LOCAL_DEFINITION_SUFFIX = ".asl.json"
STATES_WITHOUT_NEXT_OR_END = frozenset({"Choice", "Succeed", "Fail"})
# `${Name}` as SAM substitutes it; `${!Name}` is Fn::Sub's escape for a literal `${Name}`.
PLACEHOLDER = re.compile(r"\$\{([^{}!\s][^{}]*)\}")

# Values stand-ins are built from. cfn-lint's ASL schema only accepts `arn:aws:` Task resources,
# so the partition stays `aws` even with a China region.
REGION = "cn-north-1"
ACCOUNT_ID = "123456789012"
URL_SUFFIX = "amazonaws.com.cn"
STACK_NAME = "zerovisit"
PSEUDO_PARAMETER_VALUES = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::URLSuffix": URL_SUFFIX,
    "AWS::StackName": STACK_NAME,
}
THROWAWAY_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-state-machine"
THROWAWAY_LOGICAL_ID = "StateMachine"

FUNCTION_TYPES = frozenset({"AWS::Serverless::Function", "AWS::Lambda::Function"})
ARN_SHAPES = {
    "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::Serverless::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::StepFunctions::StateMachine": "arn:aws:states:{region}:{account}:stateMachine:{name}",
    "AWS::StepFunctions::Activity": "arn:aws:states:{region}:{account}:activity:{name}",
    "AWS::SNS::Topic": "arn:aws:sns:{region}:{account}:{name}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::Events::EventBus": "arn:aws:events:{region}:{account}:event-bus/{name}",
}
GENERIC_ARN_SHAPE = "arn:aws:{service}:{region}:{account}:resource:{name}"
# Resource types whose Ref is a name rather than an ARN (SQS queues: a URL).
REF_IS_NAME = FUNCTION_TYPES | {"AWS::DynamoDB::Table", "AWS::Events::EventBus"}
QUEUE_TYPE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class Problem:
    """One finding, printed as `file: message`."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


@dataclass(frozen=True)
class LocalStateMachine:
    """An AWS::Serverless::StateMachine whose DefinitionUri is a local ASL file."""

    logical_id: str
    definition_path: Path
    substitutions: Mapping[str, Any]


# ---------------------------------------------------------------- graph check


def asl_graph_problems(definition: Mapping[str, Any]) -> list[str]:
    """Every broken transition, unreachable state and missing Next/End, Map and Parallel scopes included.

    Each problem names the state's path, e.g.
    `ReviewStages > ItemProcessor > Decide: Next 'Nope' does not exist`.
    """
    return _scope_problems(definition, ())


def _scope_problems(scope: Any, scope_path: tuple[str, ...]) -> list[str]:
    states = scope.get("States") if isinstance(scope, Mapping) else None
    if not isinstance(states, Mapping) or not states:
        return [_located(scope_path, "States is missing or empty")]
    start_at = scope.get("StartAt")
    problems = _start_at_problems(start_at, states, scope_path)
    for name, state in states.items():
        problems += _state_problems(state, states, (*scope_path, str(name)))
    if _names_state(start_at, states):
        problems += _unreachable_state_problems(start_at, states, scope_path)
    return problems


def _start_at_problems(start_at: Any, states: Mapping[str, Any], scope_path: tuple[str, ...]) -> list[str]:
    if start_at is None:
        return [_located(scope_path, "StartAt is missing")]
    if not _names_state(start_at, states):
        return [_located(scope_path, f"StartAt {start_at!r} does not exist")]
    return []


def _state_problems(state: Any, states: Mapping[str, Any], state_path: tuple[str, ...]) -> list[str]:
    if not isinstance(state, Mapping):
        return [_located(state_path, "is not an object")]
    problems = [
        _located(state_path, f"{field} {target!r} does not exist")
        for field, target in _transitions(state)
        if not _names_state(target, states)
    ]
    problems += [_located(state_path, message) for message in _ending_problems(state)]
    problems += _nested_scope_problems(state, state_path)
    return problems


def _transitions(state: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(field, target) for every transition the state declares."""
    for field in ("Next", "Default"):
        if field in state:
            yield field, state[field]
    for list_field in ("Choices", "Catch"):
        for index, rule in enumerate(_list_value(state, list_field)):
            if isinstance(rule, Mapping) and "Next" in rule:
                yield f"{list_field}[{index}].Next", rule["Next"]


def _ending_problems(state: Mapping[str, Any]) -> list[str]:
    if state.get("Type") in STATES_WITHOUT_NEXT_OR_END:
        return []
    has_next = "Next" in state
    ends = state.get("End") is True
    if has_next and ends:
        return ["has both Next and End"]
    if not has_next and not ends:
        return ["has neither Next nor End: true"]
    return []


def _nested_scope_problems(state: Mapping[str, Any], state_path: tuple[str, ...]) -> list[str]:
    scopes = list(_nested_scopes(state))
    state_type = state.get("Type")
    if state_type == "Map" and not scopes:
        return [_located(state_path, "Map has neither ItemProcessor nor Iterator")]
    if state_type == "Parallel" and not scopes:
        return [_located(state_path, "Parallel has no Branches")]
    problems: list[str] = []
    for label, scope in scopes:
        problems += _scope_problems(scope, (*state_path, label))
    return problems


def _nested_scopes(state: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(label, scope) for a Map's ItemProcessor (or legacy Iterator) and each Parallel branch."""
    if state.get("Type") == "Map":
        for field in ("ItemProcessor", "Iterator"):
            if field in state:
                yield field, state[field]
    if state.get("Type") == "Parallel":
        for index, branch in enumerate(_list_value(state, "Branches")):
            yield f"Branches[{index}]", branch


def _unreachable_state_problems(
    start_at: str, states: Mapping[str, Any], scope_path: tuple[str, ...]
) -> list[str]:
    reachable = _reachable_states(start_at, states)
    return [
        _located((*scope_path, str(name)), f"is not reachable from StartAt {start_at!r}")
        for name in states
        if name not in reachable
    ]


def _reachable_states(start_at: str, states: Mapping[str, Any]) -> set[str]:
    reachable: set[str] = set()
    waiting = deque([start_at])
    while waiting:
        name = waiting.popleft()
        if name in reachable:
            continue
        reachable.add(name)
        state = states[name]
        if isinstance(state, Mapping):
            waiting.extend(target for _, target in _transitions(state) if _names_state(target, states))
    return reachable


def _names_state(target: Any, states: Mapping[str, Any]) -> bool:
    return isinstance(target, str) and target in states


def _list_value(state: Mapping[str, Any], field: str) -> list[Any]:
    value = state.get(field)
    return value if isinstance(value, list) else []


def _located(path: tuple[str, ...], message: str) -> str:
    return f"{' > '.join(path)}: {message}" if path else message


# ---------------------------------------------------------------- placeholders


def placeholder_names(asl_text: str) -> set[str]:
    """The names of every `${Name}` placeholder in an ASL file's text."""
    return {match.group(1) for match in PLACEHOLDER.finditer(asl_text)}


def placeholder_problems(asl_text: str, substitution_keys: Iterable[str]) -> list[str]:
    """Placeholders without a DefinitionSubstitutions key, then keys no placeholder uses."""
    used = placeholder_names(asl_text)
    keys = set(substitution_keys)
    missing = [f"${{{name}}} has no DefinitionSubstitutions key" for name in sorted(used - keys)]
    unused = [
        f"DefinitionSubstitutions key {key!r} is not used in the definition" for key in sorted(keys - used)
    ]
    return missing + unused


def substitute_placeholders(asl_text: str, values: Mapping[str, str]) -> str:
    """The ASL text with each `${Name}` that has a value replaced by it (JSON-escaped); others stay."""

    def replacement(match: re.Match[str]) -> str:
        name = match.group(1)
        return json.dumps(values[name])[1:-1] if name in values else match.group(0)

    return PLACEHOLDER.sub(replacement, asl_text)


# ---------------------------------------------------------------- plausible substitution values


def plausible_substitution_value(key: str, value: Any, template: Mapping[str, Any]) -> str:
    """A stand-in of the right shape for what the DefinitionSubstitutions value will resolve to."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((function, argument),) = value.items()
        resolved = _resolve_intrinsic(str(function), argument, template)
        if resolved is not None:
            return resolved
    if key.endswith("FunctionArn"):
        return arn_for("AWS::Lambda::Function", key.removesuffix("Arn"))
    return generic_arn(None, key)


def arn_for(resource_type: str | None, name: str) -> str:
    """An ARN of the shape resources of this type have (a generic `arn:aws:` one for other types)."""
    shape = ARN_SHAPES.get(resource_type or "")
    if shape is None:
        return generic_arn(resource_type, name)
    return shape.format(region=REGION, account=ACCOUNT_ID, name=name)


def generic_arn(resource_type: str | None, name: str) -> str:
    """An `arn:aws:` string in the resource type's service, for values whose exact shape is unknown."""
    return GENERIC_ARN_SHAPE.format(
        region=REGION, account=ACCOUNT_ID, name=name, service=_service_of(resource_type)
    )


def _service_of(resource_type: str | None) -> str:
    parts = (resource_type or "").split("::")
    return parts[1].lower() if len(parts) == 3 else "unknown"


def _resolve_intrinsic(function: str, argument: Any, template: Mapping[str, Any]) -> str | None:
    if function == "Fn::GetAtt":
        return _get_att_value(argument, _resources(template))
    if function == "Ref" and isinstance(argument, str):
        return _ref_value(argument, template)
    if function == "Fn::Sub":
        return _sub_value(argument)
    return None


def _get_att_value(argument: Any, resources: Mapping[str, Any]) -> str | None:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return None
    logical_id, attribute = argument
    resource_type = _resource_type(resources, logical_id)
    if attribute == "Arn":
        return arn_for(resource_type, logical_id)
    return generic_arn(resource_type, f"{logical_id}-{attribute}")


def _ref_value(name: str, template: Mapping[str, Any]) -> str:
    if name in PSEUDO_PARAMETER_VALUES:
        return PSEUDO_PARAMETER_VALUES[name]
    parameter = _mapping(_mapping(template.get("Parameters")).get(name))
    if "Default" in parameter:
        return str(parameter["Default"])
    resource_type = _resource_type(_resources(template), name)
    if resource_type in REF_IS_NAME:
        return f"{STACK_NAME}-{name}"
    if resource_type == QUEUE_TYPE:
        return f"https://sqs.{REGION}.{URL_SUFFIX}/{ACCOUNT_ID}/{name}"
    return arn_for(resource_type, name)


def _sub_value(argument: Any) -> str | None:
    text = argument[0] if isinstance(argument, list) and argument else argument
    if not isinstance(text, str):
        return None
    return PLACEHOLDER.sub(lambda match: PSEUDO_PARAMETER_VALUES.get(match.group(1), match.group(1)), text)


def _resources(template: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(template.get("Resources"))


def _resource_type(resources: Mapping[str, Any], logical_id: str) -> str | None:
    resource_type = _mapping(resources.get(logical_id)).get("Type")
    return resource_type if isinstance(resource_type, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# ---------------------------------------------------------------- cfn-lint


def state_machine_lint_problems(definition: Mapping[str, Any]) -> list[str]:
    """cfn-lint's findings on the definition, inlined in a throwaway AWS::StepFunctions::StateMachine."""
    with tempfile.TemporaryDirectory(prefix="check-templates-") as directory:
        throwaway = Path(directory) / "state_machine.json"
        throwaway.write_text(json.dumps(_throwaway_template(definition), indent=2), encoding="utf-8")
        return [_describe_definition_match(match) for match in lint_file(throwaway)]


def _throwaway_template(definition: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            THROWAWAY_LOGICAL_ID: {
                "Type": "AWS::StepFunctions::StateMachine",
                "Properties": {"RoleArn": THROWAWAY_ROLE_ARN, "Definition": definition},
            }
        },
    }


def _describe_definition_match(match: Match) -> str:
    path = [str(part) for part in getattr(match, "path", [])]
    inside = path[path.index("Definition") + 1 :] if "Definition" in path else []
    return f"{match.rule.id} {' > '.join(inside) or 'definition'}: {match.message}"


def template_lint_problems(template_path: Path) -> list[str]:
    """cfn-lint's findings on the template itself, as `RULE line N: message`."""
    return [f"{match.rule.id} line {match.linenumber}: {match.message}" for match in lint_file(template_path)]


# ---------------------------------------------------------------- the whole check


def local_state_machines(template: Mapping[str, Any], template_dir: Path) -> list[LocalStateMachine]:
    """Every AWS::Serverless::StateMachine whose DefinitionUri is a local `*.asl.json` file."""
    found: list[LocalStateMachine] = []
    for logical_id, value in _resources(template).items():
        resource = _mapping(value)
        properties = _mapping(resource.get("Properties"))
        uri = properties.get("DefinitionUri")
        if resource.get("Type") != SERVERLESS_STATE_MACHINE or not isinstance(uri, str):
            continue
        if uri.endswith(LOCAL_DEFINITION_SUFFIX):
            substitutions = _mapping(properties.get("DefinitionSubstitutions"))
            found.append(LocalStateMachine(str(logical_id), template_dir / uri, substitutions))
    return found


def state_machine_problems(machine: LocalStateMachine, template: Mapping[str, Any]) -> list[str]:
    """Placeholder, graph and cfn-lint problems of one state machine's definition file."""
    if not machine.definition_path.is_file():
        return [f"{machine.logical_id}: DefinitionUri file does not exist"]
    asl_text = machine.definition_path.read_text(encoding="utf-8")
    problems = [
        f"{machine.logical_id}: {message}"
        for message in placeholder_problems(asl_text, machine.substitutions)
    ]
    values = {
        key: plausible_substitution_value(key, value, template)
        for key, value in machine.substitutions.items()
    }
    try:
        definition = json.loads(substitute_placeholders(asl_text, values))
    except json.JSONDecodeError as error:
        return [*problems, f"not valid JSON once substituted: {error}"]
    if not isinstance(definition, dict):
        return [*problems, "the definition is not a JSON object"]
    return problems + asl_graph_problems(definition) + state_machine_lint_problems(definition)


def check_project(template_path: Path = DEFAULT_TEMPLATE) -> list[Problem]:
    """cfn-lint on the template, then every check of each local state machine definition."""
    template_dir = template_path.parent
    problems = [Problem(template_path.name, message) for message in template_lint_problems(template_path)]
    template, decode_errors = decode(str(template_path))
    if decode_errors or not isinstance(template, Mapping):
        return problems  # cfn-lint has reported why the template does not load
    for machine in local_state_machines(template, template_dir):
        label = _relative_label(machine.definition_path, template_dir)
        problems += [Problem(label, message) for message in state_machine_problems(machine, template)]
    return problems


def _relative_label(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix() if path.is_relative_to(base) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="the SAM template to check")
    arguments = parser.parse_args(argv)
    logging.getLogger("cfnlint").addHandler(logging.NullHandler())  # its findings are printed below
    problems = check_project(arguments.template)
    for problem in problems:
        print(problem)
    print(f"template and state machine checks: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
