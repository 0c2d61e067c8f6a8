"""Logging with personal data masked in every line, and the cold-start wiring of a function."""

import functools
import logging
from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.utilities.typing import LambdaContext

from zerovisit.config import Settings, settings
from zerovisit.domain.identity import mask_personal_data
from zerovisit.storage import calendar
from zerovisit.storage.tables import bind_tables


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks identity numbers and phone numbers anywhere in the serialised line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


logger = Logger(logger_formatter=MaskingFormatter())
Handler = Callable[[dict[str, Any], LambdaContext], Any]


def cold_start() -> Settings:
    """Read and validate the environment once, and bind the tables to it."""
    current = settings()
    bind_tables(current)
    return current


def lambda_entry(function: Handler) -> Handler:
    """Every function's entry point: the Lambda context in the logs, and the operator-loaded
    holiday schedules current (read by key, at most every few minutes) before any date is computed."""

    @functools.wraps(function)
    def wrapped(event: dict[str, Any], context: LambdaContext) -> Any:
        calendar.refresh()
        return function(event, context)

    return cast(Handler, logger.inject_lambda_context(wrapped))
