"""What every request passes before a route runs, in this order:

1. the path without the API stage (API Gateway's ``rawPath`` holds it: ``/dev/applications``);
2. the body: at most 64 KiB, UTF-8 (a base64-encoded body is decoded first), JSON content type;
3. the partner signature, against the real time (never the domain clock), except on public routes;
4. the route's owner (403 for any other partner);
5. the JSON limits (depth, numbers, repeated keys, string lengths);
6. a signed request that changes something (any method but GET, HEAD and OPTIONS) has its first
   answer kept in the replay store, and a replay of it gets that answer and has no second effect:
   - a partner's callback keeps its answer in its own write (``Admitted.keeper``), on the
     condition that none is kept yet; a replay, or a twin that reaches its write second, writes
     nothing, and ``remember`` answers it with the kept answer (a twin whose write collides with
     the first's in flight may get 503 instead, and its resend the kept answer);
   - any other is claimed before its route runs: a replay of one already answered gets the first
     answer and nothing runs again; a twin sent while the first is still running gets 409 with
     ``Retry-After``, for the partner to send it again. ``remember`` keeps its answer after the
     route.
   A GET has no effect to repeat and is answered afresh.

The event handed on to the routes has the stage taken out and the body as checked text. A failure
to keep an answer never changes it.
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from zerovisit.adapters.secrets import partner_secret
from zerovisit.api.access import EFFECTLESS, answered_with_the_change, is_public, owned_route, route_path
from zerovisit.api.limits import Refusal, json_problems, text_of
from zerovisit.api.router import json_answer
from zerovisit.domain.signature import PartnerKeys, SignedRequest, authenticate, partner_keys
from zerovisit.errors import Conflict, DependencyUnavailable, InvalidInput, NotAuthenticated
from zerovisit.observability import logger
from zerovisit.services.ports import Keep, KeptAnswer
from zerovisit.storage import replays


def real_time() -> datetime:
    return datetime.now(UTC)


# Authentication's own time source: the real time, which tests may replace. Never the domain clock,
# which tests and the local runtime move on to drive deadlines.
wall_clock: Callable[[], datetime] = real_time


# A claim outlives the invocation that made it by this much: a twin finding it after that runs anew.
LEASE_MARGIN = timedelta(seconds=5)
BUSY = "the same request is being answered now; send it again in a few seconds for its answer"
BUSY_RETRY_AFTER_SECONDS = 2


def keys_of(partner: str) -> PartnerKeys | None:
    return partner_keys(partner_secret(partner))


@dataclass
class Admitted:
    event: dict[str, Any]
    partner: str | None = None
    answer: dict[str, Any] | None = None
    replay_key: str | None = None  # set for a request whose answer is kept: ``remember`` must follow
    claim: replays.Claimed | None = None  # None for a callback, which keeps its answer in its write
    path: str = "/"
    kept: KeptAnswer | None = None  # the answer given to the route's write, written or not

    def keeper(self, render: Callable[[dict[str, Any]], Any], status: int = 200) -> Keep | None:
        """For a callback that answers ``status`` with ``render`` of its service's result: the
        answer to keep with its write. None for a request whose answer is not kept so."""
        key = self.replay_key
        if key is None or self.claim is not None:
            return None

        def keep(result: dict[str, Any]) -> KeptAnswer:
            self.kept = KeptAnswer(key, status, render(result), wall_clock())
            return self.kept

        return keep


def refusal(
    status: int, message: str, problems: list[str] | None = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return json_answer(status, {"message": message, "problems": problems or []}, headers)


def _refused(event: dict[str, Any], r: Refusal) -> Admitted:
    return Admitted(event, answer=refusal(r.status, r.message, list(r.problems)))


def admit(event: dict[str, Any], remaining: timedelta) -> Admitted:
    """The request checked; a signed one that changes something is claimed, unless it is a callback
    (which keeps its answer in its own write). ``remaining`` is the invocation's time left, which a
    claim's lease outlives by LEASE_MARGIN."""
    context = event.get("requestContext") or {}
    method = str((context.get("http") or {}).get("method", "")).upper()
    path = route_path(str(event.get("rawPath") or "/"), str(context.get("stage") or "$default"))
    raw_body = _body_bytes(event)
    if raw_body is None:
        return _refused(event, Refusal(400, "the body is marked base64 but is not"))
    text = text_of(raw_body)
    if isinstance(text, Refusal):
        return _refused(event, text)
    routed = {
        **event,
        "rawPath": path,
        "body": text or None,
        "isBase64Encoded": False,
        "requestContext": {
            **context,
            "stage": "$default",
            "http": {**(context.get("http") or {}), "path": path},
        },
    }
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if text and content_type not in ("application/json", ""):
        return _refused(event, Refusal(415, "send the body as application/json"))
    admitted = Admitted(routed, path=path)
    if not is_public(method, path):
        request = SignedRequest(method, path, str(event.get("rawQueryString") or ""), raw_body)
        try:
            partner = authenticate(headers, request, wall_clock(), keys_of)
        except NotAuthenticated as e:
            logger.warning("request refused", extra={"path": path, "reason": str(e)})
            return _refused(event, Refusal(401, str(e)))
        except DependencyUnavailable:
            return _refused(event, Refusal(503, "temporarily unavailable, try again"))
        owned = owned_route(method, path)
        if owned is not None and partner != owned[1]:
            logger.warning("request refused", extra={"path": path, "partner": partner})
            return _refused(event, Refusal(403, f"partner {partner} may not call {method} {owned[0]}"))
        admitted.partner = partner
    if text:
        problems = json_problems(text)
        if problems is not None:
            return _refused(event, problems)
    if admitted.partner is not None and method not in EFFECTLESS:
        key = hashlib.sha256(f"{admitted.partner}\n{headers['x-zv-signature'].lower()}".encode()).hexdigest()
        if answered_with_the_change(method, path):
            admitted.replay_key = key
            return admitted
        return _claimed(admitted, key, remaining)
    return admitted


