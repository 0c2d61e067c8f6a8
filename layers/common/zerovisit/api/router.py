"""The HTTP API's routing: which function answers a request, with what arguments, and how its
answer is written.

A route is a function whose parameters say where each value comes from: ``Annotated[str,
Path(max_length=64)]``, ``Annotated[int, Query(alias="from")]``, ``Annotated[Model, Body()]``. Every
value is validated against its annotation before the function runs, and every problem of the
request is named at once (InvalidInput, "limit: Input should be less than or equal to 100"). The
return annotation is the answer's shape: the function's result is validated against it and written
as JSON with the route's status; a result that breaks it is a defect, raised (the invocation
fails, and API Gateway answers 500), never sent. A route without parameters is tried before one
with, so that ``/cases/open`` would never be taken for ``/cases/<case_id>``.

The request being answered (the calling partner) is in ``request_context()``, one per thread: each Lambda
environment answers one request at a time, and the local runtime's concurrent environments, which
share this module, each see their own.

Powertools' event handler did this before; its package imports every resolver it has (AppSync,
Bedrock, VPC Lattice, and asyncio with them) on every cold start of the API, about a fifth of the
floor. infra.tools.openapi still builds the OpenAPI document with it, from these routes.
"""

import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Annotated, Any, ClassVar, NamedTuple, get_args, get_origin, get_type_hints
from urllib.parse import parse_qs

from pydantic import Field, TypeAdapter, ValidationError

from zerovisit.domain.base import first_build
from zerovisit.errors import CaseNotFound, InvalidInput

Answer = dict[str, Any]  # an API Gateway HTTP API (payload 2.0) answer
Endpoint = Callable[..., Any]
JSON_HEADERS = {"Content-Type": "application/json"}
REQUIRED = inspect.Parameter.empty
_ROUTE_PARAMETER = re.compile(r"<(\w+)>")
_request: ContextVar[Mapping[str, Any]] = ContextVar("request")
_NOT_JSON = object()


class Param:
    """Where a parameter's value comes from, with pydantic ``Field`` constraints on it."""

    where: ClassVar[str]

    def __init__(self, *, alias: str | None = None, **constraints: Any) -> None:
        self.alias = alias
        self.constraints = constraints


class Path(Param):
    where = "path"


class Query(Param):
    where = "query"


class Body(Param):
    """The whole JSON body, as one model."""

    where = "body"


class Input(NamedTuple):
    name: str  # the function's parameter
    param: Param
    key: str  # the path parameter, the query parameter, or "body"
    annotation: Any  # the parameter's type, with its annotations but the Param
    adapter: TypeAdapter[Any]
    default: Any  # REQUIRED when the request must give it


class Route(NamedTuple):
    method: str
    path: str  # /cases/<case_id>
    function: Endpoint
    operation_id: str
    status_code: int
    response_description: str | None
    pattern: re.Pattern[str]


class Compiled(NamedTuple):
    inputs: tuple[Input, ...]
    answer_type: Any
    answer: TypeAdapter[Any]


