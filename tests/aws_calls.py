"""Records the AWS actions each function's code really calls on the local runtime, as IAM names them.

Every call a handler makes goes through botocore's ``BaseClient._make_api_call`` (pynamodb's too);
the runtime's ``invoke`` tells which function is running on this thread.
"""

import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.client import BaseClient
from zerovisit.storage import calendar, catalog

from infra.local.runtime import LocalRuntime

IAM_PREFIX = {"stepfunctions": "states", "dynamodbstreams": "dynamodb"}
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}
IAM_ACTION = {"lambda:Invoke": "lambda:InvokeFunction"}  # where IAM's name is not the API's
STATE_MACHINE = "CaseStateMachine"  # task tokens belong to the one state machine


class CallRecorder:
    """``uses[function]`` is a set of ``"service:Action Resource"`` strings, Resource a logical id
    (``CasesTable/index/ByApplicant`` for an index)."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime
        self.uses: dict[str, set[str]] = defaultdict(set)
        self._running = threading.local()
        self._logical = {physical: logical for logical, physical in runtime.resources.items()}
        # outputs name resources too: CaseEventBusName is the CaseEventBus's name
        for key, value in runtime.outputs.items():
            for suffix in ("Name", "Arn", "Url"):
                if key.endswith(suffix) and key.removesuffix(suffix) in runtime.resources:
                    self._logical.setdefault(value, key.removesuffix(suffix))

    def _resource(self, value: str) -> str:
        for candidate in (value, value.split(":")[-1], value.split("/")[-1]):
            if candidate in self._logical:
                return self._logical[candidate]
        return value

    def _actions(self, service: str, operation: str, params: dict[str, Any]) -> Iterator[str]:
        prefix = IAM_PREFIX.get(service, service)
        if service == "dynamodb":
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    ((kind, body),) = item.items()
                    yield f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]} {self._resource(body['TableName'])}"
                return
            if operation in ("BatchGetItem", "BatchWriteItem"):
                for table in params["RequestItems"]:
                    yield f"dynamodb:{operation} {self._resource(table)}"
                return
            table = self._resource(params["TableName"])
            index = params.get("IndexName")
            yield f"dynamodb:{operation} {table}/index/{index}" if index else f"dynamodb:{operation} {table}"
            return
        action = IAM_ACTION.get(f"{prefix}:{operation}", f"{prefix}:{operation}")
        yield f"{action} {self._other_resource(service, params)}"

    def _other_resource(self, service: str, params: dict[str, Any]) -> str:
        if service == "stepfunctions":
            return STATE_MACHINE
        if service == "secretsmanager":
            return "PartnerSecrets"
        if service == "events":
            return self._resource(params["Entries"][0]["EventBusName"])
        named_by = {
            "kms": "KeyId",
            "sns": "TopicArn",
            "sqs": "QueueUrl",
            "s3": "Bucket",
            "lambda": "FunctionName",
        }.get(service)
        return self._resource(str(params[named_by])) if named_by else "*"

    @contextmanager
    def recording(self) -> Iterator["CallRecorder"]:
        recorder = self
        original_call = getattr(BaseClient, "_make_api_call")  # noqa: B009 - private, untyped
        original_invoke = self.runtime.invoke

        def make_api_call(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            function = getattr(recorder._running, "function", None)
            if function is not None:
                service = client.meta.service_model.service_name
                recorder.uses[function].update(recorder._actions(service, operation, params))
            return original_call(client, operation, params)

        def invoke(function_name: str, event: Any) -> tuple[Any, bool]:
            logical = recorder._resource(function_name)
            outer = getattr(recorder._running, "function", None)
            recorder._running.function = logical
            _as_cold_start()
            try:
                return original_invoke(function_name, event)
            finally:
                recorder._running.function = outer

        setattr(BaseClient, "_make_api_call", make_api_call)  # noqa: B010
        self.runtime.invoke = invoke  # type: ignore[method-assign]
        try:
            yield self
        finally:
            setattr(BaseClient, "_make_api_call", original_call)  # noqa: B010
            del self.runtime.invoke


def _as_cold_start() -> None:
    """Each Lambda environment reads the catalog, the stored schedules and the partner secrets on its
    own; in one local process the first function would read them for all, so forget them before every
    invocation."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    catalog.forget_matters()
    calendar._last_refresh = -float("inf")
