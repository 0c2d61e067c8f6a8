"""Creating ZeroVisit's stack on moto: the SAM template translated and created with moto's
CloudFormation, state machines made executable, schedules found, handlers loaded."""

import importlib.util
import io
import json
import logging
import re
import sys
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.core.models import DEFAULT_ACCOUNT_ID as ACCOUNT
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from zerovisit.clock import clock

from infra.local.template import deployable

REGION = "us-east-1"
STACK_NAME = "zerovisit-local"
CODE_BUCKET = "zerovisit-local-code"
# The local server's address (make serve), printed in the QR codes of locally issued certificates.
LOCAL_API_URL = "http://127.0.0.1:8787/dev"
PARAMETERS = {"PublicApiUrl": LOCAL_API_URL}


@dataclass
class Schedule:
    rule_arn: str
    period: timedelta
    targets: list[dict[str, Any]]
    last_fired: datetime


def rate(expression: str) -> timedelta:
    """``rate(15 minutes)`` as a timedelta; cron expressions are not used by the template."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if match is None:
        raise ValueError(f"the local runtime fires rate() schedules only, not {expression}")
    unit = match.group(2).rstrip("s") + "s"
    return timedelta(**{unit: int(match.group(1))})


def create_stack(template: dict[str, Any], client: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Create the stack; returns its resources (logical id to physical id) and its outputs."""
    s3 = client("s3")
    s3.create_bucket(Bucket=CODE_BUCKET)
    placeholder = _empty_zip()
    for name, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            s3.put_object(Bucket=CODE_BUCKET, Key=f"{name}.zip", Body=placeholder)
    sam = deployable(template, CODE_BUCKET)
    cfn_template = transform(sam, {}, ManagedPolicyLoader(client("iam")))
    cfn = client("cloudformation")
    resources: dict[str, str] = {}
    with quiet_moto_cloudformation():
        cfn.create_stack(
            StackName=STACK_NAME,
            TemplateBody=json.dumps(cfn_template),
            Capabilities=["CAPABILITY_IAM"],
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in PARAMETERS.items()],
        )
        paginator = cfn.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=STACK_NAME):
            for summary in page["StackResourceSummaries"]:
                resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
        stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    _create_executable_state_machines(cfn_template, resources, client("stepfunctions"))
    return resources, outputs


def _create_executable_state_machines(
    cfn_template: dict[str, Any], resources: dict[str, str], sfn: Any
) -> None:
    """moto's CloudFormation puts state machines where its interpreter does not look, and ignores
    DefinitionSubstitutions: create each one again, substitutions filled, under the same ARN."""
    stack = next(s for s in cloudformation_backends[ACCOUNT][REGION].stacks.values() if s.name == STACK_NAME)
    for logical, resource in cfn_template["Resources"].items():
        if resource["Type"] != "AWS::StepFunctions::StateMachine":
            continue
        properties = clean_json(resource["Properties"], stack.resource_map)
        definition = properties["DefinitionString"]
        for name, value in properties.get("DefinitionSubstitutions", {}).items():
            definition = definition.replace("${" + name + "}", str(value))
        arn = resources[logical]
        sfn.create_state_machine(
            name=arn.split(":")[-1], definition=definition, roleArn=properties["RoleArn"], type="STANDARD"
        )


def find_schedules(events: Any) -> list[Schedule]:
    """Rules with a schedule expression: moto never fires them, so the runtime's advance() does."""
    found = []
    for rule in events.list_rules()["Rules"]:
        expression = rule.get("ScheduleExpression")
        if not expression:
            continue
        targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        found.append(Schedule(rule["Arn"], rate(expression), targets, clock.now()))
    return found


@contextmanager
def quiet_moto_cloudformation() -> Iterator[None]:
    """Alarms, queue policies and the HttpApi are not built by moto (the runtime serves the API):
    moto's warning for each, on every parse, says nothing the runtime does not already know."""
    moto_log = logging.getLogger("moto")
    level = moto_log.level
    moto_log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Tried to parse", category=UserWarning)
            yield
    finally:
        moto_log.setLevel(level)


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process from the working tree")
    return buffer.getvalue()


def load_module(name: str, path: Any) -> ModuleType:
    """Each function's app.py under its own module name: a plain ``import app`` would give every
    function the first one's code."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    folder = str(Path(path).parent)
    sys.path.insert(0, folder)  # as in Lambda, the code's folder is on the path
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module
