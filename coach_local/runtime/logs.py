"""Where a local run's log lines go: every handler's to OUT/logs/functions.log, moto's interpreter's to moto.log."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from coach_local.runtime.environment import LOGGER_NAME

MOTO_LOGGER = "moto.stepfunctions"


class LogCapture:
    """Redirects the Powertools logger's stream (the PHI tests scan functions.log) and moto's narration."""

    def __init__(self, logs_dir: Path) -> None:
        self.logs_dir = logs_dir
        self._log_file: io.TextIOBase | None = None
        self._moto_log: logging.FileHandler | None = None
        self._saved_streams: list[tuple[logging.StreamHandler, Any]] = []

    def start(self) -> None:
        import coach.observability  # noqa: F401  (creates the Powertools logger and its handler)

        self.logs_dir.mkdir(exist_ok=True)
        self._log_file = open(self.logs_dir / "functions.log", "a", encoding="utf-8")  # noqa: SIM115
        for handler in logging.getLogger(LOGGER_NAME).handlers:
            if isinstance(handler, logging.StreamHandler):
                self._saved_streams.append((handler, handler.setStream(self._log_file)))
        # moto's interpreter narrates its internals (and warns that tolerated failures have no effect, which
        # moto_fixes makes untrue): keep that in OUT/logs/moto.log, off the user's terminal.
        self._moto_log = logging.FileHandler(self.logs_dir / "moto.log", encoding="utf-8")
        self._moto_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        moto_logger = logging.getLogger(MOTO_LOGGER)
        moto_logger.addHandler(self._moto_log)
        moto_logger.propagate = False

    def stop(self) -> None:
        if self._moto_log is not None:
            moto_logger = logging.getLogger(MOTO_LOGGER)
            moto_logger.removeHandler(self._moto_log)
            moto_logger.propagate = True
            self._moto_log.close()
            self._moto_log = None
        for handler, stream in self._saved_streams:
            handler.setStream(stream)
        self._saved_streams.clear()
        if self._log_file:
            self._log_file.close()
            self._log_file = None
