"""The HTTP API's routing (zerovisit.api.router): arguments validated with every problem named at
once, answers validated against the route's answer type, refusals through the exception handlers,
and each thread's request kept to itself."""

import json
import threading
from datetime import date
from typing import Annotated, Any

import pytest
from pydantic import Field, ValidationError
from zerovisit.api import router as routing
from zerovisit.api.router import Answer, Body, Path, Query, Router, json_answer, request_context
from zerovisit.domain.base import Model
from zerovisit.errors import CaseNotFound, Conflict, InvalidInput, TaskClosed, ZeroVisitError

BARRIER_SECONDS = 10.0  # a bound on waiting for the other thread, never reached when both run
# How long a first build waits for a second thread to enter the build too; only reached when the
# lock keeps it out, as it should.
SECOND_BUILD_WAIT_SECONDS = 0.5


class Note(Model):
    text: str
    count: int


class Echo(Model):
    case_id: str
    day: date | None
    limit: int
    note: Note | None = None
    partner: str | None = None
    code: str | None = Field(default=None, serialization_alias="verificationCode")


def event(method: str, path: str, query: str = "", body: Any = None) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event as the boundary hands it on: no stage, the body as text."""
    parameters: dict[str, str] = {}
    for pair in filter(None, query.split("&")):
        name, _, value = pair.partition("=")
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return {
        "version": "2.0",
        "rawPath": path,
        "rawQueryString": query,
        "queryStringParameters": parameters or None,
        "requestContext": {"http": {"method": method, "path": path}, "stage": "$default"},
        "headers": {"content-type": "application/json"},
        "body": None if body is None else body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def refusal(status: int) -> Any:
    def answer(e: Exception) -> Answer:
        return json_answer(status, {"message": type(e).__name__, "problems": getattr(e, "problems", [])})

    return answer


@pytest.fixture
def router() -> Router:
    app = Router()
    app.exception_handler(InvalidInput)(refusal(422))
    app.exception_handler(CaseNotFound)(refusal(404))
    app.exception_handler(Conflict)(refusal(409))
    app.exception_handler(ZeroVisitError)(refusal(500))

    @app.get("/cases/<case_id>", operation_id="getCase")
    def get_case(
        case_id: Annotated[str, Path(pattern=r"^[A-Z0-9-]{6,64}$")],
        day: Annotated[date | None, Query(alias="from")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        code: Annotated[str | None, Query(max_length=16)] = None,
    ) -> Echo:
        return Echo(
            case_id=case_id, day=day, limit=limit, partner=request_context().get("partner"), code=code
        )

    @app.post("/cases/<case_id>/notes", operation_id="addNote", status_code=202)
    def add_note(case_id: Annotated[str, Path(max_length=8)], note: Annotated[Note, Body()]) -> Echo:
        return Echo(case_id=case_id, day=None, limit=1, note=note)

    @app.post("/cases/<case_id>/close", operation_id="closeCase")
    def close(case_id: Annotated[str, Path()]) -> Echo:
        raise TaskClosed(f"case {case_id} is closed already")

    return app


def answered(router: Router, request: dict[str, Any], **context: Any) -> tuple[int, Any]:
    answer = router.resolve(request, context)
    assert answer["headers"] == {"Content-Type": "application/json"}
    return answer["statusCode"], json.loads(answer["body"])


def test_a_route_gets_its_arguments_validated_and_answers_its_answer_type(router: Router) -> None:
    status, body = answered(
        router, event("GET", "/cases/CASE-0001", "from=2026-02-13&limit=5"), partner="service-network"
    )

    assert status == 200
    assert body == {
        "case_id": "CASE-0001",
        "day": "2026-02-13",
        "limit": 5,
        "note": None,
        "partner": "service-network",
        "verificationCode": None,  # the answer is written with its aliases
    }


def test_every_problem_of_a_request_is_named_at_once(router: Router) -> None:
    status, body = answered(router, event("GET", "/cases/bad", "from=someday&limit=500"))

    assert status == 422
    assert [p.split(":")[0] for p in body["problems"]] == ["case_id", "from", "limit"]
    assert "limit: Input should be less than or equal to 100" in body["problems"]


def test_a_body_is_validated_as_its_model_with_each_field_named(router: Router) -> None:
    status, body = answered(router, event("POST", "/cases/TOOLONGID/notes", body={"text": 5}))

    assert status == 422
    assert body["problems"] == [
        "case_id: String should have at most 8 characters",
        "text: Input should be a valid string",
        "count: Field required",
    ]


def test_a_missing_body_or_one_that_is_not_json_is_named(router: Router) -> None:
    assert answered(router, event("POST", "/cases/C1/notes"))[1]["problems"] == ["body: Field required"]
    assert answered(router, event("POST", "/cases/C1/notes", body="{"))[1]["problems"] == ["body: not JSON"]


def test_a_route_answers_with_its_own_status(router: Router) -> None:
    status, body = answered(router, event("POST", "/cases/C1/notes", body={"text": "hi", "count": 2}))

    assert status == 202
    assert body["note"] == {"text": "hi", "count": 2}


def test_a_query_parameter_given_twice_is_refused_where_one_value_is_asked(router: Router) -> None:
    status, body = answered(router, event("GET", "/cases/CASE-0001", "limit=5&limit=6"))

    assert status == 422
    assert body["problems"] == ["limit: Input should be a valid integer"]


def test_a_path_or_method_without_a_route_is_not_found(router: Router) -> None:
    assert answered(router, event("GET", "/nothing"))[0] == 404
    assert answered(router, event("DELETE", "/cases/CASE-0001"))[0] == 404


def test_an_error_is_answered_by_the_handler_of_its_nearest_class(router: Router) -> None:
    status, body = answered(router, event("POST", "/cases/C1/close"))

    assert (status, body["message"]) == (409, "TaskClosed")


def test_an_error_without_a_handler_is_raised_to_the_caller() -> None:
    app = Router()

    @app.get("/boom", operation_id="boom")
    def boom() -> Echo:
        raise KeyError("a defect")

    with pytest.raises(KeyError):
        app.resolve(event("GET", "/boom"), {})


def test_an_answer_that_breaks_the_answer_type_is_never_sent() -> None:
    app = Router()

    @app.get("/wrong", operation_id="wrong")
    def wrong() -> Echo:
        return Note(text="not an echo", count=1)  # type: ignore[return-value]

    with pytest.raises(ValidationError):
        app.resolve(event("GET", "/wrong"), {})


def test_a_parameter_that_says_not_where_it_comes_from_is_refused_on_first_use() -> None:
    app = Router()

    @app.get("/plain/<name>", operation_id="plain")
    def plain(name: str) -> Echo:
        raise AssertionError("never called")

    with pytest.raises(TypeError, match="parameter name says neither Path, Query nor Body"):
        app.resolve(event("GET", "/plain/x"), {})


def test_requests_answered_at_once_in_two_threads_each_see_their_own_caller() -> None:
    app = Router()
    both_inside = threading.Barrier(2, timeout=BARRIER_SECONDS)

    @app.get("/me", operation_id="me")
    def me() -> Echo:
        both_inside.wait()  # the other thread has set its own request meanwhile
        return Echo(case_id="-", day=None, limit=1, partner=request_context()["partner"])

    seen: dict[str, str] = {}

    def ask(partner: str) -> None:
        seen[partner] = json.loads(app.resolve(event("GET", "/me"), {"partner": partner})["body"])["partner"]

    threads = [threading.Thread(target=ask, args=(p,)) for p in ("dept-scjg", "ems")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert seen == {"dept-scjg": "dept-scjg", "ems": "ems"}


def test_a_single_query_value_with_a_comma_is_taken_whole(router: Router) -> None:
    status, body = answered(router, event("GET", "/cases/CASE-0001", "code=a,b"))

    assert (status, body["verificationCode"]) == (200, "a,b")


def test_the_request_is_forgotten_once_answered(router: Router) -> None:
    answered(router, event("GET", "/cases/CASE-0001"), partner="ems")

    with pytest.raises(LookupError):
        request_context()


def test_a_body_that_is_no_object_is_refused_without_naming_a_class(router: Router) -> None:
    status, body = answered(router, event("POST", "/cases/C1/notes", body=[1, 2]))

    assert status == 422
    assert body["problems"] == ["body: Input should be a valid dictionary or object to extract fields from"]


def test_a_route_without_parameters_is_tried_before_one_with() -> None:
    app = Router()

    @app.get("/things/<name>", operation_id="thing")
    def thing(name: Annotated[str, Path()]) -> Echo:
        return Echo(case_id=name, day=None, limit=1)

    @app.get("/things/special", operation_id="special")
    def special() -> Echo:
        return Echo(case_id="the special one", day=None, limit=2)

    assert json.loads(app.resolve(event("GET", "/things/special"), {})["body"])["limit"] == 2
    assert json.loads(app.resolve(event("GET", "/things/other"), {})["body"])["case_id"] == "other"


def test_a_path_matches_whole_and_its_literal_parts_as_written() -> None:
    app = Router()
    app.exception_handler(CaseNotFound)(refusal(404))

    @app.get("/v1.0/items/<name>", operation_id="item")
    def item(name: Annotated[str, Path()]) -> Echo:
        return Echo(case_id=name, day=None, limit=1)

    assert app.resolve(event("GET", "/v1.0/items/a"), {})["statusCode"] == 200
    assert app.resolve(event("GET", "/v1x0/items/a"), {})["statusCode"] == 404
    # the whole segment is the value: a trailing newline is never dropped to match "a"
    assert json.loads(app.resolve(event("GET", "/v1.0/items/a\n"), {})["body"])["case_id"] == "a\n"


def test_a_query_parameter_named_body_is_a_query_parameter_and_other_constraints_hold() -> None:
    app = Router()
    app.exception_handler(InvalidInput)(refusal(422))

    @app.get("/count", operation_id="count")
    def count(
        body: Annotated[str, Query()],
        n: Annotated[int, Field(ge=5), Query()],
    ) -> Echo:
        return Echo(case_id=body, day=None, limit=n)

    status, answer = answered(app, event("GET", "/count", "body=q&n=1", body={"not": "read"}))

    assert status == 422
    assert answer["problems"] == ["n: Input should be greater than or equal to 5"]
    assert json.loads(app.resolve(event("GET", "/count", "body=q&n=7"), {})["body"])["case_id"] == "q"


def test_an_included_routers_routes_and_exception_handlers_serve() -> None:
    app, part = Router(), Router()
    part.exception_handler(TaskClosed)(refusal(410))

    @part.get("/part", operation_id="part")
    def closed() -> Echo:
        raise TaskClosed("closed")

    app.include_router(part)

    assert app.resolve(event("GET", "/part"), {})["statusCode"] == 410


def test_a_routes_first_requests_in_two_threads_build_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Router()

    @app.get("/once", operation_id="once")
    def once() -> Echo:
        return Echo(case_id="-", day=None, limit=1)

    builds: list[int] = []
    second_entered = threading.Event()
    compile_route = routing._compile

    def slow_compile(route: routing.Route) -> routing.Compiled:
        builds.append(1)
        if len(builds) == 1:
            second_entered.wait(SECOND_BUILD_WAIT_SECONDS)
        else:
            second_entered.set()
        return compile_route(route)

    monkeypatch.setattr(routing, "_compile", slow_compile)
    threads = [threading.Thread(target=lambda: app.resolve(event("GET", "/once"), {})) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert builds == [1]


def test_no_route_is_refused_without_repeating_the_path_which_may_hold_an_identity_number() -> None:
    app = Router()
    app.exception_handler(CaseNotFound)(lambda e: json_answer(404, {"message": str(e)}))

    answer = app.resolve(event("GET", "/holders/110101199003074514/unknown"), {})

    assert answer["statusCode"] == 404
    assert "110101199003074514" not in answer["body"]
