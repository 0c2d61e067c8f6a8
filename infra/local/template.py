"""Reading template.yaml: the SAM template is the single source of truth for the local runtime."""

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cfnlint.decode import decode

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
LAMBDA_DEFAULT_TIMEOUT = 3.0


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    timeout_seconds: float = LAMBDA_DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    template, matches = decode(str(path))
    if matches or template is None:
        raise ValueError(f"{path}: {'; '.join(str(m) for m in matches)}")
    plain: dict[str, Any] = json.loads(json.dumps(template))  # plain dicts, not cfn-lint node types
    return plain


def functions(template: dict[str, Any], root: Path = ROOT) -> dict[str, FunctionSpec]:
    default_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", LAMBDA_DEFAULT_TIMEOUT)
    return {
        name: FunctionSpec(
            name,
            root / resource["Properties"]["CodeUri"],
            resource["Properties"]["Handler"],
            float(resource["Properties"].get("Timeout", default_timeout)),
        )
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def http_routes(template: dict[str, Any]) -> list[Route]:
    routes = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                routes.append(Route(event["Properties"]["Method"].upper(), event["Properties"]["Path"], name))
    return routes


def deployable(template: dict[str, Any], code_bucket: str, root: Path = ROOT) -> dict[str, Any]:
    """The template as `sam deploy` would hand it over: code in S3, state machine definitions inline."""
    result = copy.deepcopy(template)
    for name, resource in result["Resources"].items():
        props = resource.get("Properties", {})
        kind = resource["Type"]
        if kind == "AWS::Serverless::Function":
            props["CodeUri"] = f"s3://{code_bucket}/{name}.zip"
        elif kind == "AWS::Serverless::LayerVersion":
            props["ContentUri"] = f"s3://{code_bucket}/{name}.zip"
        elif kind == "AWS::Serverless::StateMachine" and "DefinitionUri" in props:
            props["Definition"] = json.loads((root / props.pop("DefinitionUri")).read_text())
    return result
