"""The moto internals the local runtime replaces or reads, listed in one place.

moto 5.2.5 leaves these to the runtime (one, the parse of EventBridge's input paths, is the
jsonpath_ng 1.16.0 function moto imports at each call); an upgrade that moves one fails
tests/integration/test_moto_seams.py, loudly, instead of the runtime failing in a stranger way.
"""

import copy
import functools
import inspect
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jsonpath_ng.ext
import moto.core.responses as moto_responses
import moto.dynamodb.models as dynamodb_models
from moto.awslambda.models import LambdaFunction
from moto.cloudformation.models import cloudformation_backends
from moto.cloudformation.parsing import clean_json
from moto.core.serialize import JSONSerializer
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import StreamRecord, StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.events.models import EventPattern, Rule
from moto.kms.models import Key, kms_backends
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from zerovisit.clock import clock

# The moto internals this runtime replaces.
MOTO_SEAMS: dict[str, tuple[Any, str]] = {
    "lambda invoke": (LambdaFunction, "invoke"),
    "eventbridge delivery": (Rule, "send_to_targets"),
    "kms key from cloudformation": (Key, "create_from_cloudformation_json"),
    "retry wait": (retrier_decl, "time"),
    "interpreter lambda client": (lambda_eval_utils, "boto_client_for"),
    "interpreter json path": (json_path, "parse"),
    "interpreter result path": (result_path, "parse"),
    "interpreter program": (ExecutionWorker, "_get_evaluation_entrypoint"),
    "eventbridge input paths": (jsonpath_ng.ext, "parse"),
    "execution ended": (BaseExecutionWorkerCommunication, "terminated"),
    "response method names": (moto_responses, "method_names_from_class"),
    "dynamodb stream records": (StreamShard, "add"),
    "dynamodb transactions": (DynamoDBBackend, "transact_write_items"),
    "dynamodb transaction backup": (dynamodb_models, "copy"),
    "dynamodb query": (Table, "query"),
    "dynamodb all items": (Table, "all_items"),
    "dynamodb put item": (Table, "put_item"),
    "dynamodb delete item": (Table, "delete_item"),
    "dynamodb update item": (DynamoDBBackend, "update_item"),
    "dynamodb request": (DynamoHandler, "call_action"),
    "dynamodb transact request": (DynamoHandler, "transact_write_items"),
    "json response structures": (JSONSerializer, "_serialize_type_structure"),
    "tracked items": (Item, "instances_tracked"),
    "tracked stream records": (StreamRecord, "instances_tracked"),
    "tracked stream shards": (StreamShard, "instances_tracked"),
}
# As moto ships them, captured before any runtime patches them (the seam test reads these).
MOTO_ORIGINALS = {seam: inspect.getattr_static(owner, name) for seam, (owner, name) in MOTO_SEAMS.items()}
# Read, not replaced: the stack's resources, to fill the state machine's substitutions, and
# EventBridge's pattern matcher, for the stream mappings' filters.
MOTO_READS = {
    "cloudformation stacks": (cloudformation_backends, "__getitem__"),
    "cloudformation intrinsics": (clean_json, "__call__"),
    "event patterns": (EventPattern, "load"),
    "definition parser": (AmazonStateLanguageParser, "parse"),
}


class ClockTime:
    """Stands in for the ``time`` module in moto's retrier: waits advance the domain clock."""

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

    @staticmethod
    def sleep(seconds: float) -> None:
        clock.advance(timedelta(seconds=seconds))


def cached_client_factory(create: Callable[..., Any]) -> Callable[..., Any]:
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


def cached_parse(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """moto's interpreter parses each JSONPath again on every state it runs, and EventBridge its
    eight input paths on every delivery to a queue; jsonpath_ng builds a new parser for each parse
    (about a millisecond). A parsed path is never changed, so one per path serves every use."""
    return functools.lru_cache(maxsize=4096)(parse)


def cached_method_names(names: Callable[[object], list[str]]) -> Callable[[object], list[str]]:
    """moto lists a response class's methods (``inspect.getmembers``, a fifth of a millisecond) on
    every request, to find the action's handler. The runtime replaces methods but adds none, so one
    list per class serves every request; each caller gets its own copy."""
    cached = functools.lru_cache(maxsize=256)(names)

    def method_names(clazz: object) -> list[str]:
        return list(cached(clazz))

    return method_names


def cached_program(
    parse: Callable[[str], tuple[Any, Any]] = AmazonStateLanguageParser.parse,
) -> Callable[[ExecutionWorker], Any]:
    """moto's interpreter parses the definition again for every execution (about 100 ms for the
    case state machine, a sixth of a case). The tree it builds keeps no execution's state: each
    execution evaluates it in its own Environment, as moto's Map and Parallel already run one
    tree on several threads. So one program per definition serves every execution."""

    @functools.lru_cache(maxsize=64)
    def program(definition: str) -> Any:
        return parse(definition)[0]

    def entrypoint(worker: ExecutionWorker) -> Any:
        return program(worker._evaluation_details.state_machine_details.definition)

    return entrypoint


def then(original: Callable[..., None], after: Callable[[], None]) -> Callable[..., None]:
    """``original``, then ``after``, even when ``original`` raises: what the runtime notes once moto
    has done its part."""

    def both(*args: Any, **kwargs: Any) -> None:
        try:
            original(*args, **kwargs)
        finally:
            after()

    return both


def key_from_cloudformation(
    cls: type,
    /,
    resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
    **kw: Any,
) -> Key:
    """A KMS key with the KeySpec and KeyUsage the template asks for (moto makes every one symmetric)."""
    properties = cloudformation_json["Properties"]
    return kms_backends[account_id][region_name].create_key(
        policy=json.dumps(properties.get("KeyPolicy")) if properties.get("KeyPolicy") else None,
        key_usage=properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        key_spec=properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
        description=properties.get("Description", ""),
        tags=properties.get("Tags", []),
    )


def copy_rule(rule: Rule, targets: list[dict[str, Any]]) -> Rule:
    clone = copy.copy(rule)
    clone.targets = targets
    return clone


def method(bound: Callable[..., Any]) -> Callable[..., Any]:
    """A bound method of a runtime object, made to stand as a method of a moto class: the moto
    instance comes first."""

    def replacement(instance: Any, *args: Any, **kwargs: Any) -> Any:
        return bound(instance, *args, **kwargs)

    return replacement


class Patches:
    """Replaced moto members, put back in reverse order."""

    def __init__(self) -> None:
        self._saved: list[tuple[Any, str, Any]] = []

    def patch(self, owner: Any, name: str, replacement: Any) -> None:
        self._saved.append((owner, name, inspect.getattr_static(owner, name)))
        setattr(owner, name, replacement)

    def undo(self) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()
