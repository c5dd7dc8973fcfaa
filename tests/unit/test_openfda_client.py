"""The openFDA client against a local HTTP server speaking like api.fda.gov: paging by the Link header, 404
NOT_FOUND as an empty result, retries on 429 and 5xx, and the poll gated on /status."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from coach.adapters.feed_state import MemoryFeedState
from coach.adapters.openfda import OpenFdaClient, OpenFdaUnavailable, next_link
from coach.feeds.recalls import poll_recalls

from tests.unit.feed_fixtures import FIXTURES

PAGE_1 = json.loads((FIXTURES / "recalls" / "first" / "page-1.json").read_text())
PAGE_2 = json.loads((FIXTURES / "recalls" / "first" / "page-2.json").read_text())
NO_MATCHES = json.loads((FIXTURES / "recalls" / "no-matches.json").read_text())
STATUS = json.loads((FIXTURES / "recalls" / "status.json").read_text())


class FakeOpenFda:
    """Answers in turn from a script per path: (status, body, headers); the last answer repeats."""

    def __init__(self) -> None:
        self.script: dict[str, list[tuple[int, object, dict[str, str]]]] = {}
        self.requests: list[str] = []
        self.base = ""

    def answer(self, path: str, *answers: tuple[int, object, dict[str, str]]) -> None:
        self.script[path] = list(answers)


@pytest.fixture
def server() -> Iterator[FakeOpenFda]:
    fake = FakeOpenFda()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            path = urlsplit(self.path).path
            if "search_after" in self.path:
                path += "#next"
            answers = fake.script.get(path) or [(500, {"error": "unscripted"}, {})]
            status, body, headers = answers.pop(0) if len(answers) > 1 else answers[0]
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value.replace("{base}", fake.base))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield fake
    httpd.shutdown()
    httpd.server_close()


def client(fake: FakeOpenFda, **kwargs) -> tuple[OpenFdaClient, list[float]]:
    waits: list[float] = []
    return OpenFdaClient(fake.base, sleep=waits.append, **kwargs), waits


NEXT = {
    "Link": '<{base}/drug/enforcement.json?search=report_date:[20260901+TO+20261130]&limit=1000&search_after=0%3D1>; rel="next"'
}


def test_pages_are_followed_by_the_link_header_until_there_is_none(server):
    server.answer("/drug/enforcement.json", (200, PAGE_1, NEXT))
    server.answer("/drug/enforcement.json#next", (200, PAGE_2, {}))
    api, _ = client(server, api_key="k-123")
    records = list(api.records(date(2026, 9, 1), date(2026, 11, 30)))
    assert [r["recall_number"] for r in records] == [
        "D-0101-2027",
        "D-0102-2027",
        "D-0103-2027",
        "D-0104-2027",
    ]
    query = parse_qs(urlsplit(server.requests[0]).query)
    assert query["search"] == ["report_date:[20260901 TO 20261130]"]
    assert query["limit"] == ["1000"] and query["api_key"] == ["k-123"]
    assert "search_after" in server.requests[1]


def test_no_matches_is_an_empty_result_not_an_error(server):
    server.answer("/drug/enforcement.json", (404, NO_MATCHES, {}))
    api, _ = client(server)
    assert list(api.records(date(2026, 11, 1), date(2026, 11, 30))) == []


def test_another_404_or_a_400_is_an_error(server):
    server.answer(
        "/drug/enforcement.json", (400, {"error": {"code": "BAD_REQUEST", "message": "Invalid"}}, {})
    )
    api, _ = client(server)
    with pytest.raises(OpenFdaUnavailable, match="HTTP 400"):
        list(api.records(date(2026, 11, 1), date(2026, 11, 30)))


def test_429_and_500_are_retried_with_backoff_and_retry_after_is_honoured(server):
    server.answer(
        "/drug/enforcement.json",
        (429, {"error": {"code": "OVER_RATE_LIMIT"}}, {"Retry-After": "7"}),
        (500, {"error": "boom"}, {}),
        (503, {"error": "busy"}, {}),
        (200, PAGE_2, {}),
    )
    api, waits = client(server, backoff_seconds=1.0)
    assert len(list(api.records(date(2026, 11, 1), date(2026, 11, 30)))) == 2
    assert waits == [7.0, 2.0, 4.0]  # Retry-After, then exponential backoff by attempt


def test_a_source_that_keeps_failing_gives_up_with_a_clear_error(server):
    server.answer("/drug/enforcement.json", (502, {"error": "down"}, {}))
    api, waits = client(server, retries=2)
    with pytest.raises(OpenFdaUnavailable, match="failed 3 times, last with HTTP 502"):
        list(api.records(date(2026, 11, 1), date(2026, 11, 30)))
    assert len(waits) == 2


def test_a_next_link_to_another_host_is_not_followed(server):
    server.answer(
        "/drug/enforcement.json",
        (200, PAGE_1, {"Link": '<https://elsewhere.example/x?api_key=k>; rel="next"'}),
    )
    api, _ = client(server, api_key="k")
    with pytest.raises(OpenFdaUnavailable, match="leaves"):
        list(api.records(date(2026, 11, 1), date(2026, 11, 30)))


def test_the_poll_queries_only_when_status_shows_new_enforcement_data(server):
    server.answer("/status", (200, STATUS, {}))
    server.answer("/drug/enforcement.json", (200, PAGE_1, NEXT))
    server.answer("/drug/enforcement.json#next", (200, PAGE_2, {}))
    api, _ = client(server)
    state = MemoryFeedState()
    first = poll_recalls(api, state, date(2026, 11, 30))
    assert len(first.candidates) == 4
    queried = len(server.requests)

    second = poll_recalls(api, state, date(2026, 11, 30))
    assert second.skipped == "openFDA drugenforcement unchanged since 2026-11-25"
    assert server.requests[queried:] == ["/status"]  # the status call, and no enforcement query

    newer = [dict(e, last_updated="2026-12-02") if e["endpoint"] == "drugenforcement" else e for e in STATUS]
    server.answer("/status", (200, newer, {}))
    server.answer("/drug/enforcement.json", (404, NO_MATCHES, {}))
    third = poll_recalls(api, state, date(2026, 12, 3))
    assert third.candidates == [] and not third.skipped
    assert "report_date:[20261111+TO+20261203]" in server.requests[-1]  # watermark 2026-11-25 − 14 days


def test_link_headers_as_openfda_writes_them():
    assert next_link(
        '<https://api.fda.gov/drug/enforcement.json?skip=0&search_after=0%3Dabc>; rel="next"'
    ) == ("https://api.fda.gov/drug/enforcement.json?skip=0&search_after=0%3Dabc")
    assert next_link(None) is None and next_link('<https://x>; rel="prev"') is None
