"""ZeroVisit's own template, run locally on moto in one process, with no Docker.

The runtime translates template.yaml with aws-sam-translator, creates the stack
with moto's CloudFormation, runs the real ASL with moto's interpreter, and runs
each function's real handler in-process. moto 5.2.5 leaves four things to it,
each a patch listed in ``MOTO_SEAMS`` and guarded by tests/integration/test_moto_seams.py:

- Lambda invocation (``LambdaFunction.invoke``): the real handler, not Docker;
- EventBridge rules with Lambda or Step Functions targets, which moto does not deliver;
- KMS keys from CloudFormation, which moto creates symmetric whatever KeySpec says;
- the retrier's wait between attempts, which advances the domain clock instead of sleeping.

HttpApi routes are served by ``http()``, since moto does not create ApiGatewayV2 resources.
"""

import copy
import importlib.util
import inspect
import io
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import traceback
import warnings
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, cast
from urllib.parse import parse_qs
from uuid import uuid4

import boto3
from moto import mock_aws
from moto.awslambda.models import LambdaFunction
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.core.models import DEFAULT_ACCOUNT_ID as ACCOUNT
from moto.events.models import Rule
from moto.kms.models import Key, kms_backends
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
from samtranslator.translator.transform import transform
from zerovisit.adapters import aws
from zerovisit.catalog_files import read_catalog
from zerovisit.clock import clock
from zerovisit.domain.catalog import Matter
from zerovisit.domain.signature import signed_headers_v2
from zerovisit.storage.catalog import put_matters
from zerovisit.storage.tables import bind_tables

from infra.local.context import FakeLambdaContext
from infra.local.template import ROOT, FunctionSpec, Route, deployable, functions, http_routes, load_template

REGION = "us-east-1"
STACK_NAME = "zerovisit-local"
CODE_BUCKET = "zerovisit-local-code"
CATALOG_DIR = ROOT / "infra" / "catalog"
SECRETS_FILE = ROOT / ".local" / "partner-secrets.json"
# Partners that are not departments of any catalog matter.
FIXED_PARTNERS = ("service-network", "payment-platform", "ems", "supervision")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})

Handler = Callable[[dict[str, Any], Any], Any]

# The moto internals this runtime replaces; a moto upgrade that moves one fails the seam test.
MOTO_SEAMS = {
    "lambda invoke": (LambdaFunction, "invoke"),
    "eventbridge delivery": (Rule, "send_to_targets"),
    "kms key from cloudformation": (Key, "create_from_cloudformation_json"),
    "retry wait": (retrier_decl, "time"),
    "interpreter lambda client": (lambda_eval_utils, "boto_client_for"),
}
# As moto ships them, captured before any runtime patches them (the seam test reads these).
MOTO_ORIGINALS = {seam: inspect.getattr_static(owner, name) for seam, (owner, name) in MOTO_SEAMS.items()}
# Read, not replaced: the stack's resources, to fill the state machine's substitutions.
MOTO_READS = {
    "cloudformation stacks": (cloudformation_backends, "__getitem__"),
    "cloudformation intrinsics": (clean_json, "__call__"),
}


@dataclass
class Schedule:
    rule_arn: str
    period: timedelta
    targets: list[dict[str, Any]]
    last_fired: datetime


def _rate(expression: str) -> timedelta:
    """``rate(15 minutes)`` as a timedelta; cron expressions are not used by the template."""
    match = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expression)
    if match is None:
        raise ValueError(f"the local runtime fires rate() schedules only, not {expression}")
    unit = match.group(2).rstrip("s") + "s"
    return timedelta(**{unit: int(match.group(1))})


@dataclass
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str]


