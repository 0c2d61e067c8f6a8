"""Partner secrets from Secrets Manager, one secret per partner, cached by Powertools for five minutes.

The Powertools parameters utility loads its AppConfig, SSM and DynamoDB providers and boto3 with it:
it is imported on the first secret read, not with the module, so only the function that reads
secrets (the API) pays for it, and only when a signed request arrives.
"""

import re

from botocore.exceptions import ClientError

from zerovisit.config import settings
from zerovisit.errors import DependencyUnavailable

CACHE_SECONDS = 300
PARTNER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")  # ASCII only: a secret name Secrets Manager accepts


def partner_secret(partner: str) -> str | None:
    """The partner's signing secret, or None for a partner with no secret."""
    if not PARTNER_ID.fullmatch(partner):
        return None
    from aws_lambda_powertools.utilities import parameters  # imported late: see the docstring
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = parameters.get_secret(f"{settings().partner_secret_prefix}{partner}", max_age=CACHE_SECONDS)
    except GetParameterError as e:
        cause = e.__context__  # Powertools re-raises without "from"
        if isinstance(cause, ClientError) and cause.response["Error"]["Code"] == "ResourceNotFoundException":
            return None
        raise DependencyUnavailable("partner secrets unavailable") from e
    return str(value)
