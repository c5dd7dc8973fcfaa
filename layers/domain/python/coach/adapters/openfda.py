"""The openFDA drug enforcement client (coach.feeds.recalls.EnforcementSource), on the standard library.

- `/status` first: the `drugenforcement` entry's `last_updated` says whether there is anything new to read;
- `report_date:[since TO until]`, `limit=1000`, following the `Link: <…>; rel="next"` header (openFDA's
  `search_after` paging; `skip` stops at 25,000) and only to the same host, so the API key never leaves it;
- HTTP 404 with error code `NOT_FOUND` ("No matches found!") is an empty result, not an error;
- 429 and 5xx (and a dropped connection) are retried with exponential backoff, honouring `Retry-After`."""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from coach.feeds.candidate import FeedDataError

BASE_URL = "https://api.fda.gov"
STATUS_ENDPOINT = "drugenforcement"
PAGE_LIMIT = 1000
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?', re.IGNORECASE)


class OpenFdaUnavailable(RuntimeError):
    """openFDA kept failing (429/5xx) through every retry, or answered with an error that is not 'no matches'."""


def next_link(header: str | None) -> str | None:
    match = _NEXT.search(header or "")
    return match.group(1) if match else None


class OpenFdaClient:
    def __init__(
        self,
        base_url: str = BASE_URL,
        api_key: str | None = None,
        *,
        retries: int = 5,
        backoff_seconds: float = 1.0,
        timeout_seconds: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.timeout_seconds = timeout_seconds
        self.sleep = sleep
        self.requests = 0

    def _get(self, url: str) -> tuple[Any, str | None]:
        """(JSON body, Link header); None body for openFDA's 404 NOT_FOUND."""
        attempt = 0
        while True:
            self.requests += 1
            request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_seconds) as response:  # noqa: S310
                    return json.loads(response.read()), response.headers.get("Link")
            except urllib.error.HTTPError as exc:
                body = exc.read()
                if exc.code == 404 and _not_found(body):
                    return None, None
                if exc.code != 429 and exc.code < 500:
                    raise OpenFdaUnavailable(f"openFDA answered HTTP {exc.code}: {body[:200]!r}") from None
                wait = _retry_after(exc.headers.get("Retry-After"))
                failure = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                wait, failure = None, f"{type(exc).__name__}: {exc}"
            if attempt >= self.retries:
                raise OpenFdaUnavailable(f"openFDA failed {attempt + 1} times, last with {failure[:200]}")
            self.sleep(wait if wait is not None else min(60.0, self.backoff_seconds * 2**attempt))
            attempt += 1

    def last_updated(self) -> str:
        body, _ = self._get(f"{self.base_url}/status")
        entries = body.get("results", []) if isinstance(body, dict) else body or []
        for entry in entries:
            if (
                isinstance(entry, dict)
                and entry.get("endpoint") == STATUS_ENDPOINT
                and entry.get("last_updated")
            ):
                return str(entry["last_updated"])
        raise FeedDataError(f"openFDA /status lists no {STATUS_ENDPOINT} entry with last_updated")

    def first_page_url(self, since: date, until: date) -> str:
        params = {"search": f"report_date:[{since:%Y%m%d}+TO+{until:%Y%m%d}]", "limit": str(PAGE_LIMIT)}
        if self.api_key:
            params["api_key"] = self.api_key
        # openFDA's query syntax uses literal `+` for spaces and `:[]` unescaped
        return f"{self.base_url}/drug/enforcement.json?{urlencode(params, safe=':[]+')}"

    def records(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        url: str | None = self.first_page_url(since, until)
        host = urlsplit(self.base_url)[:2]
        while url:
            body, link = self._get(url)
            if body is None:
                return
            yield from page_results(body, url)
            url = next_link(link)
            if url and urlsplit(url)[:2] != host:
                raise OpenFdaUnavailable(f"openFDA's next link leaves {self.base_url}: {url[:100]}")


def page_results(body: Any, where: str) -> list[dict[str, Any]]:
    """The `results` of one enforcement page as the API returns it."""
    if not isinstance(body, dict) or not isinstance(body.get("results", []), list):
        raise FeedDataError(f"{where}: not an openFDA enforcement page (no results list)")
    return [r for r in body.get("results", []) if isinstance(r, dict)]


def _not_found(body: bytes) -> bool:
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return False
    return isinstance(error, dict) and error.get("code") == "NOT_FOUND"


def _retry_after(value: str | None) -> float | None:
    try:
        return min(60.0, max(0.0, float(value))) if value else None
    except ValueError:
        return None
