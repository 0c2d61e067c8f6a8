"""`make run`: one business start-up application, end to end, on the local runtime."""

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

from zerovisit.clock import CHINA, clock
from zerovisit.storage import cases

from infra.local.partners import Exchange, PartnerSimulator
from infra.local.runtime import ROOT, LocalRuntime

SAMPLE = ROOT / "events" / "application_submitted.business_startup.json"


class ProgressPrinter:
    """Prints the case's timeline entries as they appear."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.shown = 0

    def __call__(self, exchange: Exchange | None = None) -> None:
        entries = cases.timeline(self.case_id)
        for entry in entries[self.shown :]:
            at = entry.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
            print(f"  {at}  {entry.step:<12} {entry.event:<24} {entry.detail}", flush=True)
        self.shown = len(entries)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--event", type=Path, default=SAMPLE, help="an ApplicationSubmitted event (JSON)")
    parser.add_argument(
        "--at", default=None, help="simulated submission time, ISO 8601 (default: the event's submitted_at)"
    )
    args = parser.parse_args(argv)
    event = json.loads(args.event.read_text(encoding="utf-8"))
    detail = event["detail"]
    clock.set(datetime.fromisoformat(args.at or detail["submitted_at"]))

    started = time.perf_counter()
    print("Starting the local runtime from template.yaml (moto, no Docker) ...", flush=True)
    with LocalRuntime() as runtime:
        print(
            f"  stack up in {time.perf_counter() - started:.1f}s: {len(runtime.resources)} resources",
            flush=True,
        )
        case_id = detail["application_id"]
        print(
            f"Submitting {detail['matter_code']} application {case_id} on the service network bus", flush=True
        )
        runtime.put_event(event["source"], event["detail-type"], detail)
        progress = ProgressPrinter(case_id)
        progress()
        status = PartnerSimulator(runtime).run_until_closed(case_id, on_exchange=progress)
        progress()
        view = runtime.signed_http("service-network", "GET", f"/cases/{case_id}").body
        transitions = sum(1 for e in runtime.history(case_id) if e["type"].endswith("StateEntered"))
        print()
        print(f"Execution {status}; case {view['case_number']} is {view['status']}")
        print(
            f"  accepted {view['accepted_on']}, promised due {view['promised_due']}, "
            f"statutory due {view['statutory_due']}, {view['working_days_used']} working days used"
        )
        print(f"  certificate {view['certificate_id']}, EMS {view['waybill']}")
        print(f"  {transitions} states entered; {time.perf_counter() - started:.1f}s of real time")
        delivered = status == "SUCCEEDED" and view["status"] == "completed" and view["waybill"]
        return 0 if delivered else 1


if __name__ == "__main__":
    sys.exit(main())
