"""Enough of CloudFormation's condition and string functions to read template.yaml's choices for given
parameter values (and pseudo parameters such as AWS::Region)."""

import re
from typing import Any

SUB_NAME = re.compile(r"\$\{([\w:]+)\}")


def evaluate(node: Any, refs: dict[str, str], conditions: dict[str, Any]) -> Any:
    """The value of ``node`` with ``refs`` for Ref and Sub names; a node it cannot read is returned as is."""
    if not (isinstance(node, dict) and len(node) == 1):
        return node
    ((function, argument),) = node.items()
    if function == "Ref" and argument in refs:
        return refs[argument]
    if function == "Condition":
        return evaluate(conditions[argument], refs, conditions)
    if function == "Fn::If":
        name, when_true, when_false = argument
        chosen = when_true if evaluate(conditions[name], refs, conditions) else when_false
        return evaluate(chosen, refs, conditions)
    values = [evaluate(a, refs, conditions) for a in argument] if isinstance(argument, list) else None
    if function == "Fn::Equals" and values is not None:
        return values[0] == values[1]
    if function == "Fn::Or" and values is not None:
        return any(values)
    if function == "Fn::Not" and values is not None:
        return not values[0]
    if function == "Fn::Select" and values is not None:
        return values[1][int(values[0])]
    if function == "Fn::Split" and values is not None:
        return str(values[1]).split(values[0])
    if function == "Fn::Sub" and isinstance(argument, str):
        return SUB_NAME.sub(lambda m: refs[m.group(1)], argument)
    return node
