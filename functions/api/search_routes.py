"""Lists, for the partners who may see them: the service network's cases (by applicant, status,
step, region, due date), a partner's own open tasks, and supervision's open cases of a region.

Included in app.py's router; every route here is signed, and app.py has put the caller in the
context. Pages carry an opaque ``next_cursor``; pass it back as ``cursor`` for the next page.
"""

from datetime import date
from typing import Annotated

from zerovisit.api.router import Path, Query, Router, request_context
from zerovisit.domain.model import CaseStatus, CaseStep
from zerovisit.domain.partners import SERVICE_NETWORK, SUPERVISION
from zerovisit.errors import NotPermitted
from zerovisit.services import queries, search

router = Router()

Cursor = Annotated[str | None, Query(max_length=2000)]
Limit = Annotated[int, Query(ge=1, le=search.MAX_LIMIT)]
Region = Annotated[str, Path(pattern=r"^[0-9]{6}$")]
# The first of applicant, status, step, region, due dates picks the index (services/search.py);
# region and the due dates have indexes of open cases only.
WITHOUT = "without applicant, status or step"
DUE_ALONE = "without applicant, status, step or region: open cases only, soonest due first"


def _caller() -> str:
    return str(request_context().get("partner"))


@router.get("/cases", operation_id="listCases")
def list_cases(
    applicant: Annotated[
        str | None,
        Query(
            description="identity number or unified social credit code: the applicant's cases, open or"
            " closed, newest first",
            pattern=search.IDENTITY.pattern,
        ),
    ] = None,
    status: Annotated[
        CaseStatus | None,
        Query(description="cases in that status, open or closed; with region, by promised due date"),
    ] = None,
    step: Annotated[
        CaseStep | None,
        Query(description="cases whose current step it is; with region, by promised due date"),
    ] = None,
    region: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9]{6}$",
            description=f"six-digit administrative division code; {WITHOUT}: the region's open cases"
            " only, oldest first",
        ),
    ] = None,
    due_from: Annotated[
        date | None,
        Query(description=f"promised due date from (inclusive); {DUE_ALONE}"),
    ] = None,
    due_to: Annotated[
        date | None,
        Query(description=f"promised due date to (inclusive); {DUE_ALONE}"),
    ] = None,
    overdue: Annotated[
        bool | None,
        Query(description="true: only the overdue cases; false: only the others. Not a search alone"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = search.DEFAULT_LIMIT,
) -> search.CaseListPage:
    """Cases by applicant, status, step, region or promised due date, every given filter applied.
    A search by region or by due dates alone (or both) lists open cases only.
    The service network lists any; supervision those of a region it oversees, which it names."""
    caller = _caller()
    if caller not in (SERVICE_NETWORK, SUPERVISION):
        raise NotPermitted(f"partner {caller} may not list cases")
    if caller == SUPERVISION:
        if region is None:
            raise NotPermitted("supervision lists the cases of a region: give region")
        queries.check_oversees(region)
    wanted = search.CaseFilter(
        applicant=applicant,
        status=None if status is None else status.value,
        step=None if step is None else step.value,
        region=region,
        due_from=due_from,
        due_to=due_to,
        overdue=overdue,
    )
    return search.CaseListPage.model_validate(search.list_cases(wanted, cursor, limit))


@router.get("/tasks", operation_id="listTasks")
def list_open_tasks(cursor: Cursor = None, limit: Limit = search.DEFAULT_LIMIT) -> search.TaskListPage:
    """The calling partner's open tasks (a department's reviews, the payment platform's orders,
    EMS's shipments), soonest due first."""
    return search.TaskListPage.model_validate(search.open_tasks(_caller(), cursor, limit))


@router.get("/regions/<region>/open-cases", operation_id="listRegionOpenCases")
def region_open_cases(
    region: Region,
    overdue: Annotated[bool | None, Query()] = None,
    cursor: Cursor = None,
    limit: Limit = search.DEFAULT_LIMIT,
) -> search.CaseListPage:
    """Supervision: the open cases of a region it oversees, oldest first; ``overdue=true`` keeps the
    overdue ones."""
    if _caller() != SUPERVISION:
        raise NotPermitted("only supervision lists a region's open cases")
    queries.check_oversees(region)
    return search.CaseListPage.model_validate(search.open_cases_of_region(region, overdue, cursor, limit))
