"""`make run`: one sample application, end to end, on the local runtime.

The service network submits the application (POST /applications): an invalid one is refused at
once with every problem named; a valid one runs to its end while simulated partners answer, and
its timeline is printed as it grows. Exit 0 when the case ended as designed: a sample whose name
says `.invalid` is refused, any other completes (with its EMS delivery when the result is paper);
a transfer's seller holds the named title before the run, and it verifies as revoked after.
"""

import argparse
import json
import logging
import sys
import time
from datetime import datetime, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from zerovisit.catalog_files import read_catalog
from zerovisit.clock import CHINA, clock
from zerovisit.domain.catalog import Matter
from zerovisit.domain.model import TimelineEntry
from zerovisit.domain.workdays import working_days_text
from zerovisit.observability import logger
from zerovisit.storage import cases
from zerovisit.wording import counted

from infra.local.partners import Exchange, PartnerSimulator
from infra.local.registry import hold_sellers_title
from infra.local.runtime import CATALOG_DIR, ROOT, LocalRuntime

SAMPLE = ROOT / "events" / "application_submitted.business_startup.json"
RUN_SECONDS = 120.0
# A stage's review requests go out in parallel; partners answer once all are out (bounded wait).
DISPATCH_SETTLE_SECONDS = 5.0
# How long before the run a transfer's seller registered the title the sample names.
TITLE_AGE = timedelta(days=5 * 365)


class ProgressPrinter:
    """Prints the case's timeline entries as they appear; the review requests of one stage in the
    catalog's order of its departments."""

    def __init__(self, case_id: str, matter: Matter) -> None:
        self.case_id = case_id
        self.rank = {d.name: i for s in matter.stages for i, d in enumerate(s.departments)}
        self.shown: set[TimelineEntry] = set()

    def __call__(self, exchange: Exchange | None = None) -> None:
        fresh = [e for e in cases.timeline(self.case_id) if e not in self.shown]
        for entry in self._in_catalog_order(sorted(fresh, key=lambda e: e.at)):
            at = entry.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
            print(f"  {at}  {entry.step:<13} {entry.event:<24} {entry.detail}", flush=True)
        self.shown.update(fresh)

    def _in_catalog_order(self, entries: list[TimelineEntry]) -> list[TimelineEntry]:
        """Consecutive requests of one stage (reviews, or the services after issuance), sorted by the
        department's place in the stage."""
        ordered: list[TimelineEntry] = []
        for stage, group in groupby(
            entries, key=lambda e: _stage(e) if e.event in ("review requested", "service requested") else None
        ):
            run = list(group)
            ordered += (
                run if stage is None else sorted(run, key=lambda e: self.rank.get(_department_of(e), -1))
            )
        return ordered


def _stage(entry: TimelineEntry) -> str:
    return entry.detail.partition(":")[0]


def _department_of(entry: TimelineEntry) -> str:
    """'stage 2: 税务局（发票申领）, due 2026-02-14' -> '税务局（发票申领）'."""
    return entry.detail.partition(": ")[2].rpartition(", due ")[0]


