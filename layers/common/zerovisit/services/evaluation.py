"""The applicant's service evaluation (好差评): five levels, exactly one per case, after it closes.
The same evaluation again gets the first answer; a different one, a conflict."""

from enum import IntEnum
from typing import Any

from pydantic import Field

from zerovisit.adapters import aws
from zerovisit.domain.model import Frozen
from zerovisit.errors import Conflict
from zerovisit.services.common import note
from zerovisit.storage import cases, evaluations


class Level(IntEnum):
    VERY_DISSATISFIED = 1  # 非常不满意
    DISSATISFIED = 2  # 不满意
    NEUTRAL = 3  # 基本满意
    SATISFIED = 4  # 满意
    VERY_SATISFIED = 5  # 非常满意


class Evaluation(Frozen):
    level: Level
    comment: str = Field(default="", max_length=500)


def evaluate(case_id: str, evaluation: Evaluation) -> dict[str, Any]:
    case = cases.get_case(case_id)
    if not case.is_closed:
        raise Conflict("the case can be evaluated once it is closed")
    entry = note(
        "evaluation",
        "evaluated",
        f"level {int(evaluation.level)} ({evaluation.level.name.lower()})",
        "applicant",
    )
    try:
        cases.put_evaluation(case_id, evaluation.model_dump_json(), entry)
    except Conflict:
        earlier = evaluations.get_evaluation(case_id)
        if earlier is None or Evaluation.model_validate_json(earlier) != evaluation:
            raise Conflict("the case was already evaluated, differently") from None
        return {"case_id": case_id, "level": int(evaluation.level)}
    aws.publish(
        "ServiceEvaluated",
        {"case_id": case_id, "case_number": case.case_number, "level": int(evaluation.level)},
    )
    return {"case_id": case_id, "level": int(evaluation.level)}