def request_context() -> Mapping[str, Any]:
    """What the request being answered was resolved with (``Router.resolve``'s ``context``)."""
    return _request.get()


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []  # as declared (the OpenAPI document's order)
        self._matching: list[Route] = []  # the same, those without parameters first
        self._handlers: dict[type[Exception], Callable[[Any], Answer]] = {}
        self._compiled: dict[Endpoint, Compiled] = {}

    def get(self, path: str, *, operation_id: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("GET", path, operation_id=operation_id, **options)

    def post(self, path: str, *, operation_id: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
        return self.route("POST", path, operation_id=operation_id, **options)

    def route(
        self,
        method: str,
        path: str,
        *,
        operation_id: str,
        status_code: int = 200,
        response_description: str | None = None,
    ) -> Callable[[Endpoint], Endpoint]:
        literal = _ROUTE_PARAMETER.split(path)  # text, name, text, name, ..., text
        pattern = re.compile(
            "".join(f"(?P<{part}>[^/]+)" if n % 2 else re.escape(part) for n, part in enumerate(literal))
        )

        def register(function: Endpoint) -> Endpoint:
            self._add(
                [Route(method, path, function, operation_id, status_code, response_description, pattern)]
            )
            return function

        return register

    def include_router(self, other: "Router") -> None:
        """The other's routes, and its exception handlers where this one has none for a class."""
        self._add(other.routes)
        self._handlers = other._handlers | self._handlers

    def _add(self, routes: list[Route]) -> None:
        self.routes.extend(routes)
        self._matching = sorted(self.routes, key=lambda r: "<" in r.path)

    def exception_handler(
        self, *raised: type[Exception]
    ) -> Callable[[Callable[[Any], Answer]], Callable[[Any], Answer]]:
        """The answer to a route that raised one of `raised` (or a subclass), instead of the error."""

        def register(handler: Callable[[Any], Answer]) -> Callable[[Any], Answer]:
            for kind in raised:
                self._handlers[kind] = handler
            return handler

        return register

    def compiled(self, route: Route) -> Compiled:
        """The route's inputs and answer adapter, built on first use (under the models' first-build
        lock: a type adapter for a model builds the model)."""
        built = self._compiled.get(route.function)
        if built is None:
            with first_build:
                built = self._compiled.get(route.function) or _compile(route)
                self._compiled[route.function] = built
        return built

    def resolve(self, event: Mapping[str, Any], context: Mapping[str, Any]) -> Answer:
        """The answer to an HTTP API (payload 2.0) request whose path holds no stage."""
        with _current(context):
            try:
                return self._answer(event)
            except tuple(self._handlers) as e:
                return self._handled(e)

    def _answer(self, event: Mapping[str, Any]) -> Answer:
        method = str(event["requestContext"]["http"]["method"]).upper()
        path = str(event.get("rawPath") or "/")
        for route in self._matching:
            matched = route.pattern.fullmatch(path)
            if matched and route.method == method:
                break
        else:
            raise CaseNotFound("no such route")  # never the path, which may hold an identity number
        compiled = self.compiled(route)
        arguments = _arguments(compiled.inputs, matched.groupdict(), event)
        result = compiled.answer.validate_python(route.function(**arguments))
        return json_answer(route.status_code, compiled.answer.dump_python(result, mode="json", by_alias=True))

    def _handled(self, error: Exception) -> Answer:
        handler = next(self._handlers[kind] for kind in type(error).__mro__ if kind in self._handlers)
        return handler(error)


def json_answer(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Answer:
    """Every answer of the API, a route's, a refusal or a replay: the same JSON, byte for byte,
    for the same body."""
    return {
        "statusCode": status,
        "body": json.dumps(body, separators=(",", ":")),
        "isBase64Encoded": False,
        "headers": {**JSON_HEADERS, **(headers or {})},
        "cookies": [],
    }


@contextmanager
def _current(context: Mapping[str, Any]) -> Iterator[None]:
    token = _request.set(context)
    try:
        yield
    finally:
        _request.reset(token)


def _compile(route: Route) -> Compiled:
    hints = get_type_hints(route.function, include_extras=True)
    inputs = []
    for name, parameter in inspect.signature(route.function).parameters.items():
        hint = hints.get(name)
        params = [m for m in get_args(hint)[1:] if isinstance(m, Param)]
        if get_origin(hint) is not Annotated or len(params) != 1:
            raise TypeError(
                f"{route.method} {route.path}: parameter {name} says neither Path, Query nor Body"
            )
        param = params[0]
        kept = [m for m in get_args(hint)[1:] if not isinstance(m, Param)]
        annotation = Annotated[get_args(hint)[0], *kept] if kept else get_args(hint)[0]
        key = "body" if isinstance(param, Body) else param.alias or name
        adapter: TypeAdapter[Any] = TypeAdapter(Annotated[annotation, Field(**param.constraints)])
        inputs.append(Input(name, param, key, annotation, adapter, parameter.default))
    answer = hints.get("return")
    if answer is None:
        raise TypeError(f"{route.method} {route.path}: the function says no answer type")
    return Compiled(tuple(inputs), answer, TypeAdapter(answer))


def _arguments(
    inputs: tuple[Input, ...], path: Mapping[str, str], event: Mapping[str, Any]
) -> dict[str, Any]:
    """Every input validated; InvalidInput naming each problem when any is wrong."""
    query = _query(event)
    given: dict[str, Mapping[str, Any]] = {"path": path, "query": query}
    arguments: dict[str, Any] = {}
    problems: list[str] = []
    for item in inputs:
        body = isinstance(item.param, Body)
        value = _body(event) if body else given[item.param.where].get(item.key)
        if value is _NOT_JSON:
            problems.append("body: not JSON")
            continue
        if value is None:
            if item.default is REQUIRED:
                problems.append(f"{item.key}: Field required")
            else:
                arguments[item.name] = item.default
            continue
        try:
            # a body that is no object is "not an object to extract fields from", naming no class
            arguments[item.name] = item.adapter.validate_python(value, from_attributes=body)
        except ValidationError as e:
            problems.extend(_problems("" if body else item.key, e))
    if problems:
        raise InvalidInput(problems)
    return arguments


def _query(event: Mapping[str, Any]) -> dict[str, Any]:
    """The query's parameters; one given more than once is a list (refused where one value is asked).
    API Gateway joins repeated values with commas in ``queryStringParameters``: the raw query tells."""
    joined: dict[str, Any] = dict(event.get("queryStringParameters") or {})
    repeated = {
        name: values
        for name, values in parse_qs(str(event.get("rawQueryString") or ""), keep_blank_values=True).items()
        if len(values) > 1
    }
    return joined | repeated


def _body(event: Mapping[str, Any]) -> Any:
    text = event.get("body")
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _problems(prefix: str, error: ValidationError) -> list[str]:
    found = []
    for problem in error.errors(include_url=False):
        location = ".".join(str(part) for part in (prefix, *problem["loc"]) if part != "")
        found.append(f"{location or 'body'}: {problem['msg']}")
    return found
