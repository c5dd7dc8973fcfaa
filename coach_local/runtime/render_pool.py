"""Letters rendered on the machine's other cores: the letters function runs in the runtime's process (moto, its S3
and SES, are there), and only the pure computation — a batch's PDF — goes to a worker process, as AWS runs many
letters functions at once. Same function, same bytes; the handler and the ASL do not change."""

from __future__ import annotations

import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from datetime import date

from coach.letters.branding import Branding
from coach.letters.render import render_letters
from coach.models import MemberRecord


class RenderPool:
    """A LetterRenderer (coach.ports) over `workers` processes, started at the first batch (spawned, not forked:
    the runtime's process has threads; so a script that starts a runtime with workers needs the usual
    `if __name__ == "__main__":` guard)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def __call__(
        self,
        letters: list[tuple[MemberRecord, str, str]],
        today: date | None = None,
        branding: Branding | None = None,
    ) -> tuple[bytes, list[tuple[int, int]]]:
        with self._lock:
            if self._pool is None:
                context = multiprocessing.get_context("spawn")
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
            pool = self._pool
        return pool.submit(render_letters, letters, today, branding).result()

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
