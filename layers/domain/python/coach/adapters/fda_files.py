"""FDA's published feed archives, downloaded whole (the standard library; retried like the openFDA client)."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable

# Where FDA publishes each archive (docs/feeds.md); the pages link these addresses.
ARCHIVES = {
    "drugs-at-fda": "https://www.fda.gov/media/89850/download",
    "orange-book": "https://www.fda.gov/media/76860/download",
    "ndc-directory": "https://www.accessdata.fda.gov/cder/ndctext.zip",
}
MAX_BYTES = 200 * 1024 * 1024


class DownloadFailed(RuntimeError):
    pass


def download(
    url: str, retries: int = 4, backoff_seconds: float = 2.0, sleep: Callable[[float], None] = time.sleep
) -> bytes:
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 (fixed https addresses)
                data = response.read(MAX_BYTES + 1)
            if len(data) > MAX_BYTES:
                raise DownloadFailed(f"{url}: more than {MAX_BYTES:,} bytes, not a feed archive")
            return data
        except urllib.error.HTTPError as exc:
            if exc.code != 429 and exc.code < 500:
                raise DownloadFailed(f"{url}: HTTP {exc.code}") from None
            failure = f"HTTP {exc.code}"
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            failure = f"{type(exc).__name__}: {exc}"
        if attempt < retries:
            sleep(backoff_seconds * 2**attempt)
    raise DownloadFailed(f"{url}: failed {retries + 1} times, last with {failure[:200]}")
