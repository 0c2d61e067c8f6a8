"""`make serve`'s HTTP server: threaded, on the stage's base URL, and refusing broken bodies with a 4xx."""

import io
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from zerovisit.domain.signature import signed_headers_v2

from infra.local.runtime import LocalRuntime
from infra.local.server import read_body, serve, wsgi_app

VERIFY = "/certificates/1.2.156.3005.2.X/verify"


def call(runtime: LocalRuntime, environ: dict[str, Any]) -> tuple[str, Any]:
    answered: list[str] = []
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO(b"")}
    chunks = wsgi_app(runtime)({**base, **environ}, lambda status, headers: answered.append(status))
    return answered[0], json.loads(b"".join(chunks))


def test_a_content_length_that_is_not_a_number_is_400(runtime: LocalRuntime) -> None:
    status, body = call(
        runtime, {"REQUEST_METHOD": "POST", "PATH_INFO": "/applications", "CONTENT_LENGTH": "abc"}
    )

    assert status == "400 Bad Request"
    assert "Content-Length must be a number" in body["message"]


def test_a_body_that_is_not_utf8_is_400(runtime: LocalRuntime) -> None:
    raw = b'{"name": "\xff"}'
    status, body = call(
        runtime,
        {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": "/dev/applications",
            "CONTENT_LENGTH": str(len(raw)),
            "wsgi.input": io.BytesIO(raw),
        },
    )

    assert status == "400 Bad Request"
    assert "not UTF-8" in body["message"]


def test_a_body_larger_than_the_limit_is_413_before_it_is_read(runtime: LocalRuntime) -> None:
    status, _ = call(
        runtime, {"REQUEST_METHOD": "POST", "PATH_INFO": "/applications", "CONTENT_LENGTH": "99999999"}
    )

    assert status == "413 Content Too Large"


def test_a_body_sent_too_slowly_is_408() -> None:
    class Stalled(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise TimeoutError

    refusal = read_body({"CONTENT_LENGTH": "10", "wsgi.input": Stalled()})

    assert not isinstance(refusal, str)
    assert refusal.status == 408


def test_the_base_url_holds_the_stage_and_the_signature_does_not(runtime: LocalRuntime) -> None:
    query = "region=320104&from=2026-02-01&to=2026-02-28"
    headers = signed_headers_v2(
        "supervision", runtime.partner_secrets["supervision"], "GET", "/reports/3550", b"", query
    )
    environ = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}

    status, body = call(runtime, {"PATH_INFO": "/dev/reports/3550", "QUERY_STRING": query, **environ})

    assert status == "200 OK", body


@pytest.fixture
def server(runtime: LocalRuntime) -> Iterator[tuple[str, int]]:
    httpd = serve(runtime, 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield "127.0.0.1", httpd.server_address[1]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])  # the loopback only: the server runs in this process
def test_a_slow_partner_holds_up_no_other(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=10) as slow:
        slow.sendall(b'POST /dev/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"appl')
        with socket.create_connection(server, timeout=10) as other:
            other.sendall(f"GET /dev{VERIFY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := other.recv(65536):
                answer += chunk
        slow.shutdown(socket.SHUT_WR)  # the slow partner gives up: its request ends short
        refused = slow.recv(65536)

    assert answer.startswith(b"HTTP/1.0 422") or answer.startswith(b"HTTP/1.1 422"), answer[:80]
    assert b" 400 " in refused.split(b"\r\n")[0]
