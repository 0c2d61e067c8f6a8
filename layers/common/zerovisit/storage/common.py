"""What every repository shares: the applicant index key and storage error translation."""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pynamodb.exceptions import (
    DoesNotExist,
    PutError,
    PynamoDBException,
    QueryError,
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
        if _too_large(e):
            raise InvalidInput([TOO_LARGE]) from e
        raise DependencyUnavailable("case storage update failed") from e
    except DoesNotExist as e:
        raise CaseNotFound("no such record") from e
    except PynamoDBException as e:
        if _too_large(e):
            raise InvalidInput([TOO_LARGE]) from e
        raise DependencyUnavailable("case storage unavailable") from e


StartKey = dict[str, Any] | None
BAD_CURSOR = "cursor: not a cursor this API gave out"


def index_page[T](
    query: Callable[..., Any],
    hash_key: tuple[str, str],
    limit: int,
    start: StartKey,
    take: Callable[[Any], T],
) -> tuple[list[T], StartKey]:
    """One page of an index query: at most ``limit`` items, each as ``take`` makes it. The next key
    leaves out the index's hash key, which the query itself gives back (for the applicant and holder
    indexes it is a digest of the identity number: it stays on the server)."""
    name, value = hash_key
    resume = None if start is None else {**start, name: {"S": value}}
    try:
        with storage_errors():
            results = query(limit=limit, page_size=limit, last_evaluated_key=resume)
            found = [take(item) for item in results]
            next_key = results.last_evaluated_key if found else None
    except DependencyUnavailable as e:
        refused = (
            isinstance(e.__cause__, QueryError) and e.__cause__.cause_response_code == "ValidationException"
        )
        if resume is not None and refused:
            raise InvalidInput([BAD_CURSOR]) from e
        raise
    if next_key is None:
        return found, None
    return found, {k: v for k, v in next_key.items() if k != name}
