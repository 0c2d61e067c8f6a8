"""`make serve`'s HTTP server: threaded, on the stage's base URL, refusing broken bodies with a 4xx,
passing the handler's headers on. The socket tests talk to it over the loopback (it runs in this
process)."""

import http.client
import io
import json
import socket
import threading
import time
from typing import Any

import pytest
from zerovisit.domain.signature import signed_headers_v2

from infra.local.runtime import LocalRuntime
from infra.local.server import read_body, wsgi_app
from tests.integration.conftest import BODY_SECONDS

VERIFY = "/certificates/1.2.156.3005.2.X/verify"
DRIP_SECONDS = 0.25  # a byte this often: a quarter of the deadline
DRIP_BYTES = 40  # ten seconds of it, far past the deadline


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


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_slow_partner_holds_up_no_other(local_server: tuple[str, int]) -> None:
    with socket.create_connection(local_server, timeout=10) as slow:
        slow.sendall(b'POST /dev/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"appl')
        answer = verify_over(local_server)
        slow.shutdown(socket.SHUT_WR)  # the slow partner gives up: its request ends short
        refused = slow.recv(65536)

    assert answer.startswith(b"HTTP/1.0 422") or answer.startswith(b"HTTP/1.1 422"), answer[:80]
    assert b" 400 " in refused.split(b"\r\n")[0]


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_body_that_trickles_in_past_the_deadline_is_408_while_another_request_is_served(
    local_server: tuple[str, int],
) -> None:
    """Each byte comes well within the deadline of the one before; the whole body does not."""
    stop = threading.Event()
    dripped: list[int] = []

    def drip(connection: socket.socket) -> None:
        for _ in range(DRIP_BYTES):
            if stop.wait(DRIP_SECONDS):
                return
            try:
                connection.sendall(b" ")
            except OSError:  # answered and closed by the server
                return
            dripped.append(1)

    with socket.create_connection(local_server, timeout=30) as slow:
        started = time.monotonic()
        slow.sendall(b"POST /dev/applications HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n")
        dripper = threading.Thread(target=drip, args=(slow,), daemon=True)
        dripper.start()
        other = verify_over(local_server)
        other_done = time.monotonic() - started
        refused = until_closed(slow)
        refused_after = time.monotonic() - started
        stop.set()
        dripper.join(10)

    assert other.split(b" ")[1] == b"422"  # answered meanwhile
    assert other_done < DRIP_BYTES * DRIP_SECONDS  # not held until the slow body ends
    assert refused.split(b"\r\n")[0].split(b" ")[1] == b"408", refused[:80]
    assert b"not sent within 1 s" in refused
    # one deadline for the whole body: refused long before the drip would have ended
    assert BODY_SECONDS <= refused_after < DRIP_BYTES * DRIP_SECONDS / 2
    assert len(dripped) >= 2  # bytes kept coming, each within the deadline of the last


@pytest.mark.enable_socket
@pytest.mark.allow_hosts(["127.0.0.1"])
def test_a_replay_over_the_socket_carries_the_replayed_header(
    runtime: LocalRuntime, local_server: tuple[str, int], waiting_review: dict[str, Any]
) -> None:
    partner, path = waiting_review["partner_id"], f"/reviews/{waiting_review['task_id']}/decision"
    body = json.dumps({"decision": "approve"}).encode()
    headers = signed_headers_v2(partner, runtime.partner_secrets[partner], "POST", path, body)
    answers = []
    for _ in range(2):
        connection = http.client.HTTPConnection(*local_server, timeout=30)
        connection.request("POST", f"/dev{path}", body, {**headers, "Content-Type": "application/json"})
        response = connection.getresponse()
        answers.append((response.status, response.getheader("X-ZV-Replayed"), json.loads(response.read())))
        connection.close()

    (first_status, first_replayed, first), (again_status, replayed, again) = answers
    assert (first_status, first_replayed) == (200, None)
    assert (again_status, replayed, again) == (200, "true", first)


def verify_over(server: tuple[str, int]) -> bytes:
    """The public verification of an identifier that is not one, over its own connection."""
    with socket.create_connection(server, timeout=10) as other:
        other.sendall(f"GET /dev{VERIFY} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        return until_closed(other)


def until_closed(connection: socket.socket) -> bytes:
    """Everything the server sends before it closes the connection (its socket timeout bounds it);
    a reset after it (the server closing on bytes it never read) ends it too."""
    answer = b""
    try:
        while chunk := connection.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return answer
