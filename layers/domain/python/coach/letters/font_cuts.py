"""The embedded fonts' subsets, made once per process and kept (a warm Lambda container, a local worker).

fpdf2 embeds in each PDF a subset of each font holding the glyphs the document uses, cut with fontTools from the
whole font file (6,000 glyphs): about 0.1 s per style per PDF, most of a small batch's time. Two kept cuts make that
a look-up: a *shared* cut of each font to every glyph of Latin-1 and Latin Extended-A (the letters' text and almost
every name; a document using other characters gets a shared cut of its own), and, per set of glyphs a document uses,
the *final* cut, made from the shared one with fpdf2's own options. The PDF is the same, byte for byte, as fpdf2
cutting from the whole font (tests/unit/test_letters.py)."""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from fontTools import subset as ftsubset
from fontTools import ttLib

SHARED_CHARACTERS = frozenset(range(0x20, 0x7F)) | frozenset(range(0xA0, 0x180)) | {0xFFFD}
CUTS_KEPT = 256  # final cuts (about 20 KB each); the least recently used goes first
# the tables fpdf2 2.8 drops from every subset it embeds (fpdf/output.py, OutputProducer._add_fonts)
FPDF_DROPPED_TABLES = [
    "FFTM", "GDEF", "GPOS", "GSUB", "MATH", "hdmx", "meta", "sbix",
    "CBDT", "CBLC", "EBDT", "EBLC", "EBSC", "SVG ", "CPAL", "COLR",
]  # fmt: skip


def _options(*, keep_names: bool) -> ftsubset.Options:
    """fpdf2's subsetting options; the shared cut also keeps the glyph names, by which fpdf2 asks for glyphs."""
    options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=keep_names)
    options.drop_tables += FPDF_DROPPED_TABLES
    return options


def _subset(font: ttLib.TTFont, glyph_names: frozenset[str], *, keep_names: bool) -> ttLib.TTFont:
    subsetter = ftsubset.Subsetter(_options(keep_names=keep_names))
    subsetter.populate(glyphs=sorted(glyph_names))
    subsetter.subset(font)
    return font


def _saved(font: ttLib.TTFont) -> bytes:
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Cut:
    data: bytes  # the font file fpdf2 would embed
    glyph_order: list[str]  # the cut's glyphs, by their names in the whole font
    glyph_ids: dict[str, int]  # a name in the whole font -> the glyph's id in the cut


class CutFont(ttLib.TTFont):
    """A document's font as fpdf2 would cut it, already cut: it holds no tables, so fpdf2's subsetting finds nothing
    to change, its glyph ids are those of the cut, and saving it writes the cut."""

    def __init__(self, cut: _Cut) -> None:
        super().__init__()
        self.cut = cut
        self.setGlyphOrder(list(cut.glyph_order))

    def getGlyphID(self, glyphName: str) -> int:
        return self.cut.glyph_ids[glyphName]

    def save(self, file: IO[bytes], reorderTables: Any = True) -> None:
        file.write(self.cut.data)


class FontCuts:
    """Thread-safe: the letters function may render several batches at once in one process."""

    def __init__(self) -> None:
        self._shared: dict[tuple[Path, frozenset[str]], bytes] = {}
        self._final: OrderedDict[tuple[Path, frozenset[str]], _Cut] = OrderedDict()
        self._lock = threading.Lock()

    def font_for(self, path: Path, glyph_names: frozenset[str]) -> CutFont:
        key = (path, glyph_names)
        with self._lock:
            cut = self._final.get(key)
            if cut is not None:
                self._final.move_to_end(key)
        if cut is None:
            cut = self._final_cut(path, glyph_names)
            with self._lock:
                self._final[key] = cut
                while len(self._final) > CUTS_KEPT:
                    self._final.popitem(last=False)
        return CutFont(cut)

    def _final_cut(self, path: Path, glyph_names: frozenset[str]) -> _Cut:
        font = _subset(self._shared_font(path, glyph_names), glyph_names, keep_names=False)
        order = font.getGlyphOrder()
        ids = {name: font.getGlyphID(name) for name in order}
        return _Cut(_saved(font), list(order), ids)

    def _shared_font(self, path: Path, glyph_names: frozenset[str]) -> ttLib.TTFont:
        shared = _shared_names(path)
        names = shared if glyph_names <= shared else shared | glyph_names
        with self._lock:
            data = self._shared.get((path, names))
        if data is None:
            whole = ttLib.TTFont(path, recalcTimestamp=False, lazy=True)
            data = _saved(_subset(whole, names, keep_names=True))
            with self._lock:
                if len(self._shared) >= CUTS_KEPT:
                    self._shared.pop(next(iter(self._shared)))
                self._shared[(path, names)] = data
        return ttLib.TTFont(io.BytesIO(data), recalcTimestamp=False, lazy=True)


_names_lock = threading.Lock()
_names: dict[Path, frozenset[str]] = {}


def _shared_names(path: Path) -> frozenset[str]:
    with _names_lock:
        if path not in _names:
            cmap = ttLib.TTFont(path, lazy=True).getBestCmap()
            _names[path] = frozenset(cmap[c] for c in SHARED_CHARACTERS if c in cmap) | {".notdef"}
        return _names[path]
