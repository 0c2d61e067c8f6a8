"""The moto internals the local runtime relies on. A moto upgrade that moves one fails here,
loudly, instead of the local runtime failing in some stranger way."""

import inspect
import json
import re
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from moto.cloudformation.parsing import clean_json
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from infra.local import runtime


def test_moto_is_the_pinned_version() -> None:
    assert version("moto") == "5.2.5", "the local runtime was checked against moto 5.2.5: re-check the seams"


def test_jsonpath_ng_is_the_pinned_version() -> None:
    """Parsed paths are shared between uses: checked against 1.16.0, whose expressions evaluating
    never changes."""
    assert version("jsonpath-ng") == "1.16.0", "re-check that a parsed jsonpath_ng path is never changed"


@pytest.mark.parametrize("seam", sorted(runtime.MOTO_SEAMS))
def test_each_replaced_member_is_still_there(seam: str) -> None:
    owner, name = runtime.MOTO_SEAMS[seam]
    assert hasattr(owner, name), f"moto moved {seam}: {owner!r}.{name}"


def original(seam: str) -> Any:
    member = runtime.MOTO_ORIGINALS[seam]
    return member.__func__ if isinstance(member, classmethod) else member


def test_lambda_invoke_keeps_its_signature() -> None:
    parameters = list(inspect.signature(original("lambda invoke")).parameters)
    assert parameters == ["self", "body", "request_headers", "response_headers"]


def test_an_asynchronous_invoke_still_reaches_the_function_with_its_request_headers() -> None:
    """moto runs an InvocationType=Event invoke through the same ``LambdaFunction.invoke``, at once,
    with the request's headers; the runtime's seam reads the type there and queues the event. If
    moto starts queueing by itself, or stops passing the headers, the seam would run it wrongly."""
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda.responses import LambdaResponse

    assert "x-amz-invocation-type" in inspect.getsource(original("lambda invoke"))
    assert "fn.invoke(body, headers, response_headers)" in inspect.getsource(LambdaBackend.invoke)
    response = inspect.getsource(LambdaResponse.invoke)
    assert "self.backend.invoke(" in response
    assert "self.headers" in response


def test_eventbridge_delivery_keeps_its_signature_and_rejects_lambda_targets() -> None:
    parameters = list(inspect.signature(original("eventbridge delivery")).parameters)
    assert parameters[:3] == ["self", "original_event", "transform_input"]
    # moto itself still does not deliver to Lambda targets; if it starts to, the runtime's
    # delivery would run handlers twice.
    assert "NotImplementedError" in inspect.getsource(original("eventbridge delivery"))


def test_kms_cloudformation_still_ignores_the_key_spec() -> None:
    source = inspect.getsource(original("kms key from cloudformation"))
    assert 'key_spec="SYMMETRIC_DEFAULT"' in source, "moto now honours KeySpec: the KMS patch can go"


def test_the_retrier_still_waits_with_time_sleep() -> None:
    source = inspect.getsource(retrier_decl.RetrierDecl)
    assert original("retry wait") is time
    assert "time.sleep(interval_seconds)" in source


def test_cloudformation_state_machines_still_land_outside_the_interpreter() -> None:
    from moto.stepfunctions import models

    source = inspect.getsource(models.StateMachine.create_from_cloudformation_json)
    assert "stepfunctions_backends[account_id][region_name]" in source
    assert "DefinitionSubstitutions" not in source


def test_the_stack_internals_read_are_there() -> None:
    assert list(inspect.signature(clean_json).parameters) == ["resource_json", "resources_map"]
    from moto.cloudformation.models import Stack

    assert "resource_map" in inspect.getsource(Stack.__init__)


def test_the_runtime_puts_back_what_it_replaced() -> None:
    def current() -> dict[str, object]:
        return {
            seam: inspect.getattr_static(owner, name) for seam, (owner, name) in runtime.MOTO_SEAMS.items()
        }

    originals = current()
    local = runtime.LocalRuntime()
    local._patch_moto()
    patched = current()
    local._unpatch_moto()

    assert all(patched[seam] is not originals[seam] for seam in originals)
    assert all(value is originals[seam] for seam, value in current().items())


def test_the_interpreter_still_asks_for_a_lambda_client_by_region_and_service() -> None:
    parameters = list(inspect.signature(original("interpreter lambda client")).parameters)
    assert parameters == ["region", "service", "state_credentials"]


def test_moto_still_sends_stream_records_from_inside_the_write() -> None:
    """moto sends a shard's records to the mapped functions from StreamShard.add, during the write;
    the runtime queues them instead. If moto stops, the seam may be gone or doubled."""
    assert list(inspect.signature(original("dynamodb stream records")).parameters) == ["self", "old", "new"]
    source = inspect.getsource(original("dynamodb stream records"))
    assert "send_dynamodb_items" in source
    assert "lambda_event_source_mappings" in source


