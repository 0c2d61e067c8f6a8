"""The replay store behind the API (zerovisit.storage.replays), through the real handler on the local
runtime: a twin sent while the first request runs, and the store failing before and after the route.

A signed request that changes something is claimed before its route runs; the same request again
gets the first answer, a twin still running gets 409, and a store failure is a 503 before anything
runs, or after the route changes nothing in its answer."""

import json
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast
from uuid import uuid4

import pytest
from botocore.exceptions import ClientError
from pynamodb.exceptions import PutError
from zerovisit.api import boundary
from zerovisit.domain.case import Change
from zerovisit.domain.model import TaskRef, TaskStatus, TimelineEntry
from zerovisit.domain.signature import signed_headers_v2
from zerovisit.errors import Conflict, DependencyUnavailable
from zerovisit.services import review
from zerovisit.storage import cases, replays

from infra.local.runtime import HttpResponse, LocalRuntime
from tests.integration.conftest import partition

WAIT_SECONDS = 30.0
NETWORK = "service-network"


class Decision:
    """One signed decision on the waiting review task, sent as often as a test likes: the same
    headers each time, so every send after the first is a replay of it."""

    def __init__(self, runtime: LocalRuntime, task: dict[str, Any]) -> None:
        self.runtime = runtime
        self.task_id, self.case_id, partner = task["task_id"], task["case_id"], task["partner_id"]
        self.path = f"/reviews/{self.task_id}/decision"
        self.body = json.dumps({"decision": "approve", "comments": "同意"}, ensure_ascii=False)
        secret = runtime.partner_secrets[partner]
        self.headers = signed_headers_v2(partner, secret, "POST", self.path, self.body.encode())

    def send(self) -> HttpResponse:
        return self.runtime.http("POST", self.path, self.body, self.headers)

    def decided(self) -> int:
        return [e.event for e in cases.timeline(self.case_id)].count("decided")

    def task_status(self) -> TaskStatus:
        return cases.get_task(TaskRef.parse(self.task_id)).status


class Withdrawal:
    """The applicant's withdrawal of the waiting case, signed once: a route that keeps its answer
    after its write, in a write of its own."""

    def __init__(self, runtime: LocalRuntime, task: dict[str, Any]) -> None:
        self.runtime, self.case_id = runtime, task["case_id"]
        self.path = f"/applications/{self.case_id}/withdrawal"
        self.body = json.dumps({"reason": "申请人撤回申请"}, ensure_ascii=False)
        secret = runtime.partner_secrets[NETWORK]
        self.headers = signed_headers_v2(NETWORK, secret, "POST", self.path, self.body.encode())

    def send(self) -> HttpResponse:
        return self.runtime.http("POST", self.path, self.body, self.headers)

    def withdrawn(self) -> int:
        """The applicant's withdrawals on record (the closing step notes its own)."""
        return [(e.step, e.event) for e in cases.timeline(self.case_id)].count(("review", "withdrawn"))


@pytest.fixture
def decision(runtime: LocalRuntime, waiting_review: dict[str, Any]) -> Decision:
    return Decision(runtime, waiting_review)


@pytest.fixture
def withdrawal(runtime: LocalRuntime, waiting_review: dict[str, Any]) -> Withdrawal:
    return Withdrawal(runtime, waiting_review)


@pytest.fixture
def decisions_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each time the decision route's service runs."""
    made: list[str] = []
    decide = review.decide

    def counted(task_id: str, *args: Any) -> dict[str, Any]:
        made.append(task_id)
        return decide(task_id, *args)

    monkeypatch.setattr(review, "decide", counted)
    return made


