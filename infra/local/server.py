"""`make serve`: the local runtime as an HTTP server on localhost, for a real portal or partner system.

The HttpApi routes of template.yaml are served by a WSGI app over the runtime, so partner systems
sign their requests exactly as they would against API Gateway: the base URL is
``http://127.0.0.1:8787/<stage>`` (``/dev``), and the signed path is the route's, without the stage.
Each request has its own thread, and a body not sent within ``BODY_READ_SECONDS`` is answered 408,
so a slow partner holds up nobody else. The simulated partners can answer the tasks nobody outside
answers (``--simulate-partners``); they move the domain clock, never the time signatures are
checked against.
"""

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from zerovisit.api.access import route_path
from zerovisit.api.limits import MAX_BODY_BYTES, Refusal, text_of

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

BODY_READ_SECONDS = 10.0
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
        def answer(status: int, body: Any) -> Iterable[bytes]:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            start_response(
                f"{status} {REASONS.get(status, 'Status')}",
                [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(payload)))],
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
        return answer(response.status, response.body)

    return app


def read_body(environ: dict[str, Any]) -> str | Refusal:
    """The body as text; a refusal for a bad Content-Length, one too large, one sent too slowly (the
    handler's socket timeout) or one that is not UTF-8."""
    announced = str(environ.get("CONTENT_LENGTH") or "0").strip()
    if not announced.isascii() or not announced.isdigit():
        return Refusal(400, f"Content-Length must be a number of bytes, not {announced[:20]!r}")
    length = int(announced)
    if length > MAX_BODY_BYTES:
        return Refusal(413, f"the body is {length} bytes; at most {MAX_BODY_BYTES} are accepted")
    try:
        raw = environ["wsgi.input"].read(length) if length else b""
    except TimeoutError:
        return Refusal(408, f"the body was not sent within {BODY_READ_SECONDS:g} s")
    if len(raw) < length:
        return Refusal(400, f"the body ended after {len(raw)} of the {length} bytes announced")
    return text_of(raw)


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    timeout = BODY_READ_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        print(f"  {self.address_string()} {format % args}", flush=True)


def serve(runtime: LocalRuntime, port: int) -> WSGIServer:
    """The threaded server, not yet serving (``serve_forever`` on a thread of your own)."""
    return make_server(
        "127.0.0.1", port, wsgi_app(runtime), server_class=ThreadingServer, handler_class=QuietHandler
    )


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
