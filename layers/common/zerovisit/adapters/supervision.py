"""Telling supervisors: the SNS supervision topic and CloudWatch metrics in embedded metric format."""

import os

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from botocore.exceptions import BotoCoreError, ClientError

from zerovisit.adapters.aws import _client
from zerovisit.errors import ConfigurationError, DependencyUnavailable

NAMESPACE = "ZeroVisit"
SERVICE = "zerovisit"


def _topic_arn() -> str:
    arn = os.environ.get("SUPERVISION_TOPIC_ARN")
    if not arn:
        raise ConfigurationError("missing environment variable SUPERVISION_TOPIC_ARN")
    return arn


def notify(subject: str, message: str) -> None:
    try:
        _client("sns").publish(TopicArn=_topic_arn(), Subject=subject[:100], Message=message)
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("supervision topic unavailable") from e


def count(metric: str, dimensions: dict[str, str]) -> None:
    """One count, by the given dimensions and as a total by service, which the template's alarms watch."""
    for dimension_set in (dimensions, {"service": SERVICE}):
        with single_metric(name=metric, unit=MetricUnit.Count, value=1, namespace=NAMESPACE) as emitted:
            for name, value in dimension_set.items():
                emitted.add_dimension(name=name, value=value)
