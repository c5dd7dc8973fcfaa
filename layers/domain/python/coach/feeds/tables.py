"""The published files of a feed: a zip as FDA publishes it (or its extracted folder), and its delimited tables
read as published — no quoting (Drugs@FDA writes literal `"` inside fields), padded values stripped, header names
matched ignoring case, every value a string."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path, PurePosixPath

from coach.feeds.candidate import FeedDataError

Row = dict[str, str]  # lower-case column name → stripped value; "_line" → the line number in its file
MAX_FILE_BYTES = 512 * 1024 * 1024  # a zip member larger than this is not a feed file (a zip bomb is refused)


class Bundle:
    """The files of one published archive, found by base name ignoring case (zips may hold a folder)."""

    def __init__(self, files: Mapping[str, Callable[[], bytes]], origin: str) -> None:
        self._files = {PurePosixPath(name).name.lower(): (name, read) for name, read in files.items()}
        self.origin = origin

    @classmethod
    def from_zip(cls, data: bytes, origin: str) -> Bundle:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
        except zipfile.BadZipFile:
            raise FeedDataError(f"{origin}: not a zip archive") from None
        readers: dict[str, Callable[[], bytes]] = {}
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise FeedDataError(
                    f"{origin}: {info.filename} is {info.file_size:,} bytes, more than a feed file"
                )
            readers[info.filename] = partial(archive.read, info.filename)
        return cls(readers, origin)

    @classmethod
    def from_path(cls, path: Path) -> Bundle:
        """A zip file, or a folder of the extracted files."""
        if path.is_dir():
            return cls({p.name: p.read_bytes for p in sorted(path.iterdir()) if p.is_file()}, str(path))
        if not path.is_file():
            raise FeedDataError(f"{path}: no such file or folder")
        return cls.from_zip(path.read_bytes(), str(path))

    def has(self, name: str) -> bool:
        return name.lower() in self._files

    def read(self, name: str) -> bytes:
        entry = self._files.get(name.lower())
        if entry is None:
            present = ", ".join(sorted(original for original, _ in self._files.values())) or "no files"
            raise FeedDataError(f"{self.origin}: {name} is missing (found: {present[:300]})")
        return entry[1]()


def read_table(
    bundle: Bundle,
    name: str,
    *,
    delimiter: str,
    encoding: str,
    required: tuple[str, ...],
    row_start: re.Pattern[str] | None = None,
) -> list[Row]:
    """Rows of one delimited file. `row_start`: a line that does not match it continues the previous line (Drugs@FDA
    notes hold unescaped line breaks; the pieces are joined with a space). A row with more fields than the header keeps the surplus,
    delimiter included, in its last column; a row with fewer is padded with empty values."""
    text = bundle.read(name).decode(encoding, errors="replace").lstrip("\ufeff")
    lines = re.split(r"\r?\n", text)
    header = [column.strip().lower() for column in lines[0].split(delimiter)]
    absent = [column for column in required if column.lower() not in header]
    if absent:
        raise FeedDataError(
            f"{bundle.origin}: {name}: column {', '.join(absent)} missing from the header "
            f"({delimiter.join(lines[0].split(delimiter))[:200]!r})"
        )
    logical: list[tuple[int, str]] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        if row_start is not None and logical and not row_start.match(line):
            start, previous = logical[-1]
            logical[-1] = (start, f"{previous} {line.strip()}")
        else:
            logical.append((number, line))
    rows: list[Row] = []
    width = len(header)
    for number, line in logical:
        fields = line.split(delimiter)
        if len(fields) > width:
            fields = [*fields[: width - 1], delimiter.join(fields[width - 1 :])]
        fields += [""] * (width - len(fields))
        row = {column: value.strip() for column, value in zip(header, fields, strict=True)}
        row["_line"] = str(number)
        rows.append(row)
    return rows