def test_the_event_source_mapping_keeps_the_settings_the_stream_delivery_reads() -> None:
    from moto.awslambda.models import EventSourceMapping
    from moto.dynamodb.models.table import Table

    source = inspect.getsource(EventSourceMapping.__init__)
    for attribute in (
        "self.batch_size",
        "self.bisect_on_error",
        "self.destination_config",
        "self.filter_criteria",
        "self.function_response_types",
        "self.max_retry_attempts",
        "self.function_arn",
        "self.uuid",
    ):
        assert attribute in source, attribute
    assert "self.lambda_event_source_mappings" in inspect.getsource(Table.__init__)
    assert "stream_shard.add(" in inspect.getsource(original("dynamodb put item"))


def test_the_event_pattern_matcher_is_there() -> None:
    from moto.events.models import EventPattern

    pattern = EventPattern.load(
        '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"kind": {"S": ["outbox"]}}}}'
    )
    inserted: Any = {"eventName": "INSERT", "dynamodb": {"NewImage": {"kind": {"S": "outbox"}}}}
    assert pattern.matches_event(inserted)
    modified: Any = {**inserted, "eventName": "MODIFY"}
    assert not pattern.matches_event(modified)


def test_transactions_still_back_up_whole_tables_through_copy_deepcopy() -> None:
    """The runtime makes moto's whole-table copy a no-op (``copy`` in moto's DynamoDB models) and keeps
    its own backup of the touched items; that holds only while moto backs up and restores by table."""
    import copy as copy_module

    source = inspect.getsource(original("dynamodb transactions"))
    assert "original_table_state[table_name] = copy.deepcopy(" in source
    assert "self.tables[table_name] = original_table_state[table_name]" in source
    assert original("dynamodb transaction backup") is copy_module
    assert list(inspect.signature(original("dynamodb transactions")).parameters) == ["self", "transact_items"]


def test_a_query_still_walks_all_items_and_sorts_what_matches() -> None:
    parameters = list(inspect.signature(original("dynamodb query")).parameters)
    assert parameters[:2] == ["self", "hash_key"]
    assert "index_name" in parameters
    source = inspect.getsource(original("dynamodb query"))
    assert "for item in self.all_items()" in source
    assert "item.hash_key == hash_key" in source
    # an index query's candidates are sorted after the walk, so the walk may read them unsorted
    assert "possible_results = self.sorted_items(" in source
    assert list(inspect.signature(original("dynamodb all items")).parameters) == ["self"]


def test_every_change_of_an_item_ends_in_the_calls_the_index_partitions_follow() -> None:
    """The index partitions are kept by ``Table.put_item``, ``Table.delete_item`` and the backend's
    ``update_item`` (which changes an item in place). If moto starts writing items another way, an
    index query would miss them."""
    from moto.dynamodb.models import DynamoDBBackend

    backend = inspect.getsource(DynamoDBBackend)
    writes = re.findall(r"table\.(put_item|delete_item)\(", backend)
    assert set(writes) == {"put_item", "delete_item"}
    assert "item.update_with_attribute_updates(" in inspect.getsource(original("dynamodb update item"))
    assert "UpdateExpressionExecutor(" in inspect.getsource(original("dynamodb update item"))
    transactions = inspect.getsource(original("dynamodb transactions"))
    for write in ("self.put_item(", "self.delete_item(", "self.update_item("):
        assert write in transactions, write
    # nothing else in moto's DynamoDB assigns into a table's items
    package = Path(inspect.getfile(DynamoDBBackend)).parent
    assigners = sorted(
        f"{path.name}:{line}"
        for path in package.rglob("*.py")
        for line in path.read_text().splitlines()
        if re.search(r"\.items\[[^]]+\](\[[^]]+\])? = ", line)
    )
    assert assigners == [
        "table.py:            self.items[hash_value] = item  # type: ignore[assignment]",
        "table.py:            self.items[hash_value][range_value] = item",
    ]
    assert list(inspect.signature(original("dynamodb delete item")).parameters) == [
        "self",
        "hash_key",
        "range_key",
    ]
    assert list(inspect.signature(original("dynamodb update item")).parameters)[:3] == [
        "self",
        "table_name",
        "key",
    ]


def test_json_responses_still_serialize_each_structure_through_one_method() -> None:
    """The runtime writes DynamoDB's AttributeValue structures itself, from the method moto's JSON
    serializer calls for every structure; test_local_dynamodb.py checks the bodies are the same."""
    from moto.core.serialize import BaseJSONSerializer, ResponseSerializer

    parameters = list(inspect.signature(original("json response structures")).parameters)
    assert parameters == ["self", "serialized", "value", "shape", "key"]
    assert 'f"_serialize_type_{shape.type_name}"' in inspect.getsource(ResponseSerializer._serialize)
    assert "self._default_serialize(serialized, wrapper, shape, key)" in inspect.getsource(
        ResponseSerializer._serialize_type_structure
    )
    assert original("json response structures") is BaseJSONSerializer._serialize_type_structure


