"""What `coach` loads at start: the commands start without the runtime, and the letters without fontTools' variable-font
libraries, yet print the same bytes. Each check runs in a fresh interpreter (this session has loaded everything)."""

from __future__ import annotations

import subprocess
import sys

RENDER = """
import re, sys
from datetime import date
from coach.letters.render import render_letters
from coach.models import MemberRecord

member = MemberRecord.model_validate({
    "member_id": "M1", "client_id": "C1", "first_name": "Nguyễn", "last_name": "Văn An",
    "address_line1": "12 Elm St", "city": "Springfield", "state": "IL", "postal_code": "62701",
    "drug_name": "Claritin 10 mg", "last_fill_date": "2002-10-01",
})
pdf, _ = render_letters([(member, "# Claritin **is now OTC**\\nBody, José Núñez.", "en")], today=date(2002, 12, 1))
"""
WRITE = """
sys.stdout.buffer.write(re.sub(rb"/CreationDate [(]D:[0-9]+Z[)]|/ID [[][^]]*[]]", b"", pdf))  # what the clock sets
"""


def _python(code: str) -> bytes:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout


def test_letters_print_the_same_bytes_without_fonttools_variable_font_modules():
    plain = _python(RENDER + WRITE)
    lean = _python("import coach_local\n" + RENDER + WRITE)
    assert plain.startswith(b"%PDF")
    assert lean == plain
    loaded = _python(
        "import sys, coach_local\n"
        + RENDER
        + "print(sorted(m for m in ('fontTools.varLib.merger', 'fontTools.designspaceLib') if m in sys.modules))"
    )
    assert loaded.strip() == b"[]"


def test_fonttools_variable_font_modules_still_load_when_asked_for():
    out = _python(
        "import coach_local, fpdf\n"
        "from fontTools.varLib.instancer import instantiateVariableFont\n"
        "import fontTools.varLib as varLib\n"
        "print(callable(instantiateVariableFont), callable(varLib.build), varLib.merger.__name__)"
    )
    assert out.split() == [b"True", b"True", b"fontTools.varLib.merger"]


def test_a_command_that_needs_no_runtime_loads_neither_aws_nor_the_letters():
    out = _python(
        "import sys, coach_local.cli\n"
        "print(sorted(m for m in ('boto3', 'fpdf', 'moto', 'matplotlib', 'coach.models') if m in sys.modules))"
    )
    assert out.strip() == b"[]"