class _ClockTime:
    """Stands in for the ``time`` module in moto's retrier: waits advance the domain clock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))


class LocalRuntime:
    def __init__(self, template_path: Any = None, secrets_file: Path = SECRETS_FILE) -> None:
        self.secrets_file = secrets_file
        self.partner_secrets: dict[str, str] = {}
        self.template = load_template(template_path) if template_path else load_template()
        self.functions: dict[str, FunctionSpec] = functions(self.template)
        self.routes: list[Route] = http_routes(self.template)
        self.resources: dict[str, str] = {}
        self.outputs: dict[str, str] = {}
        self.invocations: list[tuple[str, str]] = []
        self._handlers: dict[str, Handler] = {}
        # moto's backends are not thread-safe and the interpreter runs branches on threads:
        # functions run one at a time, as if each had a reserved concurrency of one.
        self._one_at_a_time = threading.RLock()
        self.schedules: list[Schedule] = []
        self._physical_to_logical: dict[str, str] = {}
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._saved: list[tuple[Any, str, Any]] = []
        self._saved_env: dict[str, str] = {}
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """One boto3 client per service for the runtime's own calls (creating one costs milliseconds)."""
        if service not in self._clients:
            self._clients[service] = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
        return self._clients[service]

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> "LocalRuntime":
        for name, value in {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }.items():
            self._set_env(name, value)
        self._mock.start()
        self._patch_moto()
        aws.reset_clients()
        self._create_stack()
        self._apply_function_environment()
        self._load_handlers()
        matters = self.load_catalog()
        self._seed_partner_secrets(matters)
        return self

    def _seed_partner_secrets(self, matters: list[Matter]) -> None:
        """One Secrets Manager secret per partner, kept in a local file so that a partner system
        outside this process can sign its requests; new partners get a fresh random secret."""
        known: dict[str, str] = {}
        if self.secrets_file.exists():
            known = json.loads(self.secrets_file.read_text(encoding="utf-8"))
        partners = set(FIXED_PARTNERS) | {
            d.partner_id for m in matters for s in m.stages for d in s.departments
        }
        for partner in sorted(partners - set(known)):
            known[partner] = secrets.token_hex(32)
        self.secrets_file.parent.mkdir(parents=True, exist_ok=True)
        self.secrets_file.write_text(json.dumps(known, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self.secrets_file.chmod(0o600)
        client = self.client("secretsmanager")
        prefix = os.environ["PARTNER_SECRET_PREFIX"]
        for partner, secret in known.items():
            client.create_secret(Name=f"{prefix}{partner}", SecretString=secret)
        self.partner_secrets = known

    def load_catalog(self, directory: Path = CATALOG_DIR) -> list[Matter]:
        """Load the reviewed catalog files into the catalog table, as an operator would."""
        matters = read_catalog(directory.glob("*.yaml"))
        put_matters(matters)
        return matters

    def stop(self) -> None:
        self._unpatch_moto()
        self._mock.stop()
        self._clients.clear()
        aws.reset_clients()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def __enter__(self) -> "LocalRuntime":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))  # type: ignore[arg-type]
        os.environ[name] = value

    # ------------------------------------------------------------------ moto seams
    def _patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, inspect.getattr_static(owner, name)))
        setattr(owner, name, replacement)

    def _unpatch_moto(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _patch_moto(self) -> None:
        runtime = self

        def invoke(function: LambdaFunction, body: Any, request_headers: Any, response_headers: Any) -> Any:
            event = json.loads(body) if body else {}
            payload, error = runtime.invoke(function.function_name, event)
            if error:
                response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps(payload)

        original_delivery = Rule.send_to_targets

        def send_to_targets(rule: Rule, event: Any, transform_input: bool = True) -> None:
            if not rule.event_pattern.matches_event(event):
                return
            own = [t for t in rule.targets if t["Arn"].split(":")[2] in ("lambda", "states")]
            if len(own) < len(rule.targets):
                others = _copy_rule(rule, [t for t in rule.targets if t not in own])
                original_delivery(others, event, transform_input)
            for target in own:
                runtime._deliver(target, event)

        def key_from_cloudformation(
            cls: type,
            /,
            resource_name: str,
            cloudformation_json: Any,
            account_id: str,
            region_name: str,
            **kw: Any,
        ) -> Key:
            properties = cloudformation_json["Properties"]
            return kms_backends[account_id][region_name].create_key(
                policy=json.dumps(properties.get("KeyPolicy")) if properties.get("KeyPolicy") else None,
                key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
                key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
                description=properties.get("Description", ""),
                tags=properties.get("Tags", []),
            )

        self._patch(LambdaFunction, "invoke", invoke)
        self._patch(Rule, "send_to_targets", send_to_targets)
        self._patch(Key, "create_from_cloudformation_json", classmethod(key_from_cloudformation))
        self._patch(retrier_decl, "time", _ClockTime())
        create_client = MOTO_ORIGINALS["interpreter lambda client"]
        self._patch(lambda_eval_utils, "boto_client_for", _cached_client_factory(create_client))

    # ------------------------------------------------------------------ stack
    def _create_stack(self) -> None:
        s3 = self.client("s3")
        s3.create_bucket(Bucket=CODE_BUCKET)
        placeholder = _empty_zip()
        for name, resource in self.template["Resources"].items():
            if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
                s3.put_object(Bucket=CODE_BUCKET, Key=f"{name}.zip", Body=placeholder)
        sam = deployable(self.template, CODE_BUCKET)
        cfn_template = transform(sam, {}, ManagedPolicyLoader(self.client("iam")))
        cfn = self.client("cloudformation")
        with _quiet_moto_cloudformation():
            cfn.create_stack(
                StackName=STACK_NAME, TemplateBody=json.dumps(cfn_template), Capabilities=["CAPABILITY_IAM"]
            )
        with _quiet_moto_cloudformation():
            paginator = cfn.get_paginator("list_stack_resources")
            for page in paginator.paginate(StackName=STACK_NAME):
                for summary in page["StackResourceSummaries"]:
                    self.resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
            stack = cfn.describe_stacks(StackName=STACK_NAME)["Stacks"][0]
        self.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        for logical in self.functions:
            self._physical_to_logical[self.resources[logical]] = logical
        self._create_executable_state_machines(cfn_template)
        self.schedules = self._find_schedules()

    def _create_executable_state_machines(self, cfn_template: dict[str, Any]) -> None:
        """moto's CloudFormation puts state machines where its interpreter does not look, and ignores
        DefinitionSubstitutions: create each one again, substitutions filled, under the same ARN."""
        stack = next(
            s for s in cloudformation_backends[ACCOUNT][REGION].stacks.values() if s.name == STACK_NAME
        )
        sfn = self.client("stepfunctions")
        for logical, resource in cfn_template["Resources"].items():
            if resource["Type"] != "AWS::StepFunctions::StateMachine":
                continue
            properties = clean_json(resource["Properties"], stack.resource_map)
            definition = properties["DefinitionString"]
            for name, value in properties.get("DefinitionSubstitutions", {}).items():
                definition = definition.replace("${" + name + "}", str(value))
            arn = self.resources[logical]
            sfn.create_state_machine(
                name=arn.split(":")[-1], definition=definition, roleArn=properties["RoleArn"], type="STANDARD"
            )

    def _find_schedules(self) -> list[Schedule]:
        """Rules with a schedule expression: moto never fires them, so advance() does."""
        events = self.client("events")
        found = []
        for rule in events.list_rules()["Rules"]:
            expression = rule.get("ScheduleExpression")
            if not expression:
                continue
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            found.append(Schedule(rule["Arn"], _rate(expression), targets, clock.now()))
        return found

    def advance(self, delta: timedelta) -> int:
        """Move the domain clock forward and fire every schedule whose period has passed, once for
        the whole step (the sweeps it stands for catch up on everything due). Returns the firings."""
        clock.advance(delta)
        return self.fire_due_schedules()

    def fire_due_schedules(self) -> int:
        fired = 0
        now = clock.now()
        for schedule in self.schedules:
            if now < schedule.last_fired:
                schedule.last_fired = now  # the clock was set back (a new test): count from here
                continue
            if now - schedule.last_fired < schedule.period:
                continue
            schedule.last_fired = now
            event = {
                "version": "0",
                "id": str(uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": ACCOUNT,
                "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": REGION,
                "resources": [schedule.rule_arn],
                "detail": {},
            }
            for target in schedule.targets:
                self._deliver(target, event)
            fired += 1
        return fired

    def _apply_function_environment(self) -> None:
        """Handlers share one process and one os.environ: every function's variables, which must agree."""
        client = self.client("lambda")
        merged: dict[str, str] = {}
        for logical in self.functions:
            config = client.get_function_configuration(FunctionName=self.resources[logical])
            for name, value in config.get("Environment", {}).get("Variables", {}).items():
                if merged.get(name, value) != value:
                    raise RuntimeError(f"functions disagree on {name}; keep it in the template's Globals")
                merged[name] = value
        for name, value in merged.items():
            self._set_env(name, value)

    def _load_handlers(self) -> None:
        from zerovisit.config import settings

        settings.cache_clear()
        for logical, spec in self.functions.items():
            module_file, attribute = spec.handler.rsplit(".", 1)
            module = _load_module(
                f"zerovisit_function_{spec.code_dir.name}", spec.code_dir / f"{module_file}.py"
            )
            self._handlers[logical] = getattr(module, attribute)
        bind_tables(settings())

    # ------------------------------------------------------------------ invocation
    def invoke(self, function_name: str, event: Any) -> tuple[Any, bool]:
        """Run the function's handler as Lambda would: an uncaught exception becomes an error payload
        whose errorType is the exception's class name, so Retry/Catch match on it."""
        logical = self._physical_to_logical.get(function_name.split(":")[-1], function_name)
        handler = self._handlers[logical]
        self.invocations.append((logical, clock.now().isoformat()))
        try:
            with self._one_at_a_time:
                return handler(event, FakeLambdaContext(function_name=logical)), False
        except Exception as e:  # noqa: BLE001 - the Lambda service boundary: every error becomes a payload
            return {
                "errorType": type(e).__name__,
                "errorMessage": str(e),
                "stackTrace": traceback.format_exception(e)[-3:],
            }, True

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Run code that touches the mocked services directly (a test, an operator command) while no
        function runs: moto's backends are not thread-safe."""
        with self._one_at_a_time:
            yield

    def _deliver(self, target: dict[str, Any], event: dict[str, Any]) -> None:
        """EventBridge to a Lambda or Step Functions target, with the rule's retries and dead-letter queue."""
        arn = target["Arn"]
        if arn.split(":")[2] == "states":
            self.client("stepfunctions").start_execution(stateMachineArn=arn, input=json.dumps(event))
            return
        attempts = 1 + int(target.get("RetryPolicy", {}).get("MaximumRetryAttempts", 185))
        for _ in range(attempts):
            payload, failed = self.invoke(arn.split(":")[6], event)
            if not failed:
                return
        dead_letter = target.get("DeadLetterConfig", {}).get("Arn")
        if dead_letter:
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=dead_letter.split(":")[-1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "ERROR_CODE": {"DataType": "String", "StringValue": str(payload.get("errorType"))},
                    "RULE_TARGET": {"DataType": "String", "StringValue": arn},
                },
            )

    # ------------------------------------------------------------------ what a user of the stack does
    def put_event(self, source: str, detail_type: str, detail: dict[str, Any]) -> None:
        self.client("events").put_events(
            Entries=[
                {
                    "Source": source,
                    "DetailType": detail_type,
                    "Detail": json.dumps(detail, ensure_ascii=False),
                    "EventBusName": self.outputs["CaseEventBusName"],
                }
            ]
        )

    def http(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> HttpResponse:
        """One request to the HttpApi, as API Gateway passes it to the route's function for the
        template's stage: ``path`` is the route's path (``/applications``; the event's rawPath is
        ``/dev/applications``), ``query`` the raw query string."""
        route, parameters = self._route(method.upper(), path)
        if route is None:
            return HttpResponse(404, {"message": "Not Found"}, {})
        raw_body = body if isinstance(body, str) or body is None else json.dumps(body, ensure_ascii=False)
        event = _http_event(
            method.upper(), path, query, route, parameters, raw_body, headers or {}, self.stage
        )
        payload, failed = self.invoke(route.function, event)
        if failed:
            return HttpResponse(500, {"message": "Internal Server Error"}, {})
        response_body = payload.get("body")
        try:
            parsed = json.loads(response_body) if response_body else None
        except ValueError:
            parsed = response_body
        return HttpResponse(int(payload.get("statusCode", 200)), parsed, payload.get("headers") or {})

    @property
    def stage(self) -> str:
        """The API stage the template deploys (its Stage parameter's default)."""
        return str(self.template.get("Parameters", {}).get("Stage", {}).get("Default", "$default"))

    def signed_http(
        self, partner: str, method: str, path: str, body: Any = None, query: str = ""
    ) -> HttpResponse:
        """A request signed as a partner system signs it: signature version 2 (method, path without
        the stage, canonical query string, body digest), the real time, a fresh nonce."""
        raw = body if isinstance(body, str) or body is None else json.dumps(body, ensure_ascii=False)
        headers = signed_headers_v2(
            partner, self.partner_secrets[partner], method, path, (raw or "").encode(), query
        )
        return self.http(method, path, raw, headers, query)

    def _route(self, method: str, path: str) -> tuple[Route | None, dict[str, str]]:
        for route in self.routes:
            pattern = "^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path) + "$"
            match = re.match(pattern, path)
            if match and route.method == method:
                return route, match.groupdict()
        return None, {}

    # ------------------------------------------------------------------ observing
    @property
    def state_machine_arn(self) -> str:
        return self.outputs["CaseStateMachineArn"]

    def execution_arn(self, case_id: str) -> str:
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{case_id}"

    def execution_status(self, case_id: str) -> str | None:
        client = self.client("stepfunctions")
        try:
            return str(client.describe_execution(executionArn=self.execution_arn(case_id))["status"])
        except client.exceptions.ExecutionDoesNotExist:
            return None

    def history(self, case_id: str) -> list[dict[str, Any]]:
        client = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        for page in client.get_paginator("get_execution_history").paginate(
            executionArn=self.execution_arn(case_id)
        ):
            events.extend(cast(list[dict[str, Any]], page["events"]))
        return events

    def queue_url(self, logical_id: str) -> str:
        return self.resources[logical_id]


def _cached_client_factory(create: Callable[..., Any]) -> Callable[..., Any]:
    """moto's interpreter builds a boto3 client for every Lambda task (milliseconds each); one per
    region and service serves them all, as clients are thread-safe. moto ignores the state's
    credentials, so they are not part of the key."""
    clients: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:
            if (region, service) not in clients:
                clients[(region, service)] = create(
                    region=region, service=service, state_credentials=state_credentials
                )
            return clients[(region, service)]

    return client_for


@contextmanager
def _quiet_moto_cloudformation() -> Iterator[None]:
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


def _copy_rule(rule: Rule, targets: list[dict[str, Any]]) -> Rule:
    clone = copy.copy(rule)
    clone.targets = targets
    return clone


def _empty_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README", "code runs in-process from the working tree")
    return buffer.getvalue()


def _load_module(name: str, path: Any) -> ModuleType:
    """Each function's app.py under its own module name: a plain ``import app`` would give every
    function the first one's code."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _http_event(
    method: str,
    path: str,
    query: str,
    route: Route,
    parameters: dict[str, str],
    body: str | None,
    headers: dict[str, str],
    stage: str = "$default",
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends for ``path`` on a stage: rawPath and http.path hold
    the stage (``/dev/applications``), the routeKey does not."""
    now = datetime.now(UTC)
    lower = {k.lower(): v for k, v in headers.items()}
    lower.setdefault("content-type", "application/json")
    raw_path = path if stage == "$default" else f"/{stage}{path}"
    return {
        "version": "2.0",
        "routeKey": f"{method} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "queryStringParameters": {k: ",".join(v) for k, v in parse_qs(query).items()} or None,
        "headers": lower,
        "pathParameters": parameters or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "zerovisit-local",
            },
            "requestId": str(uuid4()),
            "routeKey": f"{method} {route.path}",
            "stage": stage,
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "body": body,
        "isBase64Encoded": False,
    }


@contextmanager
def running() -> Iterator[LocalRuntime]:
    runtime = LocalRuntime().start()
    try:
        yield runtime
    finally:
        runtime.stop()


__all__ = ["ROOT", "HttpResponse", "LocalRuntime", "running"]
