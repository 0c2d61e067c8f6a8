"""`make serve`: the local runtime as an HTTP server on localhost, for a real portal or partner system.

The HttpApi routes of template.yaml are served by a WSGI app over the runtime, so partner systems
sign their requests exactly as they would against API Gateway: the base URL is
``http://127.0.0.1:8787/<stage>`` (``/dev``), and the signed path is the route's, without the stage.
The handler's headers (``X-ZV-Replayed``) reach the caller, as API Gateway passes them on. Each
request has its own thread, and a body not sent in full within ``BODY_READ_SECONDS`` of its
headers is answered 408, however it trickles in, so a slow partner holds up nobody else. The
simulated partners can answer the tasks nobody outside answers (``--simulate-partners``); they
move the domain clock, never the time signatures are checked against.
"""

import argparse
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.util import is_hop_by_hop

from zerovisit.api.access import route_path
from zerovisit.api.limits import MAX_BODY_BYTES, Refusal, text_of

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

BODY_READ_SECONDS = 10.0
# What the handler's environ carries for read_body: the body's time, its deadline, the socket.
SECONDS = "zerovisit.body_seconds"
DEADLINE = "zerovisit.body_deadline"
SOCKET = "zerovisit.socket"
OWN_HEADERS = frozenset({"content-type", "content-length"})
REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def wsgi_app(runtime: LocalRuntime) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> Iterable[bytes]:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            passed = [
                (name, value)
                for name, value in (headers or {}).items()
                if name.lower() not in OWN_HEADERS and not is_hop_by_hop(name)
            ]
            start_response(
                f"{status} {REASONS.get(status, 'Status')}",
                [
                    ("Content-Type", "application/json; charset=utf-8"),
                    ("Content-Length", str(len(payload))),
                    *passed,
                ],
            )
            return [payload]

        body = read_body(environ)
        if isinstance(body, Refusal):
            return answer(body.status, body.body())
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = route_path(environ.get("PATH_INFO") or "/", runtime.stage)
        response = runtime.http(
            environ["REQUEST_METHOD"], path, body or None, headers, environ.get("QUERY_STRING", "")
        )
        return answer(response.status, response.body, response.headers)

    return app


def read_body(environ: dict[str, Any]) -> str | Refusal:
    """The body as text; a refusal for a bad Content-Length, one too large, one not sent in full by
    the request's deadline (however it trickles in) or one that is not UTF-8."""
    announced = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not announced.isascii() or not announced.isdigit():
        return Refusal(400, f"Content-Length must be a number of bytes, not {announced[:20]!r}")
    length = int(announced)
    if length > MAX_BODY_BYTES:
        return Refusal(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES} are accepted")
    raw = _read_by(environ["wsgi.input"], length, environ.get(DEADLINE), environ.get(SOCKET))
    if raw is None:
        seconds = environ.get(SECONDS, BODY_READ_SECONDS)
        return Refusal(408, f"the body was not sent within {seconds:g} s")
    if len(raw) < length:
        return Refusal(400, f"the body ended after {len(raw)} of the {length} bytes announced")
    return text_of(raw)


def _read_by(
    stream: Any, length: int, deadline: float | None, connection: socket.socket | None
) -> bytes | None:
    """Up to ``length`` bytes, each wait on the socket bounded by the time left before the deadline
    (monotonic seconds); None once it has passed. Without a socket (a test's stream), one read."""
    if connection is None or deadline is None:
        try:
            return bytes(stream.read(length)) if length else b""
        except TimeoutError:
            return None
    chunks: list[bytes] = []
    received = 0
    each_wait = connection.gettimeout()
    try:
        while received < length:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            connection.settimeout(left)
            chunk = stream.read1(length - received)
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except TimeoutError:
        return None
    finally:
        connection.settimeout(each_wait)  # for writing the answer
    return b"".join(chunks)


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    body_read_seconds = BODY_READ_SECONDS


class QuietHandler(WSGIRequestHandler):
    """Each wait for the request line and headers is bounded too; the body's whole read has its
    deadline, counted from when its headers were read."""

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self._seconds())

    def _seconds(self) -> float:
        return float(getattr(self.server, "body_read_seconds", BODY_READ_SECONDS))

    def get_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().get_environ()
        seconds = self._seconds()
        environ |= {SECONDS: seconds, DEADLINE: time.monotonic() + seconds, SOCKET: self.connection}
        return environ

    def log_message(self, format: str, *args: Any) -> None:
        print(f"  {self.address_string()} {format % args}", flush=True)


def serve(runtime: LocalRuntime, port: int, body_read_seconds: float = BODY_READ_SECONDS) -> WSGIServer:
    """The threaded server, not yet serving (``serve_forever`` on a thread of your own)."""
    server = make_server(
        "127.0.0.1", port, wsgi_app(runtime), server_class=ThreadingServer, handler_class=QuietHandler
    )
    server.body_read_seconds = body_read_seconds
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8787)
    parser.add_argument(
        "--simulate-partners", action="store_true", help="answer queued partner tasks locally"
    )
    parser.add_argument(
        "--seconds", type=float, default=0, help="stop after this many seconds (0: until Ctrl-C)"
    )
    args = parser.parse_args(argv)
    with LocalRuntime() as runtime:
        server = serve(runtime, args.port)
        print(f"ZeroVisit local API on http://127.0.0.1:{args.port}/{runtime.stage}", flush=True)
        print(f"Partner secrets (X-ZV-Signature keys): {runtime.secrets_file}", flush=True)
        print(
            f"Case bus: {runtime.outputs['CaseEventBusName']}; routes: "
            + ", ".join(f"{r.method} {r.path}" for r in runtime.routes),
            flush=True,
        )
        threading.Thread(target=server.serve_forever, daemon=True).start()
        simulator = PartnerSimulator(runtime) if args.simulate_partners else None
        stop_at = time.monotonic() + args.seconds if args.seconds else None
        try:
            while stop_at is None or time.monotonic() < stop_at:
                if simulator is not None:
                    simulator.answer_pending()
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("stopping", flush=True)
        finally:
            server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
