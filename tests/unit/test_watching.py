"""Watching the stack, read from template.yaml: every log group kept for the stage's retention, each
function in its own group, the HTTP API's access log, the alarm topic's subscription, and the alarms
on a missing sweep, Lambda errors and throttles, API 5xx, dead letters and failed executions."""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from infra.local.template import load_template
from tests.template_conditions import evaluate

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
RETENTION = {"Fn::FindInMap": ["StageSettings", {"Ref": "Stage"}, "LogRetentionDays"]}
SIX_MONTHS_DAYS = 180  # Cybersecurity Law art. 21: network logs kept no less than six months


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def logical(value: Any) -> str:
    """The logical id a Ref or GetAtt names (a literal as it is)."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return str(value["Ref"])
    target = value["Fn::GetAtt"]
    return str(target[0] if isinstance(target, list) else target.split(".")[0])


@dataclass(frozen=True)
class Watched:
    namespace: str
    metric: str
    dimensions: dict[str, str]  # dimension -> the logical id (or parameter) its value names


def watched(alarm: dict[str, Any]) -> Iterator[Watched]:
    """Every metric an alarm reads, whether it has one metric or metric math."""
    properties = alarm["Properties"]
    metrics = (
        [properties]
        if "MetricName" in properties
        else [m["MetricStat"]["Metric"] for m in properties["Metrics"] if "MetricStat" in m]
    )
    for metric in metrics:
        dimensions = {d["Name"]: logical(d["Value"]) for d in metric.get("Dimensions", [])}
        yield Watched(metric["Namespace"], metric["MetricName"], dimensions)


def alarms_on(namespace: str, metric: str, **dimensions: str) -> dict[str, dict[str, Any]]:
    return {
        name: alarm
        for name, alarm in of_type("AWS::CloudWatch::Alarm").items()
        if any(
            (w.namespace, w.metric) == (namespace, metric) and w.dimensions == dimensions
            for w in watched(alarm)
        )
    }


def fires_on_the_first(alarm: dict[str, Any], threshold: int = 1) -> None:
    properties = alarm["Properties"]
    assert properties["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert properties["Threshold"] == threshold
    assert properties["EvaluationPeriods"] == 1


# ------------------------------------------------------------------ logs


def test_every_log_group_keeps_its_logs_for_the_stages_retention_encrypted() -> None:
    groups = of_type("AWS::Logs::LogGroup")
    assert len(groups) >= len(of_type("AWS::Serverless::Function")) + 2  # the API's access, the state machine
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == RETENTION, name
        assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": ["DataKey", "Arn"]}, name
    stages = TEMPLATE["Mappings"]["StageSettings"]
    assert set(stages) == set(TEMPLATE["Parameters"]["Stage"]["AllowedValues"])
    assert stages["prod"]["LogRetentionDays"] >= SIX_MONTHS_DAYS
    assert 0 < stages["dev"]["LogRetentionDays"] <= stages["prod"]["LogRetentionDays"]


def test_each_function_the_api_and_the_state_machine_log_to_a_group_of_their_own() -> None:
    writers: dict[str, list[str]] = {}
    for name, function in of_type("AWS::Serverless::Function").items():
        writers.setdefault(logical(function["Properties"]["LoggingConfig"]["LogGroup"]), []).append(name)
    for name, api in of_type("AWS::Serverless::HttpApi").items():
        destination = api["Properties"]["AccessLogSettings"]["DestinationArn"]
        writers.setdefault(logical(destination), []).append(name)
    for name, machine in of_type("AWS::Serverless::StateMachine").items():
        for destination in machine["Properties"]["Logging"]["Destinations"]:
            writers.setdefault(logical(destination["CloudWatchLogsLogGroup"]["LogGroupArn"]), []).append(name)

    assert set(writers) == set(of_type("AWS::Logs::LogGroup")), (
        "a writer without its group, or a group unused"
    )
    assert {group: names for group, names in writers.items() if len(names) > 1} == {}


def test_the_http_api_writes_an_access_log_of_each_request_without_query_strings() -> None:
    (api,) = of_type("AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["AccessLogSettings"]
    assert RESOURCES[logical(settings["DestinationArn"])]["Type"] == "AWS::Logs::LogGroup"
    fields = json.loads(settings["Format"])
    assert {"requestId", "time", "route", "status", "latencyMs", "sourceIp"} <= set(fields)
    assert fields["route"] == "$context.routeKey"  # the route's template, not the path asked for
    assert all(v.startswith("$context.") for v in fields.values())
    assert not re.search(r"querystring|\$context\.path|requestOverride", settings["Format"], re.IGNORECASE)


# ------------------------------------------------------------------ the alarm topic's subscription


@pytest.mark.parametrize(
    ("value", "protocol"),
    [
        ("", None),
        ("ops@example.gov.cn", "email"),
        ("https://alerts.example.gov.cn/zerovisit", "https"),
    ],
)
def test_the_alarm_subscription_parameter_subscribes_an_email_or_an_https_endpoint(
    value: str, protocol: str | None
) -> None:
    parameter = TEMPLATE["Parameters"]["AlarmSubscription"]
    assert parameter["Default"] == ""
    assert re.fullmatch(parameter["AllowedPattern"], value)
    (name, subscription), *others = of_type("AWS::SNS::Subscription").items()
    assert others == []
    properties = subscription["Properties"]
    assert logical(properties["TopicArn"]) == "AlarmTopic"
    assert properties["Endpoint"] == {"Ref": "AlarmSubscription"}
    refs = {"AlarmSubscription": value}

    created = evaluate({"Condition": subscription["Condition"]}, refs, TEMPLATE["Conditions"])

    assert created is (protocol is not None), name
    if protocol is not None:
        assert evaluate(properties["Protocol"], refs, TEMPLATE["Conditions"]) == protocol


@pytest.mark.parametrize("value", ["http://alerts.example.gov.cn", "ops", "sms:+8613800000000", "a b@c.d"])
def test_the_alarm_subscription_parameter_refuses_anything_else(value: str) -> None:
    assert not re.fullmatch(TEMPLATE["Parameters"]["AlarmSubscription"]["AllowedPattern"], value)


# ------------------------------------------------------------------ alarms


def test_a_sweeper_that_stops_running_alarms_within_30_minutes() -> None:
    (alarm,) = alarms_on("AWS/Lambda", "Invocations", FunctionName="SweeperFunction").values()
    properties = alarm["Properties"]
    assert properties["Period"] * properties["EvaluationPeriods"] <= 30 * 60
    assert (properties["Statistic"], properties["ComparisonOperator"], properties["Threshold"]) == (
        "Sum",
        "LessThanThreshold",
        1,
    )
    assert properties["TreatMissingData"] == "breaching"  # no invocation at all is no datapoint at all
    schedules = [
        e["Properties"]["Schedule"]
        for e in RESOURCES["SweeperFunction"]["Properties"]["Events"].values()
        if e["Type"] == "Schedule"
    ]
    (minutes,) = (int(m.group(1)) for s in schedules if (m := re.fullmatch(r"rate\((\d+) minutes\)", s)))
    assert 2 * minutes <= properties["Period"] // 60  # one late or failed sweep alone does not alarm


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_every_function_has_an_alarm_on_its_errors_and_throttles(metric: str) -> None:
    for function in of_type("AWS::Serverless::Function"):
        covering = alarms_on("AWS/Lambda", metric, FunctionName=function)
        assert covering, f"no alarm on the {metric} of {function}"
        for alarm in covering.values():
            fires_on_the_first(alarm)
            assert alarm["Properties"]["TreatMissingData"] == "notBreaching"


def test_every_metric_an_alarm_reads_counts_in_what_it_returns() -> None:
    """A metric-math alarm alarms on its one returned expression, which must use every metric read."""
    for name, alarm in of_type("AWS::CloudWatch::Alarm").items():
        if "Metrics" not in alarm["Properties"]:
            continue
        queries = alarm["Properties"]["Metrics"]
        (returned,) = [q for q in queries if q["ReturnData"]]
        read = {q["Id"] for q in queries if "MetricStat" in q}
        assert read, name
        assert set(re.findall(r"\b\w+\b", returned["Expression"])) >= read, name
        assert all(q["MetricStat"]["Stat"] == "Sum" for q in queries if "MetricStat" in q), name


def test_api_5xx_answers_alarm() -> None:
    (alarm,) = alarms_on("AWS/ApiGateway", "5xx", ApiId="HttpApi", Stage="Stage").values()
    fires_on_the_first(alarm, threshold=5)
    assert alarm["Properties"]["Period"] == 300


def dead_letter_queues() -> set[str]:
    """Every queue something sends its failures to: a queue's redrive policy, a rule target's
    dead-letter config, an event source's on-failure destination."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "deadLetterTargetArn":
                    found.add(logical(value))
                elif key == "DeadLetterConfig":
                    found.add(logical(value["Arn"]))
                elif key == "OnFailure":
                    found.add(logical(value["Destination"]))
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(RESOURCES)
    return found


def test_every_dead_letter_queue_alarms_on_its_first_message() -> None:
    queues = dead_letter_queues()
    assert queues >= {"IntakeDeadLetterQueue", "PartnerTaskDeadLetterQueue", "OutboxDeadLetterQueue"}
    assert queues <= set(of_type("AWS::SQS::Queue"))
    for queue in sorted(queues):
        (alarm,) = alarms_on("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=queue).values()
        fires_on_the_first(alarm)
        assert alarm["Properties"]["Statistic"] == "Maximum"


def test_failed_timed_out_and_aborted_executions_alarm() -> None:
    (machine,) = of_type("AWS::Serverless::StateMachine")
    for metric in ("ExecutionsFailed", "ExecutionsTimedOut", "ExecutionsAborted"):
        (alarm,) = alarms_on("AWS/States", metric, StateMachineArn=machine).values()
        fires_on_the_first(alarm)


def test_every_alarm_tells_the_alarm_topic() -> None:
    alarms = of_type("AWS::CloudWatch::Alarm")
    assert len(alarms) >= 12
    for name, alarm in alarms.items():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}], name
        assert alarm["Properties"]["AlarmDescription"], name