def _claimed(admitted: Admitted, key: str, remaining: timedelta) -> Admitted:
    try:
        first = replays.claim(key, wall_clock(), remaining + LEASE_MARGIN)
    except DependencyUnavailable:
        logger.warning("replay store unavailable", extra={"path": admitted.path, "replay": key[:12]})
        return _refused(admitted.event, Refusal(503, "temporarily unavailable, try again"))
    if isinstance(first, replays.Pending):
        retry = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
        return Admitted(admitted.event, answer=refusal(409, BUSY, headers=retry))
    if isinstance(first, replays.Answer):
        admitted.answer = _replayed(first)
        return admitted
    admitted.replay_key = key
    admitted.claim = first
    return admitted


def _replayed(first: replays.Answer) -> dict[str, Any]:
    return json_answer(first.status, first.body, {"X-ZV-Replayed": "true"})


def _kept_form(answer: dict[str, Any]) -> replays.Answer:
    body = answer.get("body")
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = body
    return replays.Answer(int(answer.get("statusCode", 500)), parsed)


def remember(admitted: Admitted, answer: dict[str, Any]) -> dict[str, Any]:
    """After the route: the answer to send, and its keeping for replays.

    A callback's answer written with its change is sent as it is. A callback that wrote nothing
    (its answer was kept already, by a twin or the first of a replay) sends the kept answer, or,
    when none is kept, its own, which is then kept unless it is a 5xx.

    A claimed request keeps its answer, or gives the claim up when it is a 5xx (a transient
    failure), so that the same request may run again. Its route's answer stands whatever the store
    does: when the answer cannot be kept, the claim is given up and a replay runs the route again,
    which its own idempotency answers."""
    key = admitted.replay_key
    if key is None:
        return answer
    status = int(answer.get("statusCode", 500))
    logged = {"path": admitted.path, "status": status, "replay": key[:12]}
    if admitted.claim is None:
        return _kept_with_the_change(admitted, key, answer, status, logged)
    if status < 500:
        try:
            replays.keep_answer(key, admitted.claim, _kept_form(answer), wall_clock())
            return answer
        except Conflict:
            logger.warning("replay claim lapsed: a twin took it over", extra=logged)
            return answer
        except (DependencyUnavailable, InvalidInput) as e:
            logger.warning("answer not kept for replays", extra={**logged, "reason": type(e).__name__})
    give_up(admitted)
    return answer


def _kept_with_the_change(
    admitted: Admitted, key: str, answer: dict[str, Any], status: int, logged: dict[str, Any]
) -> dict[str, Any]:
    if admitted.kept is not None and admitted.kept.written:
        return answer
    try:
        first = replays.first_answer(key)
        if first is None and status < 500:
            try:
                replays.keep_first_answer(key, _kept_form(answer), wall_clock())
                return answer
            except Conflict:
                first = replays.first_answer(key)  # a twin's answer was kept meanwhile
    except (DependencyUnavailable, InvalidInput) as e:
        logger.warning("answer not kept for replays", extra={**logged, "reason": type(e).__name__})
        return answer
    return answer if first is None else _replayed(first)


def give_up(admitted: Admitted) -> None:
    """The route raised, or failed transiently: a claim is given up, so that the same request may
    run again. (A callback holds no claim: it wrote nothing, or its answer with its change.)"""
    key, claimed = admitted.replay_key, admitted.claim
    if key is None or claimed is None:
        return
    logged = {"path": admitted.path, "replay": key[:12]}
    try:
        replays.release(key, claimed, wall_clock())
    except Conflict:
        logger.warning("replay claim lapsed: a twin took it over", extra=logged)
    except DependencyUnavailable:
        logger.warning("replay claim not given up: it lapses with its lease", extra=logged)


def _body_bytes(event: dict[str, Any]) -> bytes | None:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    return str(body).encode("utf-8", errors="surrogateescape")
