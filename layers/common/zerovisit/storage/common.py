"""What every repository shares: the applicant index key and storage error translation."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    PynamoDBException,
    TransactWriteError,
    UpdateError,
)

from zerovisit.errors import CaseNotFound, Conflict, DependencyUnavailable, InvalidInput


def applicant_key(identity: str) -> str:
    """Index key for an applicant's cases: a digest, so the index holds no identity number."""
    return hashlib.sha256(identity.encode()).hexdigest()


TOO_LARGE = "the record is larger than the 400 KB that storage accepts for one item"


def _too_large(e: PynamoDBException) -> bool:
    """DynamoDB refused an item over its size limit: retrying cannot help, so it is not transient."""
    return e.cause_response_code == "ValidationException" and "size" in (e.cause_response_message or "")


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except TransactWriteError as e:
        reasons = [r.code for r in (e.cancellation_reasons or []) if r is not None]
        if "ConditionalCheckFailed" in reasons:
            raise Conflict("the record changed or is not in the expected state") from e
        if _too_large(e):
            raise InvalidInput([TOO_LARGE]) from e
        raise DependencyUnavailable("case storage write failed") from e
    except (UpdateError, PutError) as e:
        if e.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict("the record changed or is not in the expected state") from e
        raise DependencyUnavailable("case storage update failed") from e
    except DoesNotExist as e:
        raise CaseNotFound("no such record") from e
    except PynamoDBException as e:
        if _too_large(e):
            raise InvalidInput([TOO_LARGE]) from e
        raise DependencyUnavailable("case storage unavailable") from e
