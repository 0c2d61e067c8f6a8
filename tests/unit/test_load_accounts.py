"""The load run's accounting: completed by the case record, refusals on record, case times."""

from typing import Any

import pytest
from zerovisit.domain.model import CaseStatus

from infra.bench.load import Kind, Submission, account, busy_seconds, case_times, window


def submission(kind: Kind, application_id: str, answer: str = "put", sent_at: float = 0.0) -> Submission:
    detail: dict[str, Any] = {"application_id": application_id}
    return Submission(kind, "bus" if answer == "put" else "api", detail, answer, sent_at)


SUBMISSIONS = [
    submission("valid", "A"),
    submission("valid", "B"),
    submission("valid", "C"),
    submission("duplicate", "A"),
    submission("conflicting", "B", "409 created=None"),
    submission("conflicting", "C"),
    submission("invalid", "X"),
]
ALL_WELL: dict[str, CaseStatus | None] = {
    "A": CaseStatus.COMPLETED,
    "B": CaseStatus.COMPLETED,
    "C": CaseStatus.COMPLETED,
    "X": None,
}
ENDINGS = {"A": {"CaseCompleted:1"}, "B": {"CaseCompleted:2"}, "C": {"CaseCompleted:3"}}


def test_every_valid_case_completed_and_every_refusal_on_record_is_healthy() -> None:
    accounts = account(SUBMISSIONS, ALL_WELL, ENDINGS, refused_on_bus={"C", "X"})
    assert accounts.healthy({"A", "B", "C"})
    assert accounts.completed == {"A", "B", "C"}
    assert accounts.refused == {"B", "C", "X"}  # B by its 409, C and X on the bus


@pytest.mark.parametrize(
    ("refused_on_bus", "unrefused"),
    [({"X"}, {"conflicting": {"C"}, "invalid": set()}), ({"C"}, {"conflicting": set(), "invalid": {"X"}})],
)
def test_a_conflicting_or_invalid_submission_without_its_refusal_is_not_healthy(
    refused_on_bus: set[str], unrefused: dict[str, set[str]]
) -> None:
    accounts = account(SUBMISSIONS, ALL_WELL, ENDINGS, refused_on_bus)
    assert accounts.conflicting_unrefused == unrefused["conflicting"]
    assert accounts.invalid_unrefused == unrefused["invalid"]
    assert not accounts.healthy({"A", "B", "C"})


@pytest.mark.parametrize("status", [CaseStatus.WITHDRAWN, CaseStatus.REJECTED, CaseStatus.FAILED])
def test_a_case_closed_without_completing_is_not_counted_completed(status: CaseStatus) -> None:
    """Its execution ends SUCCEEDED all the same (or FAILED): only the case record says completed."""
    accounts = account(SUBMISSIONS, {**ALL_WELL, "B": status}, ENDINGS, refused_on_bus={"C", "X"})
    assert accounts.completed == {"A", "C"}
    assert accounts.ended_otherwise == {str(status): 1}
    assert accounts.lost == set()
    assert not accounts.healthy({"A", "B", "C"})


def test_a_case_still_open_or_missing_is_lost_and_a_case_for_an_invalid_one_is_doubled() -> None:
    statuses = {**ALL_WELL, "A": CaseStatus.IN_REVIEW, "B": None, "X": CaseStatus.COMPLETED}
    accounts = account(SUBMISSIONS, statuses, ENDINGS, refused_on_bus={"C", "X"})
    assert accounts.lost == {"A", "B"}
    assert accounts.doubled == {"X"}
    twice = account(SUBMISSIONS, ALL_WELL, {**ENDINGS, "A": {"CaseCompleted:1", "CaseClosed:9"}}, {"C", "X"})
    assert twice.doubled == {"A"}


def test_case_times_start_at_the_first_submission_and_windows_are_not_capped_by_the_input_rate() -> None:
    submissions = [
        submission("valid", "A", sent_at=0.0),
        submission("duplicate", "A", sent_at=5.0),
        submission("valid", "B", sent_at=10.0),
        submission("valid", "C", sent_at=20.0),
        submission("invalid", "X", sent_at=1.0),
    ]
    times = case_times(submissions, {"A": 4.0, "B": 12.0, "C": 21.0, "X": 2.0})
    assert times == [(0.0, 4.0), (10.0, 12.0), (20.0, 21.0)]
    figures = window(times)
    assert figures.ended_per_second == pytest.approx(2 / 17)  # capped by one submission per 10 s
    assert figures.processed_per_second == pytest.approx(3 / 7)  # 7 s in which a case was open
    assert figures.median_case_seconds == 2.0


def test_busy_seconds_counts_overlapping_cases_once() -> None:
    assert busy_seconds([(0.0, 4.0), (2.0, 6.0), (10.0, 11.0), (3.0, 5.0)]) == 7.0
    assert busy_seconds([]) == 0.0
