"""The AWS services the steps talk to besides DynamoDB: EventBridge, Step Functions, KMS, S3.

One client per service per execution environment, created on first use. Clients come from botocore,
not boto3: importing boto3 loads s3transfer and multiprocessing, about 15 ms of every cold start, and
the steps use no boto3 resource.
"""

import json
from collections.abc import Sequence
from functools import cache
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from zerovisit.clock import clock
from zerovisit.config import settings
from zerovisit.domain.outbox import OutboxMessage
from zerovisit.errors import DependencyUnavailable, TaskClosed

EVENT_SOURCE = "zerovisit.cases"


@cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


# Presigned S3 links signed with SigV4 in every region, as the China regions require.
CLIENT_CONFIG = {"s3": Config(signature_version="s3v4")}


@cache
def _client(service: str) -> Any:
    return _session().create_client(service, config=CLIENT_CONFIG.get(service))


def reset_clients() -> None:
    """Forget cached clients (the local runtime and tests start new mocked sessions)."""
    _client.cache_clear()
    _session.cache_clear()


def publish(detail_type: str, detail: dict[str, Any]) -> None:
    """Put one outbound event on the case bus."""
    entry = {
        "Source": EVENT_SOURCE,
        "DetailType": detail_type,
        "Detail": json.dumps({**detail, "occurred_at": clock.now().isoformat()}, ensure_ascii=False),
        "EventBusName": settings().event_bus_name,
    }
    try:
        response = _client("events").put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable(f"could not publish {detail_type}") from e
    if response.get("FailedEntryCount"):
        raise DependencyUnavailable(f"could not publish {detail_type}")


PUT_EVENTS_BATCH = 10


def publish_many(messages: Sequence[tuple[str, OutboxMessage]]) -> list[str]:
    """Put outbox events on the case bus, ten to a call; returns the keys of those not accepted."""
    failed: list[str] = []
    events = _client("events")
    for start in range(0, len(messages), PUT_EVENTS_BATCH):
        batch = messages[start : start + PUT_EVENTS_BATCH]
        entries = [
            {
                "Source": EVENT_SOURCE,
                "DetailType": message.detail_type,
                "Detail": json.dumps(message.detail, ensure_ascii=False),
                "EventBusName": settings().event_bus_name,
            }
            for _, message in batch
        ]
        try:
            response = events.put_events(Entries=entries)
        except (BotoCoreError, ClientError):
            failed.extend(key for key, _ in batch)
            continue
        for (key, _), result in zip(batch, response.get("Entries", []), strict=False):
            if result.get("ErrorCode"):
                failed.append(key)
    return failed


def start_case_execution(case_id: str, name: str, resume: bool = False) -> str:
    """Start an execution of the case under a name derived from the case: a second start with the
    same name cannot make a second case. A resumed case continues from the step it failed at."""
    arn = settings().state_machine_arn
    if not arn:
        raise DependencyUnavailable("STATE_MACHINE_ARN is not configured for this function")
    sfn = _client("stepfunctions")
    payload: dict[str, Any] = {"case_id": case_id, "resume": resume}
    try:
        response = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    except sfn.exceptions.ExecutionAlreadyExists:
        return f"{arn.replace(':stateMachine:', ':execution:')}:{name}"
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not start the case execution") from e
    return str(response["executionArn"])


def resume_task(token: str, output: dict[str, Any]) -> None:
    sfn = _client("stepfunctions")
    try:
        sfn.send_task_success(taskToken=token, output=json.dumps(output, ensure_ascii=False))
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist) as e:
        raise TaskClosed("the task no longer waits for an answer") from e
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not resume the case execution") from e


def fail_task(token: str, error: str, cause: str) -> None:
    sfn = _client("stepfunctions")
    try:
        sfn.send_task_failure(taskToken=token, error=error, cause=cause)
    except (sfn.exceptions.TaskTimedOut, sfn.exceptions.InvalidToken, sfn.exceptions.TaskDoesNotExist) as e:
        raise TaskClosed("the task no longer waits for an answer") from e
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not resume the case execution") from e


def sign(message: bytes) -> tuple[str, bytes, str]:
    """Sign with the certificate key in the configured algorithm (SM2DSA where the region's key is
    SM2, else ECDSA_SHA_256). Returns (key id, signature, the algorithm KMS reports it used)."""
    current = settings()
    try:
        response = _client("kms").sign(
            KeyId=current.certificate_key_id,
            Message=message,
            MessageType="RAW",
            SigningAlgorithm=current.signing_algorithm,
        )
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("certificate signing key unavailable") from e
    return str(response["KeyId"]), bytes(response["Signature"]), str(response["SigningAlgorithm"])


def verify_signature(key_id: str, message: bytes, signature: bytes, algorithm: str) -> bool:
    """With the algorithm the certificate records: a key's algorithm is fixed when it is made."""
    kms = _client("kms")
    try:
        response = kms.verify(
            KeyId=key_id,
            Message=message,
            MessageType="RAW",
            Signature=signature,
            SigningAlgorithm=algorithm,
        )
    except kms.exceptions.KMSInvalidSignatureException:
        return False
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("certificate signing key unavailable") from e
    return bool(response["SignatureValid"])


def _renderings_bucket() -> str:
    bucket = settings().renderings_bucket
    if not bucket:
        raise DependencyUnavailable("RENDERINGS_BUCKET is not configured for this function")
    return bucket


def put_rendering(key: str, png: bytes) -> None:
    """The bucket encrypts it with its default key; writing the same bytes again is harmless."""
    try:
        _client("s3").put_object(Bucket=_renderings_bucket(), Key=key, Body=png, ContentType="image/png")
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not store the certificate's rendering") from e


def rendering_url(key: str, expires_in: int) -> str:
    """A presigned GET: signed here with the function's role, no call made until someone fetches it."""
    try:
        return str(
            _client("s3").generate_presigned_url(
                "get_object", Params={"Bucket": _renderings_bucket(), "Key": key}, ExpiresIn=expires_in
            )
        )
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not sign the rendering's address") from e


def invoke_later(function_arn: str, event: dict[str, Any]) -> None:
    """Ask Lambda to run the function on the event asynchronously (queued; retried on error)."""
    try:
        _client("lambda").invoke(
            FunctionName=function_arn, InvocationType="Event", Payload=json.dumps(event).encode()
        )
    except (BotoCoreError, ClientError) as e:
        raise DependencyUnavailable("could not queue the invocation") from e
