"""The local runtime may render letter PDFs in worker processes: the PDF is the one the letters function renders
itself (same pages, same bytes but for the creation time), and the pool ends with the runtime."""

from __future__ import annotations

import re
from datetime import date

from coach.letters.render import render_letters

from coach_local.runtime.render_pool import RenderPool
from tests.unit.test_letters import MEMBERS


def _stable(pdf: bytes) -> bytes:  # without the creation time and the file id
    return re.sub(rb"/ID \[<[0-9A-Fa-f]+><[0-9A-Fa-f]+>\]", b"", re.sub(rb"D:\d+Z", b"", pdf))


def test_a_batch_rendered_in_a_worker_is_the_batch_rendered_here():
    letters = [(m, f"# Notice\nDear {m.first_name}, your pharmacy wrote.", m.language) for m in MEMBERS]
    pool = RenderPool(workers=1)
    try:
        there, there_pages = pool(letters, today=date(2002, 12, 1))
        again, _ = pool(letters[:2], today=date(2002, 12, 1))
    finally:
        pool.close()
    here, here_pages = render_letters(letters, today=date(2002, 12, 1))
    assert there_pages == here_pages and len(here_pages) == len(MEMBERS)
    assert _stable(there) == _stable(here)
    assert _stable(again) == _stable(render_letters(letters[:2], today=date(2002, 12, 1))[0])
