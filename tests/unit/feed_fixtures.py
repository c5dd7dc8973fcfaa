"""The recorded feed files of tests/fixtures/feeds, and copies of them a test may change."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "feeds"


def copy_of(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


def zipped(folder: Path, inner: str = "") -> bytes:
    """The folder's files as one zip (optionally inside a folder of the archive, as some FDA zips are)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"{inner}{file.name}")
    return buffer.getvalue()


def replace_line(path: Path, old: str, new: str, encoding: str = "cp1252") -> None:
    text = path.read_bytes().decode(encoding)
    assert old in text, f"{old!r} not in {path.name}"
    path.write_bytes(text.replace(old, new).encode(encoding))
