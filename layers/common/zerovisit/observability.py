"""Logging with personal data masked in every line, and the cold-start wiring of a function."""

import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from zerovisit.config import Settings, settings
from zerovisit.domain.identity import mask_personal_data
from zerovisit.storage.tables import bind_tables


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks identity numbers and phone numbers anywhere in the serialised line."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_personal_data(super().format(record))


logger = Logger(logger_formatter=MaskingFormatter())


def cold_start() -> Settings:
    """Read and validate the environment once, and bind the tables to it."""
    current = settings()
    bind_tables(current)
    return current


def log_step(step: str, case_id: str, **fields: Any) -> None:
    logger.info(step, extra={"case_id": case_id, **fields})