class CatalogOrderPartners(PartnerSimulator):
    """Partners that answer a stage's review requests once all of them are out, in catalog order."""

    def __init__(self, runtime: LocalRuntime, case_id: str, matter: Matter) -> None:
        super().__init__(runtime)
        self.case_id = case_id
        self.matter = matter
        self.rank = {d.code: i for s in matter.stages for i, d in enumerate(s.departments)}
        self.requested: dict[int, set[str]] = {}

    def answer_pending(self) -> list[Exchange]:
        events = self._receive()
        deadline = time.monotonic() + DISPATCH_SETTLE_SECONDS
        while self._stage_incomplete() and time.monotonic() < deadline:
            time.sleep(0.02)
            events += self._receive()
        ordered = sorted(events, key=lambda e: self.rank.get(str(e[1].get("department")), -1))
        return [self._answer(detail_type, detail) for detail_type, detail in ordered]

    def _receive(self) -> list[tuple[str, dict[str, Any]]]:
        events = []
        while messages := self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                event = json.loads(message["Body"])
                events.append((event["detail-type"], event["detail"]))
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
                if event["detail-type"] == "ReviewRequested":
                    stage = int(event["detail"]["stage"])
                    self.requested.setdefault(stage, set()).add(event["detail"]["department"])
        return events

    def _stage_incomplete(self) -> bool:
        """Whether the newest stage has fewer requests than departments to review (a regional
        assessment's departments are skipped)."""
        if not self.requested:
            return False
        stage = max(self.requested)
        with self.runtime.exclusive():
            skipped = {
                e.detail.partition(":")[0]
                for e in cases.timeline(self.case_id)
                if e.event == "evaluation skipped"
            }
        expected = {d.code for d in self.matter.stages[stage - 1].departments} - skipped
        return not expected <= self.requested[stage]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--event", type=Path, default=SAMPLE, help="an ApplicationSubmitted event (JSON)")
    parser.add_argument(
        "--at", default=None, help="simulated submission time, ISO 8601 (default: the event's submitted_at)"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="also print the functions' log and metric lines"
    )
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    detail = event["detail"]
    expect_refusal = ".invalid" in args.event.name
    clock.set(datetime.fromisoformat(args.at or detail["submitted_at"]))
    matters = {m.code: m for m in read_catalog(CATALOG_DIR.glob("*.yaml"))}

    started = time.perf_counter()
    print("Starting the local runtime from template.yaml (moto, no Docker) ...", flush=True)
    with LocalRuntime() as runtime:
        logger.setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
        if not args.verbose:
            runtime.silence_metrics()
        print(
            f"  stack up in {time.perf_counter() - started:.1f}s: {len(runtime.resources)} resources",
            flush=True,
        )
        case_id = detail["application_id"]
        title = hold_sellers_title(runtime, detail, issued_at=clock.now() - TITLE_AGE)
        if title is not None:
            print(f"Registry: the seller holds title {title}, registered before this run", flush=True)
        print(f"Submitting {detail['matter_code']} application {case_id} (POST /applications)", flush=True)
        submitted = runtime.signed_http("service-network", "POST", "/applications", detail)
        if submitted.status >= 400:
            return _refused(submitted.status, submitted.body, expect_refusal)
        matter = matters[detail["matter_code"]]
        progress = ProgressPrinter(case_id, matter)
        try:
            status = CatalogOrderPartners(runtime, case_id, matter).run_until_closed(
                case_id, timeout_seconds=RUN_SECONDS, on_exchange=progress
            )
        except TimeoutError:
            progress()
            print(f"\nThe case did not end within {RUN_SECONDS:.0f}s of real time: NOT as designed.")
            return 1
        progress()
        view = runtime.signed_http("service-network", "GET", f"/cases/{case_id}").body
        transitions = sum(1 for e in runtime.history(case_id) if e["type"].endswith("StateEntered"))
        old_title = None if title is None else _old_title(runtime, title)
        return _outcome(
            status, view, matter, expect_refusal, transitions, time.perf_counter() - started, old_title
        )


def _old_title(runtime: LocalRuntime, title: str) -> tuple[str, bool]:
    """What the public verification route says of the seller's old title, and whether it is
    revoked: a transfer is done only when the old title no longer verifies as valid."""
    verified = runtime.http("GET", f"/certificates/{title}/verify")
    if verified.status != 200:
        return f"seller's old title {title}: verification answered HTTP {verified.status}", False
    status, reason = verified.body["status"], verified.body.get("revoked_reason")
    line = f"seller's old title {title} now verifies as {status} (GET /certificates/{{id}}/verify)" + (
        f": {reason}" if reason else ""
    )
    return line, status == "revoked"


def _refused(status: int, body: Any, expect_refusal: bool) -> int:
    problems = body.get("problems", []) if isinstance(body, dict) else []
    print(f"\nRefused at once (HTTP {status}), nothing was opened; {counted(len(problems), 'problem')}:")
    for problem in problems:
        print(f"  - {problem}")
    print("Refused as designed for an invalid sample." if expect_refusal else "NOT as designed: refused.")
    return 0 if expect_refusal else 1


def _outcome(
    status: str,
    view: dict[str, Any],
    matter: Matter,
    expect_refusal: bool,
    transitions: int,
    seconds: float,
    old_title: tuple[str, bool] | None = None,
) -> int:
    used = view["working_days_used"]
    print()
    print(f"Execution {status}; case {view['case_number']} is {view['status']}")
    print(
        f"  accepted {view['accepted_on']}, promised due {view['promised_due']}, "
        f"statutory due {view['statutory_due']}, {working_days_text(used or 0)} used"
    )
    paper = matter.certificate.paper_original
    delivery = f"EMS {view['waybill']}" if view["waybill"] else "no EMS delivery"
    if not paper:
        delivery = "electronic only, nothing to send by EMS"
    print(f"  certificate {view['certificate_id'] or '(none)'}; {delivery}")
    if old_title is not None:
        print(f"  {old_title[0]}")
    print(f"  {transitions} states entered; {seconds:.1f}s of real time")
    completed = status == "SUCCEEDED" and view["status"] == "completed" and (view["waybill"] or not paper)
    completed = completed and (old_title is None or old_title[1])
    as_designed = completed and not expect_refusal
    print("Completed as designed." if as_designed else "NOT as designed.")
    return 0 if as_designed else 1


if __name__ == "__main__":
    sys.exit(main())
