"""The replay store behind the API (zerovisit.storage.replays), through the real handler on the local
runtime: a twin sent while the first request runs, and the store failing before and after the route.

A partner's callback keeps its answer in its own write, on the condition that none is kept yet: the
same request again, or a twin, writes nothing and gets the first answer. Any other signed request
that changes something is claimed before its route runs: the same request again gets the first
answer, a twin still running gets 409, and a store failure is a 503 before anything runs, or after
the route changes nothing in its answer."""

import hashlib
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
from zerovisit.clock import clock
from zerovisit.domain.case import Change
from zerovisit.domain.model import TaskRef, TaskStatus, TimelineEntry
from zerovisit.domain.signature import signed_headers_v2
from zerovisit.errors import Conflict, DependencyUnavailable
from zerovisit.services import recovery, review
from zerovisit.storage import cases, replays

from infra.local.partners import Exchange, PartnerSimulator
from infra.local.runtime import HttpResponse, LocalRuntime
from tests.integration.conftest import partition
from tests.support import application, held_transfer

WAIT_SECONDS = 30.0
NETWORK = "service-network"


class Decision:
    """One signed decision on the waiting review task, sent as often as a test likes: the same
    headers each time, so every send after the first is a replay of it."""

    def __init__(
        self, runtime: LocalRuntime, task: dict[str, Any], verdict: str = "approve", **more: str
    ) -> None:
        self.runtime = runtime
        self.task_id, self.case_id, partner = task["task_id"], task["case_id"], task["partner_id"]
        self.path = f"/reviews/{self.task_id}/decision"
        self.body = json.dumps({"decision": verdict, "comments": "意见", **more}, ensure_ascii=False)
        secret = runtime.partner_secrets[partner]
        self.headers = signed_headers_v2(partner, secret, "POST", self.path, self.body.encode())

    def send(self) -> HttpResponse:
        return self.runtime.http("POST", self.path, self.body, self.headers)

    def decided(self) -> int:
        return [e.event for e in cases.timeline(self.case_id)].count("decided")

    def task_status(self) -> TaskStatus:
        return cases.get_task(TaskRef.parse(self.task_id)).status

    def replay_digest(self) -> str:
        partner = self.headers["X-ZV-Partner"]
        return hashlib.sha256(f"{partner}\n{self.headers['X-ZV-Signature'].lower()}".encode()).hexdigest()


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


