"""Logging with personal data masked in every line, and the cold-start wiring of a function.

Storage stays out of this module's imports: cold_start binds the tables through the function it is
given (storage's own by default, imported when called; none for the relay), and lambda_entry
refreshes the holiday schedules through storage's calendar, looked up on the first invocation.
Importing the logger alone loads neither pynamodb nor the table models.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.utilities.typing import LambdaContext

from zerovisit import coldstart
from zerovisit.config import Settings, settings
from zerovisit.domain.identity import mask_personal_data


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks identity numbers and phone numbers anywhere in the serialised line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


logger = Logger(logger_formatter=MaskingFormatter())
Handler = Callable[[dict[str, Any], LambdaContext], Any]
Binding = Callable[[Settings], None]


def _bind_storage(current: Settings) -> None:
    from zerovisit.storage.tables import bind_tables

    bind_tables(current)


def without_storage(_: Settings) -> None:
    """The binding of a function that reads no table: the relay."""


def cold_start(bind: Binding = _bind_storage) -> Settings:
    """Read and validate the environment once, and bind the tables to it. A handler calls it after its
    imports: its modules are loaded (``coldstart.loaded``, which does nothing outside Lambda, as for
    the commands that call it)."""
    current = settings()
    bind(current)
    coldstart.loaded()
    return current


@functools.cache
def _calendar_refresh() -> Callable[[], object]:
    from zerovisit.storage import calendar

    return calendar.refresh


def lambda_entry(function: Handler) -> Handler:
    """The entry point of a function that computes dates: the Lambda context in the logs, and the
    operator-loaded holiday schedules current (read by key, at most every few minutes) first."""

    @functools.wraps(function)
    def wrapped(event: dict[str, Any], context: LambdaContext) -> Any:
        _calendar_refresh()()
        return function(event, context)

    return logged_entry(wrapped)


def logged_entry(function: Handler) -> Handler:
    """The entry point of a function that computes no date (the relay): the Lambda context in the logs."""
    return logger.inject_lambda_context(function)
