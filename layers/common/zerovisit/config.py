"""Function configuration, read from the environment once per cold start."""

import os
from functools import cache
from typing import NamedTuple

from zerovisit.domain.partners import supervised_regions
from zerovisit.domain.signing import SIGNING_ALGORITHM, SIGNING_ALGORITHMS, SigningAlgorithm
from zerovisit.errors import ConfigurationError


class Settings(NamedTuple):
    cases_table: str
    catalog_table: str
    certificates_table: str
    event_bus_name: str
    certificate_key_id: str
    partner_secret_prefix: str
    state_machine_arn: str | None
    # The certificate function's and the API's: the key's algorithm (SM2DSA in China regions), the
    # bucket of certificate renderings, and the public API address printed in their QR codes.
    signing_algorithm: SigningAlgorithm = SIGNING_ALGORITHM
    renderings_bucket: str | None = None
    public_api_url: str | None = None
    # The API's: the division codes whose cases, lists and reports supervision reads (none unset).
    supervised_regions: tuple[str, ...] = ()


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
    algorithm = os.environ.get("CERTIFICATE_SIGNING_ALGORITHM") or SIGNING_ALGORITHM
    if algorithm not in SIGNING_ALGORITHMS:
        raise ConfigurationError(
            f"CERTIFICATE_SIGNING_ALGORITHM must be one of {', '.join(SIGNING_ALGORITHMS)}, not {algorithm}"
        )
    try:
        supervised = supervised_regions(os.environ.get("SUPERVISION_REGIONS", ""))
    except ValueError as e:
        raise ConfigurationError(f"SUPERVISION_REGIONS: {e}") from e
    return Settings(
        **values,
        state_machine_arn=os.environ.get("STATE_MACHINE_ARN") or None,
        signing_algorithm=algorithm,
        renderings_bucket=os.environ.get("RENDERINGS_BUCKET") or None,
        public_api_url=(os.environ.get("PUBLIC_API_URL") or "").rstrip("/") or None,
        supervised_regions=supervised,
    )