@pytest.fixture
def replay_puts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Each put of the replay store's own (claim, answer or release), in order; a put in a case's
    transaction is not one."""
    puts: list[str] = []
    save = replays.ReplayItem.save

    def recorded(item: replays.ReplayItem, *args: Any, **kwargs: Any) -> Any:
        puts.append(state(item))
        return save(item, *args, **kwargs)

    monkeypatch.setattr(replays.ReplayItem, "save", recorded)
    return puts


def state(item: replays.ReplayItem) -> str:
    if item.body is not None:
        return "answer"
    return "claim" if item.lease_until else "release"


THROTTLED = (
    "ProvisionedThroughputExceededException",
    "The level of configured provisioned throughput exceeded",
)
TOO_LARGE = ("ValidationException", "Item size has exceeded the maximum allowed size")


def held_in_the_route(
    monkeypatch: pytest.MonkeyPatch, module: Any, name: str
) -> tuple[list[Any], threading.Event, threading.Event]:
    """``module.name``, which the route calls, records each call's first argument and holds the
    first call inside it until told; returns (calls, entered, released). The twin runs meanwhile in
    a second execution environment of the API, as Lambda would run it."""
    entered, released = threading.Event(), threading.Event()
    runs: list[Any] = []
    service = getattr(module, name)

    def held(first: Any, *args: Any) -> Any:
        runs.append(first)
        if len(runs) == 1:
            entered.set()
            released.wait(WAIT_SECONDS)
        return service(first, *args)

    monkeypatch.setattr(module, name, held)
    return runs, entered, released


def send_twins(
    runtime: LocalRuntime,
    send: Callable[[], HttpResponse],
    entered: threading.Event,
    released: threading.Event,
) -> dict[str, HttpResponse]:
    """The first request, held in its route; a twin sent and answered meanwhile; then the first let go."""
    answers: dict[str, HttpResponse] = {}
    first = threading.Thread(target=lambda: answers.setdefault("first", send()))
    with runtime.concurrently():
        first.start()
        assert entered.wait(WAIT_SECONDS)
        twin = threading.Thread(target=lambda: answers.setdefault("twin", send()))
        twin.start()
        twin.join(WAIT_SECONDS)
        released.set()
        first.join(WAIT_SECONDS)
    return answers


def test_a_twin_sent_while_the_first_runs_gets_409_and_nothing_runs_twice(
    runtime: LocalRuntime, withdrawal: Withdrawal, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs, entered, released = held_in_the_route(monkeypatch, recovery, "withdraw")

    answers = send_twins(runtime, withdrawal.send, entered, released)
    replayed = withdrawal.send()

    assert answers["first"].status == 200
    assert answers["twin"].status == 409
    assert "being answered now" in answers["twin"].body["message"]
    assert answers["twin"].headers.get("Retry-After") == "2"  # told apart from a final 409
    assert runs == [withdrawal.case_id]  # the route ran once
    assert withdrawal.withdrawn() == 1
    assert (replayed.status, replayed.body) == (200, answers["first"].body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"


def test_a_callbacks_twin_sent_while_the_first_runs_gets_the_one_answer_and_decides_once(
    runtime: LocalRuntime, decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both run their route: the first is held just before its write, the twin writes, and the
    first's write, which would keep a second answer, fails whole: it sends the twin's answer."""
    writes, entered, released = held_in_the_route(monkeypatch, cases, "save")

    answers = send_twins(runtime, decision.send, entered, released)
    replayed = decision.send()

    decisions = [w for w in writes if any(entry.event == "decided" for entry in w.entries)]
    assert len(decisions) == 2  # the first's, which failed, and the twin's; the replay wrote none
    assert (answers["twin"].status, answers["twin"].body["status"]) == (200, "recorded")
    assert "X-ZV-Replayed" not in answers["twin"].headers  # its write kept its answer
    assert (answers["first"].status, answers["first"].body) == (200, answers["twin"].body)
    assert answers["first"].headers.get("X-ZV-Replayed") == "true"
    assert (replayed.status, replayed.body) == (200, answers["twin"].body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert decision.decided() == 1
    assert decision.task_status() is TaskStatus.ANSWERED


def test_the_replay_store_failing_before_the_route_is_503_and_nothing_runs(
    withdrawal: Withdrawal, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = partition(withdrawal.case_id)
    runs: list[str] = []
    withdraw = recovery.withdraw

    def counted(case_id: str, *args: Any) -> dict[str, Any]:
        runs.append(case_id)
        return withdraw(case_id, *args)

    monkeypatch.setattr(recovery, "withdraw", counted)
    failed = failing_replay_puts(monkeypatch, *THROTTLED, which=lambda item: state(item) == "claim")

    refused = withdrawal.send()

    assert refused.status == 503
    assert refused.body == {"message": "temporarily unavailable, try again", "problems": []}
    assert failed == ["claim"]
    assert runs == []
    assert partition(withdrawal.case_id) == before


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
    decision: Decision, replay_puts: list[str]
) -> None:

    first = decision.send()
    replayed = decision.send()

    assert first.status == 200
    assert first.body["status"] == "recorded"
    assert replay_puts == []  # no claim: the answer went with the decision's own transaction
    assert (replayed.status, replayed.body) == (200, first.body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert decision.decided() == 1


@pytest.mark.parametrize("flow", ["business_startup", "real_estate_transfer"])
def test_every_callback_of_a_whole_case_keeps_its_answer_in_its_own_write(
    runtime: LocalRuntime, replay_puts: list[str], flow: str
) -> None:
    """Decisions, the payment and each EMS status: none claims first, none keeps its answer after."""
    detail = (
        held_transfer(runtime, submitted_at=clock.now().isoformat())
        if flow == "real_estate_transfer"
        else application(submitted_at=clock.now().isoformat())
    )
    runtime.put_event("gov.service-network", "ApplicationSubmitted", detail)
    callbacks: list[HttpResponse] = []

    def seen(exchange: Exchange) -> None:
        callbacks.extend(r for r in exchange.responses if r.headers.get("X-ZV-Replayed") != "true")

    status = PartnerSimulator(runtime).run_until_closed(detail["application_id"], on_exchange=seen)

    answered = [r for r in callbacks if r.status == 200]
    assert status == "SUCCEEDED"
    assert len(answered) == len(callbacks) >= (4 if flow == "business_startup" else 6)
    assert replay_puts == []


def test_a_callbacks_refusal_is_kept_after_its_route_and_its_replay_gets_it(
    runtime: LocalRuntime, waiting_review: dict[str, Any], replay_puts: list[str]
) -> None:
    approval = Decision(runtime, waiting_review)
    rejection = Decision(runtime, waiting_review, "reject")
    assert approval.send().status == 200
    replay_puts.clear()

    refused = rejection.send()
    replayed = rejection.send()

    assert refused.status == 409  # the task is closed with another answer
    assert "X-ZV-Replayed" not in refused.headers
    assert (replayed.status, replayed.body) == (409, refused.body)
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert replay_puts == ["answer"]  # kept once, after the route that wrote nothing
    assert approval.decided() == 1


def sent_stopping_after_the_write(decision: Decision, monkeypatch: pytest.MonkeyPatch) -> HttpResponse:
    """The decision sent once, its function stopping right after the service's write."""
    decide = review.decide

    def stopped_after_the_write(task_id: str, *args: Any) -> dict[str, Any]:
        decide(task_id, *args)
        raise RuntimeError("the function stopped")

    monkeypatch.setattr(review, "decide", stopped_after_the_write)
    try:
        return decision.send()
    finally:
        monkeypatch.setattr(review, "decide", decide)


def test_a_function_stopped_right_after_the_callbacks_write_leaves_its_answer_for_the_replay(
    decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = sent_stopping_after_the_write(decision, monkeypatch)
    replayed = decision.send()  # at once: no lease to wait out

    assert first.status == 500
    assert replayed.status == 200
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    assert replayed.body["status"] == "recorded"
    assert replayed.body["decision"]["decision"] == "approve"
    assert decision.decided() == 1
    assert decision.task_status() is TaskStatus.ANSWERED


def test_a_suspension_keeps_its_answer_with_it_for_a_replay_after_the_task_is_decided(
    runtime: LocalRuntime, waiting_review: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suspension is written, the function stops before answering, and the department then
    decides: the suspension sent again gets its first answer, and suspends nothing again."""
    suspension = Decision(runtime, waiting_review, "suspend", reason="on_site_inspection")
    stopped = sent_stopping_after_the_write(suspension, monkeypatch)
    approved = Decision(runtime, waiting_review).send()
    replayed = suspension.send()

    assert stopped.status == 500
    assert approved.status == 200
    assert replayed.status == 200
    assert (replayed.body["status"], replayed.body["reason"]) == ("suspended", "on_site_inspection")
    assert replayed.headers.get("X-ZV-Replayed") == "true"
    events = [e.event for e in cases.timeline(suspension.case_id)]
    assert events.count("clock suspended") == 1
    assert suspension.task_status() is TaskStatus.ANSWERED


def test_a_callback_that_wrote_nothing_sends_a_twins_answer_kept_just_before_its_own(
    runtime: LocalRuntime, waiting_review: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refusal looked for a kept answer and found none; a twin's was kept before the refusal
    could keep its own: the twin's answer is sent, the refusal is not kept."""
    assert Decision(runtime, waiting_review).send().status == 200
    rejection = Decision(runtime, waiting_review, "reject")
    twins = replays.Answer(409, {"message": "the twin's answer", "problems": []})
    first_answer = replays.first_answer
    looked: list[replays.Answer | None] = []

    def kept_just_after(digest: str) -> replays.Answer | None:
        found = first_answer(digest)
        if not looked:
            replays.keep_first_answer(digest, twins, boundary.real_time())
        looked.append(found)
        return found

    monkeypatch.setattr(replays, "first_answer", kept_just_after)
    sent = rejection.send()

    assert looked == [None, twins]
    assert (sent.status, sent.body) == (409, twins.body)
    assert sent.headers.get("X-ZV-Replayed") == "true"


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


def test_an_answer_kept_by_another_invocation_during_the_route_is_sent_and_nothing_is_written(
    decision: Decision, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another invocation answered the same request while this one ran: this one's write, which
    would keep a second answer, fails whole at once (deciding again cannot win it), and the kept
    answer is sent."""
    decide = review.decide
    saves: list[int] = []
    save = cases.save
    kept = replays.Answer(200, {"task_id": decision.task_id, "status": "recorded", "by": "the other"})

    def counted(*args: Any, **kwargs: Any) -> Any:
        saves.append(1)
        return save(*args, **kwargs)

    def answered_meanwhile(task_id: str, *args: Any) -> dict[str, Any]:
        replays.keep_first_answer(decision.replay_digest(), kept, boundary.real_time())
        return decide(task_id, *args)

    monkeypatch.setattr(review, "decide", answered_meanwhile)
    monkeypatch.setattr(cases, "save", counted)
    answer = decision.send()

    assert (answer.status, answer.body) == (200, kept.body)
    assert answer.headers.get("X-ZV-Replayed") == "true"
    assert saves == [1]
    assert decision.decided() == 0
    assert decision.task_status() is TaskStatus.OPEN


def test_a_write_whose_reply_was_lost_is_answered_as_the_first_call_was(
    runtime: LocalRuntime, waiting_review: dict[str, Any]
) -> None:
    """DynamoDB committed the write, its reply was lost, and the SDK sent the same transaction
    again with the client request token it generated for the call: DynamoDB answers the resend as
    the first call instead of failing it on the answer the first call kept (an EMS status in
    transit is such a write: a note and the answer, with no decision to read again)."""
    case_id, digest, now = waiting_review["case_id"], uuid4().hex, boundary.real_time()
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
            cases.save(Change(case_id, 0, None, (entry,)), now, cases.ReplayAnswer(digest, answer, now))
    finally:
        client.meta.events.unregister("needs-retry.dynamodb.TransactWriteItems", hook)
    with runtime.exclusive():
        replay = replays.first_answer(digest)

    assert resent == [1]
    assert replay == answer
    assert [e.detail for e in cases.timeline(case_id)].count("EMS: in_transit") == 1