def test_each_dynamodb_request_goes_through_call_action() -> None:
    from moto.core.responses import BaseResponse

    assert list(inspect.signature(original("dynamodb request")).parameters) == ["self"]
    assert "self.call_action()" in inspect.getsource(BaseResponse._dispatch)


def test_moto_still_ignores_a_transactions_client_request_token() -> None:
    """The runtime answers a repeated token itself; moto reads only the items from the request."""
    source = inspect.getsource(original("dynamodb transact request"))
    assert list(inspect.signature(original("dynamodb transact request")).parameters) == ["self"]
    assert 'transact_items = self.body["TransactItems"]' in source
    assert "ClientRequestToken" not in source
    assert "ClientRequestToken" not in inspect.getsource(original("dynamodb transactions"))


def test_the_instance_tracker_still_appends_every_model_instance() -> None:
    from moto.core.common_models import BaseModel

    assert "cls.instances_tracked.append(instance)" in inspect.getsource(BaseModel.__new__)
    for seam in ("tracked items", "tracked stream records", "tracked stream shards"):
        assert isinstance(original(seam), list)


def test_the_interpreter_parses_json_paths_with_jsonpath_ng() -> None:
    """Parsed paths are cached by their text; that holds while they are jsonpath_ng expressions,
    which evaluating never changes."""
    import jsonpath_ng
    import jsonpath_ng.ext.parser

    # jsonpath_ng.ext's own attribute is a seam too ("eventbridge input paths"): its module's function
    assert original("interpreter json path") is jsonpath_ng.ext.parser.parse
    assert original("interpreter result path") is jsonpath_ng.parse  # type: ignore[attr-defined]
    from moto.stepfunctions.parser.asl.utils import json_path

    assert "input_expr = parse(path)" in inspect.getsource(json_path)


def test_the_interpreter_builds_an_executions_program_from_its_definition_alone() -> None:
    """The program is cached by the definition's text; that holds while moto builds it from the
    definition and nothing else, and evaluates it in the execution's own Environment."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    source = inspect.getsource(original("interpreter program"))
    assert "AmazonStateLanguageParser.parse(" in source
    assert "self._evaluation_details.state_machine_details.definition" in source
    logic = inspect.getsource(ExecutionWorker._execution_logic)
    assert "program = self._get_evaluation_entrypoint()" in logic
    assert "self.env = self._get_evaluation_environment()" in logic


def test_one_program_serves_every_execution_of_a_definition() -> None:
    from types import SimpleNamespace

    from infra.local.seams import cached_program

    def worker(definition: str) -> Any:
        details = SimpleNamespace(state_machine_details=SimpleNamespace(definition=definition))
        return SimpleNamespace(_evaluation_details=details)

    def definition(state: str) -> str:
        return json.dumps({"StartAt": state, "States": {state: {"Type": "Succeed"}}})

    entrypoint = cached_program()
    first, again = entrypoint(worker(definition("Done"))), entrypoint(worker(definition("Done")))
    other = entrypoint(worker(definition("Finished")))

    assert first is again
    assert other is not first
    assert type(first).__name__ == "Program"


def test_eventbridge_still_parses_each_input_path_with_jsonpath_ng_at_every_delivery() -> None:
    """The parse is cached by the path's text, through jsonpath_ng.ext's module attribute, which
    moto's template parser imports at each call."""
    from moto.events.utils import EventTemplateParser

    assert original("eventbridge input paths").__module__ == "jsonpath_ng.ext.parser"
    source = inspect.getsource(EventTemplateParser.parse)
    assert "from jsonpath_ng.ext import parse" in source
    assert "parse(input_paths_map[input_path])" in source


def test_every_request_still_looks_its_action_up_among_its_response_class_methods() -> None:
    from moto.core.responses import BaseResponse

    assert "method_names_from_class(self.__class__)" in inspect.getsource(BaseResponse.call_action)


def test_a_response_class_methods_are_listed_once_and_each_caller_gets_its_own_list() -> None:
    from infra.local.seams import cached_method_names

    listed: list[type] = []

    def names(clazz: object) -> list[str]:
        listed.append(clazz)  # type: ignore[arg-type]
        return ["create_table", "query"]

    method_names = cached_method_names(names)
    first = method_names(dict)
    first.append("changed by its caller")

    assert method_names(dict) == ["create_table", "query"]
    assert method_names(list) == ["create_table", "query"]
    assert listed == [dict, list]


def test_an_execution_still_ends_through_its_communications_terminated() -> None:
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    assert "self._execution_communication.terminated()" in inspect.getsource(ExecutionWorker._execution_logic)
    # the status is set before the runtime notes the end, so a driver woken by it reads it
    assert "self._reflect_execution_status()" in inspect.getsource(original("execution ended"))
    assert "BaseExecutionWorkerCommunication(self)" in inspect.getsource(
        Execution._get_start_execution_worker_comm
    )
