"""Function configuration, read from the environment once per cold start."""

import os
from dataclasses import dataclass
from functools import cache

from zerovisit.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    cases_table: str
    catalog_table: str
    certificates_table: str
    event_bus_name: str
    certificate_key_id: str
    partner_secret_prefix: str
    state_machine_arn: str | None


_REQUIRED = {
    "cases_table": "CASES_TABLE",
    "catalog_table": "CATALOG_TABLE",
    "certificates_table": "CERTIFICATES_TABLE",
    "event_bus_name": "EVENT_BUS_NAME",
    "certificate_key_id": "CERTIFICATE_KEY_ID",
    "partner_secret_prefix": "PARTNER_SECRET_PREFIX",
}


@cache
def settings() -> Settings:
    missing = [name for name in _REQUIRED.values() if not os.environ.get(name)]
    if missing:
        raise ConfigurationError(f"missing environment variables: {', '.join(sorted(missing))}")
    values = {field: os.environ[name] for field, name in _REQUIRED.items()}
    return Settings(**values, state_machine_arn=os.environ.get("STATE_MACHINE_ARN") or None)
