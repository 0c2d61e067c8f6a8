"""`make serve`: the local runtime as an HTTP server on localhost, for a real portal or partner system.

The HttpApi routes of template.yaml are served by a WSGI app over the runtime, so partner systems
sign their requests exactly as they would against API Gateway. The simulated partners can answer
the tasks nobody outside answers (``--simulate-partners``).
"""

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from infra.local.partners import PartnerSimulator
from infra.local.runtime import LocalRuntime

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

REASONS = {
    200: "OK",
    202: "Accepted",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def wsgi_app(runtime: LocalRuntime) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length).decode("utf-8") if length else None
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        path = environ.get("PATH_INFO") or "/"
        response = runtime.http(
            environ["REQUEST_METHOD"], path, body, headers, environ.get("QUERY_STRING", "")
        )
        payload = json.dumps(response.body, ensure_ascii=False).encode("utf-8")
        start_response(
            f"{response.status} {REASONS.get(response.status, 'Status')}",
            [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(payload)))],
        )
        return [payload]

    return app


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        print(f"  {self.address_string()} {format % args}", flush=True)


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
        server = make_server("127.0.0.1", args.port, wsgi_app(runtime), handler_class=QuietHandler)
        print(f"ZeroVisit local API on http://127.0.0.1:{args.port}", flush=True)
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
