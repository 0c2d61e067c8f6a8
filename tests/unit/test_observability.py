"""Log lines never carry identity or phone numbers in clear."""

import json
import logging

from zerovisit.observability import MaskingFormatter, logger


def test_the_function_logger_masks() -> None:
    assert isinstance(logger.registered_formatter, MaskingFormatter)


def test_identity_and_phone_numbers_are_masked_in_every_log_line() -> None:
    record = logging.LogRecord(
        "zerovisit",
        logging.INFO,
        __file__,
        1,
        "applicant 360426199101010071 called from 13912345678",
        None,
        None,
    )
    record.agent_id = "44011320141005001X"
    record.note = "tel 13851234567"

    line = MaskingFormatter().format(record)

    for clear in ("360426199101010071", "13912345678", "44011320141005001X", "13851234567"):
        assert clear not in line
    parsed = json.loads(line)
    assert parsed["message"] == "applicant 360*************71 called from 139****5678"
    assert parsed["agent_id"] == "440*************1X"
