"""The local approval server answers what it cannot pass on (a malformed Content-Length, an unsupported method, a
body cut short) with a clean 4xx page and the pages' security headers, and never lets a slow client hold a thread."""

from __future__ import annotations

import socket

import pytest
from coach.approvals.pages import SECURITY_HEADERS

from coach_local import approval_server
from coach_local.approval_server import ApprovalServer


class PageRegistry:
    """Stands in for the approval function: every request it sees is answered 200."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def invoke(self, name: str, event: dict) -> dict:
        self.events.append(event)
        return {"statusCode": 200, "headers": dict(SECURITY_HEADERS), "body": "<p>page</p>"}


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(approval_server, "SOCKET_TIMEOUT_SECONDS", 0.5)
    registry = PageRegistry()
    running = ApprovalServer(registry)  # type: ignore[arg-type]
    running.start()
    yield running, registry
    running.stop()


def exchange(
    server: ApprovalServer, raw: bytes, *, half_close: bool = False
) -> tuple[int, dict[str, str], bytes]:
    host, port = server.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(raw)
        if half_close:
            conn.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_security_headers(headers: dict[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name) == value, name
    assert "max-age=" in headers["Strict-Transport-Security"]


@pytest.mark.parametrize("length", ["abc", "-5", "1, 2", " "])
def test_a_malformed_content_length_is_a_clean_400(server, length):
    running, registry = server
    raw = f"POST /a/x HTTP/1.1\r\nHost: h\r\nContent-Length: {length}\r\n\r\nbody".encode()
    status, headers, body = exchange(running, raw)
    assert status == 400 and b"Nothing was recorded" in body
    assert_security_headers(headers)
    assert registry.events == []


def test_an_unsupported_method_is_a_405_with_the_security_headers(server):
    running, registry = server
    status, headers, body = exchange(running, b"PATCH /a/x HTTP/1.1\r\nHost: h\r\n\r\n")
    assert status == 405 and headers["Allow"] == "GET, HEAD, POST" and b"not supported" in body
    assert_security_headers(headers)
    assert registry.events == []


def test_a_body_shorter_than_announced_is_refused_not_waited_for(server):
    running, registry = server
    raw = b"POST /a/x HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n\r\nonly ten.."
    status, headers, _ = exchange(running, raw, half_close=True)
    assert status == 400
    assert_security_headers(headers)
    assert registry.events == []


def test_a_too_large_body_is_a_413(server):
    running, _ = server
    raw = f"POST /a/x HTTP/1.1\r\nHost: h\r\nContent-Length: {approval_server.MAX_BODY + 1}\r\n\r\n".encode()
    status, headers, _ = exchange(running, raw)
    assert status == 413
    assert_security_headers(headers)


def test_a_client_that_never_finishes_its_request_is_dropped(server):
    running, registry = server
    host, port = running.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(b"POST /a/x HTTP/1.1\r\nHost: h\r\nContent-Length: 50\r\n\r\nhalf")  # and then nothing
        assert conn.recv(65536) == b""  # the server gave up on it (after its socket timeout) and closed
    assert registry.events == []


def test_a_good_request_still_reaches_the_approval_function(server):
    running, registry = server
    status, headers, body = exchange(running, b"GET /a/x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert status == 200 and body == b"<p>page</p>" and len(registry.events) == 1
    assert_security_headers(headers)
