"""Log lines never carry identity or phone numbers in clear."""

import json
import logging
import subprocess
import sys
from pathlib import Path

from zerovisit.observability import MaskingFormatter, logger

from infra.bench.imports import import_environment


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


def test_the_relay_loads_no_storage_and_no_case_model() -> None:
    """The relay runs fourteen times per case: its cold start carries only its outbox message,
    the logger and the clients it calls, not pynamodb, the tables or the case aggregate."""
    root = Path(__file__).resolve().parents[2]
    app = root / "functions" / "relay" / "app.py"
    code = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(app.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(app)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert callable(module.handler)\n"
        "heavy = ('pynamodb', 'boto3', 'zerovisit.storage', 'zerovisit.domain.case', "
        "'zerovisit.domain.catalog')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    env = {**import_environment(), "PYTHONPATH": str(root / "layers" / "common")}
    loaded = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=True
    )
    assert loaded.stdout.strip() == "[]"
