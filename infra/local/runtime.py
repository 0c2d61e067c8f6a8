"""ZeroVisit's own template, run locally on moto in one process, with no Docker.

The runtime translates template.yaml with aws-sam-translator, creates the stack
with moto's CloudFormation, runs the real ASL with moto's interpreter, and runs
each function's real handler in-process. What moto 5.2.5 leaves to it, each a patch
listed in ``MOTO_SEAMS`` (infra/local/seams.py) and guarded by tests/integration/test_moto_seams.py:

- Lambda invocation (``LambdaFunction.invoke``): the real handler, not Docker, with injected
  faults (infra/local/faults.py); an asynchronous one (``InvocationType=Event``) is queued and run
  when the invoking function has returned, retried as Lambda retries a failed asynchronous event;
- EventBridge rules with Lambda or Step Functions targets, which moto does not deliver;
- DynamoDB streams to Lambda, with the mapping's filter, batches, retries and on-failure
  destination (infra/local/streams.py);
- DynamoDB that holds a load run and concurrent callers (infra/local/dynamodb.py);
- KMS keys from CloudFormation, which moto creates symmetric whatever KeySpec says;
- the retrier's wait between attempts, which advances the domain clock instead of sleeping;
- the interpreter's parsing, cached: JSONPaths by their text, and a state machine's program by its
  definition, which moto would otherwise parse again for every execution; EventBridge's input
  paths by their text, and a response class's method names, which moto lists on every request;
- the end of an execution, counted with every delivery to a target other than a function or a
  state machine in ``activity``, which a driver such as the partner simulator waits on.

HttpApi routes are served by ``http()``, since moto does not create ApiGatewayV2 resources.
"""

import json
import os
import re
import secrets
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs
from uuid import uuid4

import boto3
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID as ACCOUNT
from moto.events.models import Rule
from zerovisit.adapters import aws
from zerovisit.catalog_files import read_catalog_files
from zerovisit.clock import clock
from zerovisit.domain.catalog import Matter
from zerovisit.domain.signature import signed_headers_v2
from zerovisit.errors import CaseNotFound
from zerovisit.storage.cases import get_case
from zerovisit.storage.catalog import put_divisions, put_matters
from zerovisit.storage.tables import bind_tables

import infra.local.dynamodb as local_dynamodb
from infra.local.context import FakeLambdaContext
from infra.local.faults import Faults
from infra.local.seams import (
    MOTO_ORIGINALS,
    MOTO_READS,
    MOTO_SEAMS,
    ClockTime,
    Patches,
    cached_client_factory,
    cached_method_names,
    cached_parse,
    cached_program,
    copy_rule,
    key_from_cloudformation,
    method,
    then,
)
from infra.local.stack import REGION, Schedule, create_stack, find_schedules, load_module
from infra.local.streams import StreamDelivery
from infra.local.template import (
    LAMBDA_DEFAULT_TIMEOUT,
    ROOT,
    FunctionSpec,
    Route,
    functions,
    http_routes,
    load_template,
)

CATALOG_DIR = ROOT / "infra" / "catalog"
SECRETS_FILE = ROOT / ".local" / "partner-secrets.json"
# Partners that are not departments of any catalog matter.
FIXED_PARTNERS = ("service-network", "payment-platform", "ems", "supervision", "operations")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})
ASYNC_RETRIES = 2  # Lambda's retries of a failed asynchronous invocation, unless configured

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str]