def failing_replay_puts(
    monkeypatch: pytest.MonkeyPatch, code: str, message: str, which: Callable[[replays.ReplayItem], bool]
) -> list[str]:
    """The replay store's puts that ``which`` picks fail as DynamoDB fails them; returns a record of
    each failure (the item's state: claim, answer or release)."""
    failed: list[str] = []
    save = replays.ReplayItem.save

    def failing(item: replays.ReplayItem, *args: Any, **kwargs: Any) -> Any:
        if which(item):
            failed.append(state(item))
            raise PutError(cause=ClientError({"Error": {"Code": code, "Message": message}}, "PutItem"))
        return save(item, *args, **kwargs)

    monkeypatch.setattr(replays.ReplayItem, "save", failing)
    return failed


def state(item: replays.ReplayItem) -> str:
    if item.body is not None:
        return "answer"
    return "claim" if item.lease_until else "release"


THROTTLED = (
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput exceeded",
)
TOO_LARGE = ("ValidationException", "Item size has exceeded the maximum allowed size")


def test_a_twin_sent_while_the_first_runs_gets_409_and_nothing_runs_twice(
    runtime: LocalRuntime, decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda would run the twin in a second execution environment. The local runtime gives the API
    one (Powertools keeps the request being resolved on a class), so the test calls the real handler
    without the runtime's lock, and holds the first request inside its route until the twin is
    answered: the two never touch the event handler's state at once."""
    api = runtime._handlers["ApiFunction"]
    monkeypatch.setitem(runtime._handlers, "ApiFunction", lambda event, context: api(event, context))
    in_route, twin_answered = threading.Event(), threading.Event()
    made: list[str] = []
    decide = review.decide

    def held(task_id: str, *args: Any) -> dict[str, Any]:
        made.append(task_id)
        if len(made) == 1:
            in_route.set()
            twin_answered.wait(WAIT_SECONDS)
        return decide(task_id, *args)

    monkeypatch.setattr(review, "decide", held)
    answers: dict[str, HttpResponse] = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", decision.send()))

    with runtime.concurrently():
        first.start()
        assert in_route.wait(WAIT_SECONDS)
        twin = threading.Thread(target=lambda: answers.setdefault("twin", decision.send()))
        twin.start()
        twin.join(WAIT_SECONDS)
        twin_answered.set()
        first.join(WAIT_SECONDS)
    replayed = decision.send()

    assert answers["first"].status == 200
    assert answers["twin"].status == 409
    assert "being answered now" in answers["twin"].body["message"]
    assert answers["twin"].headers.get("Retry-After") == "2"  # told apart from a final 409
    assert made == [decision.task_id]  # the route ran once
    assert decision.decided() == 1
    assert (replayed.status, replayed.body) == (200, answers["first"].body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"


def test_the_replay_store_failing_before_the_route_is_503_and_nothing_runs(
    decision: Decision, decisions_made: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = partition(decision.case_id)
    failed = failing_replay_puts(monkeypatch, *THROTTLED, which=lambda item: state(item) == "claim")

    refused = decision.send()

    assert refused.status == 503
    assert refused.body == {"message": "temporarily unavailable, try again", "problems": []}
    assert failed == ["claim"]
    assert decisions_made == []
    assert partition(decision.case_id) == before
    assert decision.task_status() is TaskStatus.OPEN


@pytest.mark.parametrize(
    ("failure", "failing"),
    [
        # the answer cannot be kept, the claim is given up: a replay runs the route again
        (TOO_LARGE, ("answer",)),
        # every later put is throttled: the claim stays until its lease lapses
        (THROTTLED, ("answer", "release")),
    ],
    ids=["answer too large", "store throttled"],
)
def test_an_answer_the_store_cannot_keep_is_still_answered_and_a_replay_has_no_second_effect(
    withdrawal: Withdrawal,
    monkeypatch: pytest.MonkeyPatch,
    failure: tuple[str, str],
    failing: tuple[str, ...],
) -> None:
    failed = failing_replay_puts(monkeypatch, *failure, which=lambda item: state(item) in failing)

    first = withdrawal.send()
    during_lease = withdrawal.send()
    real_time = boundary.wall_clock
    monkeypatch.setattr(boundary, "wall_clock", lambda: real_time() + timedelta(seconds=40))
    later = withdrawal.send()  # inside the signature's window, past any claim's lease

    assert first.status == 200
    assert first.body == {"case_id": withdrawal.case_id, "status": "withdrawn"}
    assert failed[: len(failing)] == list(failing)
    if "release" in failing:
        assert during_lease.status == 409  # the first claim still stands: retry
    else:
        assert (during_lease.status, during_lease.body) == (200, first.body)
    assert (later.status, later.body) == (200, first.body)  # the route's own idempotency
    assert "X-ZV-Replayed" not in later.headers
    assert withdrawal.withdrawn() == 1


def test_a_callbacks_answer_is_written_with_its_change_and_nothing_after(
    decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    puts: list[str] = []
    save = replays.ReplayItem.save

    def recorded(item: replays.ReplayItem, *args: Any, **kwargs: Any) -> Any:
        puts.append(state(item))
        return save(item, *args, **kwargs)

    monkeypatch.setattr(replays.ReplayItem, "save", recorded)

    first = decision.send()
    replayed = decision.send()

    assert first.status == 200
    assert first.body["status"] == "recorded"
    assert puts == ["claim", "claim"]  # the answer went with the decision's own transaction
    assert (replayed.status, replayed.body) == (200, first.body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert decision.decided() == 1


def test_a_function_stopped_right_after_the_callbacks_write_leaves_its_answer_for_the_replay(
    decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    decide = review.decide

    def stopped_after_the_write(task_id: str, *args: Any) -> dict[str, Any]:
        decide(task_id, *args)
        raise RuntimeError("the function stopped")

    monkeypatch.setattr(review, "decide", stopped_after_the_write)
    first = decision.send()
    monkeypatch.setattr(review, "decide", decide)
    replayed = decision.send()  # at once: no lease to wait out

    assert first.status == 500
    assert replayed.status == 200
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert replayed.body["status"] == "recorded"
    assert replayed.body["decision"]["decision"] == "approve"
    assert decision.decided() == 1
    assert decision.task_status() is TaskStatus.ANSWERED


@pytest.mark.parametrize(
    ("error", "status"),
    [(DependencyUnavailable("case storage unavailable"), 503), (RuntimeError("the function crashed"), 500)],
    ids=["transient", "crash"],
)
def test_a_request_whose_route_failed_runs_again_when_sent_again(
    decision: Decision, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    decide = review.decide
    calls: list[str] = []

    def failing_once(task_id: str, *args: Any) -> dict[str, Any]:
        calls.append(task_id)
        if len(calls) == 1:
            raise error
        return decide(task_id, *args)

    monkeypatch.setattr(review, "decide", failing_once)

    failed = decision.send()
    again = decision.send()

    assert failed.status == status
    assert again.status == 200
    assert "X-ZV-Replayed" not in again.headers
    assert len(calls) == 2
    assert decision.decided() == 1


def test_a_claim_is_the_first_callers_until_its_lease_lapses(runtime: LocalRuntime) -> None:
    digest = uuid4().hex
    now = boundary.real_time()
    lease = timedelta(seconds=30)

    with runtime.exclusive():
        first = replays.claim(digest, now, lease)
        twin = replays.claim(digest, now + timedelta(seconds=29), lease)
        after_the_lease = replays.claim(digest, now + timedelta(seconds=31), lease)
        assert isinstance(first, replays.Claimed)
        assert isinstance(after_the_lease, replays.Claimed)
        # the first holder answers late: its claim was taken over, so its answer is not kept
        with pytest.raises(Conflict):
            replays.keep_answer(
                digest, first, replays.Answer(200, {"ok": "late"}), now + timedelta(seconds=32)
            )
        with pytest.raises(Conflict):
            replays.release(digest, first, now + timedelta(seconds=32))
        still_running = replays.claim(digest, now + timedelta(seconds=33), lease)
        replays.keep_answer(
            digest, after_the_lease, replays.Answer(200, {"ok": True}), now + timedelta(seconds=34)
        )
        replay = replays.claim(digest, now + timedelta(seconds=60), lease)

    assert isinstance(twin, replays.Pending)
    assert isinstance(still_running, replays.Pending)  # the twin's claim stands
    assert replay == replays.Answer(200, {"ok": True})


def replay_item(decision: Decision) -> replays.ReplayItem:
    [item] = [
        i
        for i in replays.ReplayItem.scan(replays.ReplayItem.pk.startswith("REPLAY#"))
        if i.body is not None and decision.task_id in i.body
    ]
    return item


def test_a_kept_answer_is_kept_for_its_time_on_the_real_clock(decision: Decision) -> None:
    """The domain clock the tests move is not the time the store keeps a replay by."""
    first = decision.send()

    expires_at = replay_item(decision).expires_at
    expected = (boundary.real_time() + replays.KEEP).timestamp()
    assert first.status == 200
    assert abs(expires_at - expected) < 60


def test_a_claim_taken_over_during_the_route_is_503_at_once_and_nothing_is_written(
    decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another invocation took the request over (its lease ran out here): deciding again cannot
    write the answer, so the route stops at once, and the partner's retry finds the other answer."""
    decide = review.decide
    saves: list[int] = []
    save = cases.save

    def counted(*args: Any, **kwargs: Any) -> Any:
        saves.append(1)
        return save(*args, **kwargs)

    def taken_over(task_id: str, *args: Any) -> dict[str, Any]:
        for item in replays.ReplayItem.scan(replays.ReplayItem.pk.startswith("REPLAY#")):
            if item.body is None and item.lease_until:
                item.lease_until += 1  # as a twin's claim would stand now
                item.save()
        return decide(task_id, *args)

    monkeypatch.setattr(review, "decide", taken_over)
    monkeypatch.setattr(cases, "save", counted)
    refused = decision.send()

    assert refused.status == 503
    assert saves == [1]
    assert decision.decided() == 0
    assert decision.task_status() is TaskStatus.OPEN


def test_a_write_whose_reply_was_lost_is_answered_as_the_first_call_was(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    """DynamoDB committed the write, its reply was lost, and the SDK sent the same transaction
    again with the client request token it generated for the call: DynamoDB answers the resend as
    the first call instead of failing it on the claim the first call answered (an EMS status in
    transit is such a write: a note and the answer, with no decision to read again)."""
    case_id, digest, now = waiting_review["case_id"], uuid4().hex, boundary.real_time()
    with runtime.exclusive():
        claimed = replays.claim(digest, now, timedelta(seconds=30))
    assert isinstance(claimed, replays.Claimed)
    entry = TimelineEntry(at=now, step="delivery", event="tracking", detail="EMS: in_transit", actor="ems")
    answer = replays.Answer(200, {"status": "in_transit"})
    client = cases._connection().client
    resent: list[int] = []

    def lose_the_first_reply(attempts: int, **kwargs: Any) -> int | None:
        if attempts == 1 and not resent:
            resent.append(attempts)
            return 0  # send again at once, as after a timeout
        return None

    # botocore's stubs type every hook as returning None; a needs-retry hook returns the delay
    hook = cast(Callable[..., None], lose_the_first_reply)
    client.meta.events.register("needs-retry.dynamodb.TransactWriteItems", hook)
    try:
        with runtime.exclusive():
            cases.save(
                Change(case_id, 0, None, (entry,)), now, cases.ReplayAnswer(digest, claimed, answer, now)
            )
    finally:
        client.meta.events.unregister("needs-retry.dynamodb.TransactWriteItems", hook)
    with runtime.exclusive():
        replay = replays.claim(digest, now + timedelta(seconds=1), timedelta(seconds=30))

    assert resent == [1]
    assert replay == answer
    assert [e.detail for e in cases.timeline(case_id)].count("EMS: in_transit") == 1
