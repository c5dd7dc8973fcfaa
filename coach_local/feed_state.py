"""Feed state in a folder (`coach feeds poll --state DIR`): one JSON file per source, written whole and atomically
(a temporary file renamed over the old one), so an interrupted poll leaves the previous state."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any


class FolderFeedState:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, dict[str, Any]] = {}

    def _path(self, source: str) -> Path:
        return self.folder / f"feed-{source}.json"

    def _load(self, source: str) -> dict[str, Any]:
        if source not in self._cache:
            path = self._path(source)
            try:
                data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            except json.JSONDecodeError as exc:
                raise ValueError(
                    f"{path}: not valid JSON (line {exc.lineno}); remove it to start over"
                ) from None
            self._cache[source] = {"watermark": data.get("watermark"), "values": dict(data.get("values", {}))}
        return self._cache[source]

    def _save(self, source: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=".feed-", dir=self.folder)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(self._cache[source], handle, indent=1, sort_keys=True)
        os.replace(temporary, self._path(source))

    def get_watermark(self, source: str) -> str | None:
        return self._load(source)["watermark"]

    def set_watermark(self, source: str, value: str) -> None:
        self._load(source)["watermark"] = value
        self._save(source)

    def get_values(self, source: str, keys: Iterable[str]) -> dict[str, str]:
        stored = self._load(source)["values"]
        return {key: stored[key] for key in keys if key in stored}

    def put_values(self, source: str, values: dict[str, str]) -> None:
        self._load(source)["values"].update(values)
        self._save(source)

    def replace_values(self, source: str, values: dict[str, str]) -> None:
        self._load(source)["values"] = dict(values)
        self._save(source)