class Activity:
    """What a driver of the runtime waits for, counted: an event delivered to a target other than a
    function or a state machine (a queue), an execution ended. The partner simulator waits for the
    next one, at most a bounded time, instead of looking at a fixed pace."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    def note(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    @property
    def count(self) -> int:
        with self._changed:
            return self._count

    def wait_after(self, seen: int, timeout: float) -> int:
        """Wait until something is noted after ``seen`` (a count read before the caller looked), or
        for ``timeout`` seconds; returns the count."""
        with self._changed:
            self._changed.wait_for(lambda: self._count != seen, timeout)
            return self._count


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
        # each function's timeout, from the template: what its context's remaining time counts down
        self.timeouts = {name: spec.timeout_seconds for name, spec in self.functions.items()}
        self._later: deque[tuple[str, dict[str, Any]]] = deque()
        self._later_lock = threading.Lock()
        self._running_later = threading.local()
        self._handlers: dict[str, Handler] = {}
        self._idle: dict[str, list[int]] = {}
        self._loaded: dict[str, Handler] = {}
        self._extra_environments: dict[str, list[Handler]] = {}
        self._environments_lock = threading.Lock()
        # Functions run one at a time, as if each had a reserved concurrency of one, unless a caller
        # asks for concurrency (``concurrently()``); DynamoDB requests are atomic either way.
        self._one_at_a_time = threading.RLock()
        self.concurrent = False
        self._depth = threading.local()
        self.faults = Faults(set(self.functions))
        self.activity = Activity()
        # late-bound, so that a wrapper of invoke (a test recording calls) sees the relay too
        self.streams = StreamDelivery(lambda arn, event: self.invoke(arn, event), self._send_to_destination)
        self.schedules: list[Schedule] = []
        self._physical_to_logical: dict[str, str] = {}
        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._patches = Patches()
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
        self.resources, self.outputs = create_stack(self.template, self.client)
        for logical in self.functions:
            self._physical_to_logical[self.resources[logical]] = logical
        self.schedules = find_schedules(self.client("events"))
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
        matters, divisions = read_catalog_files(directory.glob("*.yaml"))
        put_matters(matters)
        put_divisions(divisions)
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

    def silence_metrics(self) -> None:
        """Print no EMF lines (the step and overdue metrics CloudWatch would read from the functions'
        logs), for a command whose own output is the point; until the runtime stops."""
        self._set_env("POWERTOOLS_METRICS_DISABLED", "true")

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))  # type: ignore[arg-type]
        os.environ[name] = value

    # ------------------------------------------------------------------ moto seams
    def _replace(self, seam: str, replacement: Any) -> None:
        owner, name = MOTO_SEAMS[seam]
        self._patches.patch(owner, name, replacement)

    def _unpatch_moto(self) -> None:
        self._patches.undo()

    def _patch_moto(self) -> None:
        runtime = self

        def invoke(function: Any, body: Any, request_headers: Any, response_headers: Any) -> Any:
            event = json.loads(body) if body else {}
            if _invocation_type(request_headers) == "Event":
                runtime._invoke_later(function.function_name, event)
                return ""
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
                others = copy_rule(rule, [t for t in rule.targets if t not in own])
                original_delivery(others, event, transform_input)
                runtime.activity.note()
            for target in own:
                runtime._deliver(target, event)

        self._replace("lambda invoke", invoke)
        self._replace("eventbridge delivery", send_to_targets)
        self._replace("kms key from cloudformation", classmethod(key_from_cloudformation))
        self._replace("retry wait", ClockTime())
        create_client = MOTO_ORIGINALS["interpreter lambda client"]
        self._replace("interpreter lambda client", cached_client_factory(create_client))
        self._replace("interpreter json path", cached_parse(MOTO_ORIGINALS["interpreter json path"]))
        self._replace("interpreter result path", cached_parse(MOTO_ORIGINALS["interpreter result path"]))
        self._replace("interpreter program", cached_program())
        self._replace("execution ended", then(MOTO_ORIGINALS["execution ended"], self.activity.note))
        self._replace("eventbridge input paths", cached_parse(MOTO_ORIGINALS["eventbridge input paths"]))
        self._replace("response method names", cached_method_names(MOTO_ORIGINALS["response method names"]))
        self._patch_dynamodb()

    def _patch_dynamodb(self) -> None:
        partitions = local_dynamodb.IndexPartitions()
        transactions = local_dynamodb.Transactions(
            MOTO_ORIGINALS["dynamodb transactions"], self.streams.enqueue, partitions.written
        )
        self.streams.transaction_buffer = transactions.buffer
        query = local_dynamodb.PartitionQuery(
            MOTO_ORIGINALS["dynamodb query"], MOTO_ORIGINALS["dynamodb all items"], partitions
        )
        requests = local_dynamodb.RequestLock(MOTO_ORIGINALS["dynamodb request"])
        idempotent = local_dynamodb.IdempotentTransactions(MOTO_ORIGINALS["dynamodb transact request"])
        self._replace("dynamodb stream records", method(self.streams.record))
        self._replace("dynamodb transactions", method(transactions.transact_write_items))
        self._replace("dynamodb transaction backup", local_dynamodb.TableKeepingCopy())
        self._replace("dynamodb query", method(query.query))
        self._replace("dynamodb all items", method(query.all_items))
        self._replace("dynamodb put item", partitions.kept_by_put(MOTO_ORIGINALS["dynamodb put item"]))
        self._replace(
            "dynamodb delete item", partitions.kept_by_delete(MOTO_ORIGINALS["dynamodb delete item"])
        )
        self._replace(
            "dynamodb update item", partitions.kept_by_update(MOTO_ORIGINALS["dynamodb update item"])
        )
        self._replace("dynamodb request", method(requests.call_action))
        self._replace(
            "json response structures",
            local_dynamodb.attribute_values_written_directly(MOTO_ORIGINALS["json response structures"]),
        )
        self._replace("dynamodb transact request", method(idempotent.transact_write_items))
        for seam in ("tracked items", "tracked stream records", "tracked stream shards"):
            self._replace(seam, local_dynamodb.UntrackedInstances())

    # ------------------------------------------------------------------ stack
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
            module = load_module(
                f"zerovisit_function_{spec.code_dir.name}", spec.code_dir / f"{module_file}.py"
            )
            self._handlers[logical] = getattr(module, attribute)
            self._idle[logical] = [0]
            self._loaded[logical] = self._handlers[logical]
        bind_tables(settings())

    @contextmanager
    def _environment(self, logical: str) -> Iterator[Handler]:
        """An execution environment of the function for one invocation: Lambda runs one request at a
        time in an environment and starts another for a concurrent one, so a concurrent call gets
        its own copy of the handler's module (its own module-level state, as a new cold start)."""
        if self._handlers[logical] is not self._loaded[logical]:
            yield self._handlers[logical]  # a stand-in a test installed: plain code, no module state
            return
        with self._environments_lock:
            idle = self._idle[logical]
            if idle:
                environment = idle.pop()
            else:
                spec = self.functions[logical]
                module_file, attribute = spec.handler.rsplit(".", 1)
                environment = len(self._extra_environments.setdefault(logical, [])) + 1
                name = f"zerovisit_function_{spec.code_dir.name}_{environment + 1}"
                module = load_module(name, spec.code_dir / f"{module_file}.py")
                self._extra_environments[logical].append(getattr(module, attribute))
        try:
            # environment 0 is the function's first, the one tests may replace in ``_handlers``
            yield (
                self._handlers[logical]
                if environment == 0
                else self._extra_environments[logical][environment - 1]
            )
        finally:
            with self._environments_lock:
                self._idle[logical].append(environment)

    # ------------------------------------------------------------------ invocation
    def invoke(self, function_name: str, event: Any) -> tuple[Any, bool]:
        """Run the function's handler as Lambda would: an uncaught exception becomes an error payload
        whose errorType is the exception's class name, so Retry/Catch match on it. An injected fault
        (``faults``) fails the invocation before or after the handler runs. When the outermost
        invocation on a thread returns, the stream records its writes queued are delivered, then
        the asynchronous invocations it queued run. The handler's context counts its remaining
        time down from the function's timeout (``timeouts``) on the domain clock."""
        logical = self._physical_to_logical.get(function_name.split(":")[-1], function_name)
        self.invocations.append((logical, clock.now().isoformat()))
        depth = getattr(self._depth, "value", 0)
        self._depth.value = depth + 1
        try:
            fault = self.faults.take(logical)
            if fault is not None and fault.when == "before":
                return fault.payload(), True
            with self._handler_slot(), self._environment(logical) as handler:
                try:
                    context = FakeLambdaContext(
                        function_name=self.resources.get(logical, logical),
                        timeout_seconds=self.timeouts.get(logical, LAMBDA_DEFAULT_TIMEOUT),
                    )
                    result = handler(event, context)
                except Exception as e:  # noqa: BLE001 - the Lambda service boundary: every error becomes a payload
                    return {
                        "errorType": type(e).__name__,
                        "errorMessage": str(e),
                        "stackTrace": traceback.format_exception(e)[-3:],
                    }, True
            if fault is not None:
                return fault.payload(), True
            return result, False
        finally:
            self._depth.value = depth
            if depth == 0:
                self.streams.drain()
                self._run_later()

    def _invoke_later(self, function_name: str, event: dict[str, Any]) -> None:
        """An asynchronous invocation: Lambda queues the event and answers at once; it runs once the
        invoking function has returned (at once if no function invoked it)."""
        with self._later_lock:
            self._later.append((function_name, event))
        if getattr(self._depth, "value", 0) == 0:
            self._run_later()

    def _run_later(self) -> int:
        """Run the queued asynchronous invocations in order, each retried as Lambda retries a failed
        asynchronous event (``MaximumRetryAttempts`` of its EventInvokeConfig, 2 by default), then
        dropped; one that queues another is followed by it here, not nested inside it. Returns the
        invocations made."""
        if getattr(self._running_later, "active", False):
            return 0
        self._running_later.active = True
        made = 0
        try:
            while True:
                with self._later_lock:
                    if not self._later:
                        return made
                    function_name, event = self._later.popleft()
                for _ in range(1 + self._async_retries(function_name)):
                    made += 1
                    if not self.invoke(function_name, event)[1]:
                        break
        finally:
            self._running_later.active = False

    def _async_retries(self, function_name: str) -> int:
        logical = self._physical_to_logical.get(function_name.split(":")[-1], function_name)
        resource = self.template["Resources"].get(logical, {})
        config = resource.get("Properties", {}).get("EventInvokeConfig", {})
        return int(config.get("MaximumRetryAttempts", ASYNC_RETRIES))

    def drain(self) -> int:
        """Deliver the stream records queued by writes made outside any function (a test, an
        operator command), waiting for a delivery another thread has begun; returns the
        invocations it made."""
        return self.streams.drain(wait=True)

    def settle(self) -> int:
        """End one scenario before the next: stop every execution still running, deliver what the
        stream holds and empty the partner task queue, so that nothing of one scenario answers,
        advances the clock or writes in the next. Returns the executions stopped."""
        sfn = self.client("stepfunctions")
        stopped = 0
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn, statusFilter="RUNNING"
        ):
            for execution in page["executions"]:
                try:
                    sfn.stop_execution(executionArn=execution["executionArn"], cause="scenario ended")
                except AttributeError:  # moto 5.2.5 cannot stop an execution whose worker has not started
                    continue
                stopped += 1
        self.drain()
        sqs, url = self.client("sqs"), self.outputs["PartnerTaskQueueUrl"]
        # one message at most per receipt handle; a stopped scenario sends nothing more, so this ends
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for message in messages:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return stopped

    def _handler_slot(self) -> Any:
        return nullcontext() if self.concurrent else self._one_at_a_time

    @contextmanager
    def concurrently(self) -> Iterator[None]:
        """Let handlers run at the same time, as Lambda runs them; each DynamoDB request stays atomic,
        as in DynamoDB, so conditional writes are what keeps concurrent handlers consistent."""
        previous = self.concurrent
        self.concurrent = True
        try:
            yield
        finally:
            self.concurrent = previous

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Run code that touches the mocked services directly (a test, an operator command) while no
        function runs (outside ``concurrently()``): moto's backends are not thread-safe."""
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

    def _send_to_destination(self, arn: str, record: dict[str, Any]) -> None:
        """An invocation record to an on-failure destination: an SQS queue or an SNS topic."""
        body = json.dumps(record)
        if arn.split(":")[2] == "sns":
            self.client("sns").publish(TopicArn=arn, Message=body)
            return
        sqs = self.client("sqs")
        sqs.send_message(
            QueueUrl=sqs.get_queue_url(QueueName=arn.split(":")[-1])["QueueUrl"], MessageBody=body
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
        """The case's current execution: the first is named after the case, a resumed case runs a
        new one whose name the case record holds."""
        try:
            name = get_case(case_id).execution_name
        except CaseNotFound:
            name = case_id
        return f"{self.state_machine_arn.replace(':stateMachine:', ':execution:')}:{name}"

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


def _invocation_type(request_headers: Any) -> str:
    """The Invoke request's X-Amz-Invocation-Type (header names are case-insensitive)."""
    found = (value for name, value in request_headers.items() if name.lower() == "x-amz-invocation-type")
    return str(next(found, "RequestResponse"))


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


__all__ = [
    "MOTO_ORIGINALS",
    "MOTO_READS",
    "MOTO_SEAMS",
    "REGION",
    "ROOT",
    "HttpResponse",
    "LocalRuntime",
    "running",
]
