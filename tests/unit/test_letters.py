"""Letters: approved templates only, required elements checked, every member exactly one piece on the right channel,
print-ready pages whose text an independent reader (pypdf) can extract."""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date
from pathlib import Path
from typing import cast

import pytest
from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.letters.authoring import approve_template, check_templates, preview_template
from coach.letters.render import render_letters
from coach.letters.service import merge_client_manifest
from coach.letters.templates import TEMPLATES_DIR, TemplateNotApproved, TemplateRegistry
from coach.models import MarketEvent, MemberRecord
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from tests.unit.letter_batches import run_letter_batch

EVENT = MarketEvent.model_validate(
    {
        "event_id": "e1",
        "event_type": "otc_switch",
        "drug": {"name": "Claritin", "ingredient": "loratadine"},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "OTC.",
        "alternatives": ["cetirizine"],
    }
)


def member(member_id, first, last, **overrides):
    values = {
        "member_id": member_id,
        "client_id": "C1",
        "first_name": first,
        "last_name": last,
        "address_line1": "12 Elm St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "drug_name": "Claritin 10 mg",
        "last_fill_date": date(2002, 10, 1),
    }
    values.update(overrides)
    return MemberRecord.model_validate(values)


MEMBERS = [
    member("M1", "Ada", "O'Brien"),
    member("M2", "José", "Núñez", language="es"),
    member(
        "M3", "Grace", "Hopper", email="grace@mail.example", email_consent=True, preferred_channel="email"
    ),
    member("M4", "Alan", "Turing", email="alan@mail.example", email_consent=False, preferred_channel="email"),
    member("M5", "Nguyễn", "Văn An", language="vi"),
    member("M6", "Hidden", "Person", confidential_address=True),
]


def run_batch(store=None, mailer=None):
    return run_letter_batch(MEMBERS, EVENT, store=store, mailer=mailer)


def pages_text(pdf_bytes):
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages]


def test_every_approved_template_renders_with_every_required_element():
    assert check_templates() == []


def test_every_member_gets_exactly_one_piece_on_the_right_channel():
    store, mailer, result = run_batch()
    assert (result.letters, result.emails) == (5, 1)
    rows = list(csv.DictReader(io.StringIO(store.get("letters", result.manifest_key).decode())))
    assert sorted(r["member_id"] for r in rows) == ["M1", "M2", "M3", "M4", "M5", "M6"]
    channels = {r["member_id"]: r["channel"] for r in rows}
    assert channels["M3"] == "email" and channels["M4"] == "mail"  # no consent, no email
    assert [e.to for e in mailer.sent] == [("grace@mail.example",)]
    assert all(r["template_sha256"] and r["template_version"] for r in rows)


def test_pdf_pages_carry_name_drug_and_effective_date_per_language():
    store, _, result = run_batch()
    rows = {
        r["member_id"]: r
        for r in csv.DictReader(io.StringIO(store.get("letters", result.manifest_key).decode()))
    }
    pages = pages_text(store.get("letters", result.pdf_key))
    ada = pages[int(rows["M1"]["first_page"]) - 1]
    assert "Ada O'Brien" in ada and "Claritin" in ada and "January 1, 2003" in ada
    jose = pages[int(rows["M2"]["first_page"]) - 1]
    assert "José Núñez" in jose and "1 de enero de 2003" in jose and rows["M2"]["language"] == "es"
    assert rows["M5"]["language"] == "en"  # no Vietnamese template yet: English with the language tagline
    assert "Nguyễn Văn An" in pages[int(rows["M5"]["first_page"]) - 1]  # as written (embedded font)
    assert "Grace" not in "".join(pages)


def test_nothing_visible_through_the_window_names_the_drug():
    from coach.letters.render import ADDRESS_TOP, address_lines

    confidential = MEMBERS[5]
    assert "Claritin" not in " ".join(address_lines(confidential))
    pdf, _ = render_letters(
        [(confidential, "# Claritin\nBody about Claritin.", "en")], today=date(2002, 12, 1)
    )
    reader = PdfReader(io.BytesIO(pdf))
    top_part: list[str] = []
    height = float(reader.pages[0].mediabox.height)
    fold = height - (ADDRESS_TOP + 30) / 25.4 * 72  # everything above the bottom of the address window

    def visit(text, cm, tm, font, size):
        if tm[5] >= fold and text.strip():
            top_part.append(text)

    reader.pages[0].extract_text(visitor_text=visit)
    assert "Hidden Person" in " ".join(top_part)
    assert "Claritin" not in " ".join(top_part)


def test_email_subject_names_no_drug_or_condition():
    _, mailer, _ = run_batch()
    assert "Claritin" not in mailer.sent[0].subject and "loratadine" not in mailer.sent[0].subject.lower()
    assert "Claritin" in mailer.sent[0].text and "<h2>" in (mailer.sent[0].html or "")


def test_a_rerun_of_a_complete_batch_generates_and_sends_nothing():
    store, mailer = MemoryObjectStore(), MemoryMailer()
    _, _, first = run_batch(store, mailer)
    objects_before = dict(store.objects)
    _, _, second = run_batch(store, mailer)
    assert store.objects == objects_before and len(mailer.sent) == 1
    assert second.skipped and not first.skipped
    assert second.model_copy(update={"skipped": False}) == first


def test_a_batch_cut_off_before_its_manifest_is_regenerated_on_the_same_keys_without_a_second_email():
    store, mailer = MemoryObjectStore(), MemoryMailer()
    _, _, first = run_batch(store, mailer)
    manifest = ("letters", first.manifest_key)
    del store.objects[manifest]  # the attempt died after the PDF and the emails, before the manifest
    keys_before = set(store.objects)
    _, _, second = run_batch(store, mailer)
    assert set(store.objects) == keys_before | {manifest} and second == first
    assert len(mailer.sent) == 1  # the idempotency ledger absorbed the second send


def test_client_manifest_merges_batches_in_order():
    store, _, _ = run_batch()
    store.put(
        "letters",
        "campaigns/camp/C1/batch-00001.manifest.csv",
        store.get("letters", "campaigns/camp/C1/batch-00000.manifest.csv"),
    )
    mailed, emailed = merge_client_manifest(store, "letters", "camp", "C1")
    assert (mailed, emailed) == (10, 2)
    merged = store.get("letters", "campaigns/camp/C1/manifest.csv").decode().splitlines()
    assert merged[0].startswith("piece_id,member_id") and len(merged) == 13


@pytest.fixture
def template_copy(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root)
    return root


def test_an_edited_unapproved_template_refuses_to_render(template_copy):
    path = template_copy / "otc_switch" / "en.j2"
    path.write_text(path.read_text() + "\nAn unreviewed sentence.\n")
    with pytest.raises(TemplateNotApproved, match="otc_switch/en.j2: content differs from approved version"):
        TemplateRegistry(template_copy).pinned("otc_switch", "en")


def test_missing_variable_fails_the_check_naming_the_template(template_copy):
    path = template_copy / "recall" / "es.j2"
    path.write_text(path.read_text().replace("{{ drug_name }}", "{{ drug_nombre }}", 1))
    approve_template("recall", "es", "Test", date(2026, 1, 1), "9.9.9", root=template_copy)
    problems = [str(p) for p in check_templates(template_copy)]
    assert any(p.startswith("recall/es.j2") and "drug_nombre" in p for p in problems)


def test_missing_required_element_fails_the_check_naming_it(template_copy):
    path = template_copy / "otc_switch" / "en.j2"
    path.write_text(path.read_text().replace("{{ tagline }}", ""))
    approve_template("otc_switch", "en", "Test", date(2026, 1, 1), "9.9.9", root=template_copy)
    assert [str(p) for p in check_templates(template_copy)] == [
        "otc_switch/en.j2: missing required element: language-assistance tagline"
    ]


def test_preview_writes_a_readable_pdf(tmp_path):
    preview_template("patent_expiry", "es", tmp_path / "p.pdf")
    text = pages_text((tmp_path / "p.pdf").read_bytes())[0]
    assert "Samplezol" in text and "1 de enero de 2003" in text


def test_templates_exist_for_every_event_type_in_english_and_spanish():
    from coach.models import EVENT_TYPES

    for event_type in EVENT_TYPES:
        for lang in ("en", "es"):
            assert (Path(TEMPLATES_DIR) / event_type / f"{lang}.j2").exists()


def test_a_long_letter_continues_on_a_second_page_and_the_next_starts_fresh():
    long_text = "# Heading\n" + "\n\n".join(["A long paragraph that keeps going. " * 30] * 6)
    pdf, pages = render_letters(
        [(MEMBERS[0], long_text, "en"), (MEMBERS[1], "Short.", "es")], today=date(2002, 12, 1)
    )
    assert pages[0][0] == 1 and pages[0][1] >= 2
    assert pages[1] == (pages[0][1] + 1, 1)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == pages[0][1] + 1


NAMES_OUTSIDE_LATIN1 = [
    member("N1", "Nguyễn", "Łukasz-Øster"),
    member("N2", "Владимир", "Щербаков-Ёлкин"),
    member("N3", "Αλέξανδρος", "Παπαδόπουλος"),
    member("N4", "Trần Thị", "Bích Ngọc"),
]


def pdftotext(path, page, window_only=False):
    """An independent reader (poppler); window_only: the text inside the envelope's address window alone."""
    import subprocess

    from coach.letters.render import ADDRESS_TOP, ADDRESS_WIDTH, LEFT

    crop = []
    if window_only:  # pixels at pdftotext's 72 dpi are points; the window is 1 in tall
        x, y, w = (round(mm / 25.4 * 72) for mm in (LEFT, ADDRESS_TOP, ADDRESS_WIDTH))
        crop = ["-x", str(x), "-y", str(y), "-W", str(w), "-H", "72"]
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), *crop, str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def letters_for(members):
    from coach.letters.templates import default_registry, letter_context

    registry = default_registry()
    pinned = registry.pinned("otc_switch", "en")
    return [(m, registry.render(pinned, letter_context(m, EVENT, "en")), "en") for m in members]


def test_every_font_in_a_letters_pdf_is_embedded():
    store, _, result = run_batch()  # English and Spanish letters, bold headings, a Vietnamese name
    fonts = {}
    for page in PdfReader(io.BytesIO(store.get("letters", result.pdf_key))).pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        for font in cast(DictionaryObject, resources["/Font"].get_object()).values():
            font = font.get_object()
            fonts[font["/BaseFont"]] = font
    assert len(fonts) == 2  # regular and bold
    for name, font in fonts.items():
        described = font["/DescendantFonts"][0].get_object() if font["/Subtype"] == "/Type0" else font
        descriptor = described.get("/FontDescriptor")
        assert descriptor is not None, f"{name}: no font descriptor (a non-embedded core font)"
        font_files = {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor.get_object())
        assert font_files, f"{name}: not embedded"


def test_names_outside_latin1_print_as_written_in_the_window_and_the_salutation(tmp_path):
    pdf, pages = render_letters(letters_for(NAMES_OUTSIDE_LATIN1), today=date(2002, 12, 1))
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    for m, (first, _) in zip(NAMES_OUTSIDE_LATIN1, pages, strict=True):
        name = f"{m.first_name} {m.last_name}"
        window = [line for line in pdftotext(path, first, window_only=True).splitlines() if line.strip("\f")]
        assert window == [name, "12 Elm St", "Springfield, IL 62701"]
        assert f"Dear {name}," in pdftotext(path, first).splitlines()


def test_a_character_the_font_lacks_prints_visibly_and_flags_the_letter_without_logging_it(tmp_path, caplog):
    # CJK: no glyph in DejaVu Sans; fullwidth letters: their compatibility forms; a zero-width space: invisible
    lacking = member("X1", "山田", "Ｔａｒｏ\u200b")
    with caplog.at_level("WARNING", logger="coach.letters.render"):
        pdf, _ = render_letters(letters_for([lacking]), today=date(2002, 12, 1))
    path = tmp_path / "letters.pdf"
    path.write_bytes(pdf)
    assert pdftotext(path, 1, window_only=True).splitlines()[0] == "\ufffd\ufffd Taro"
    assert "Dear \ufffd\ufffd Taro," in pdftotext(path, 1).splitlines()
    assert "member X1: 4 characters the font has no glyph for" in caplog.text  # window and salutation
    assert "山" not in caplog.text and "5C71" not in caplog.text.upper()  # logs carry no member fields


def test_text_is_fitted_to_the_glyphs_a_font_has():
    from coach.letters.render import FONT_FILES, FONTS_DIR
    from coach.letters.text import Glyphs
    from fontTools.ttLib import TTFont

    ascii_only = Glyphs([*range(0x20, 0x7F), 0xFFFD])
    assert ascii_only.fit("Nguye\u0302\u0303n") == ("Nguyen", "")  # no "ễ": its base letter
    assert ascii_only.fit("Łukasz") == ("\ufffdukasz", "Ł")  # no decomposition: visible and reported
    assert ascii_only.fit("ﬁne\tline\u00ad\nnext") == ("fine line\nnext", "")
    glyphs = Glyphs(TTFont(FONTS_DIR / FONT_FILES[""], lazy=True).getBestCmap())
    assert glyphs.fit("Nguye\u0302\u0303n Łukasz Ёлкин Αλέξανδρος") == ("Nguyễn Łukasz Ёлкин Αλέξανδρος", "")
    assert glyphs.fit("שלום") == ("\ufffd" * 4, "שלום")  # right to left: would print reversed (no bidi)


def test_batches_rendered_one_after_another_in_one_process_are_each_whole():
    """The parsed fonts are kept across batches (a warm container): each PDF still embeds its own glyphs, and a
    batch comes out the same whether it is the process's first or follows another with other scripts."""
    import re

    from coach.letters import render

    first = [(MEMBERS[4], "# Thông báo\nXin chào Nguyễn Жанна", "vi")]
    second = [(MEMBERS[0], "# Notice\nDear Ada, your pharmacy.", "en")]
    today = date(2002, 12, 1)

    def stable(pdf: bytes) -> bytes:  # without the creation time and the file id
        return re.sub(rb"/ID \[<[0-9A-Fa-f]+><[0-9A-Fa-f]+>\]", b"", re.sub(rb"D:\d+Z", b"", pdf))

    render._parsed_font.cache_clear()
    alone, _ = render_letters(second, today=today)
    render._parsed_font.cache_clear()
    render_letters(first, today=today)
    after_another, _ = render_letters(second, today=today)
    assert stable(after_another) == stable(alone)
    assert "Dear Ada" in pages_text(after_another)[0]
    assert "Nguyễn" in pages_text(render_letters(first, today=today)[0])[0]


def test_fonts_cut_once_per_process_give_the_pdf_cut_from_the_whole_font(monkeypatch):
    """The kept font cuts (coach.letters.font_cuts) change no byte of any PDF: the first batch (cuts made), the same
    glyphs again (cuts reused), and names outside Latin-1 (a cut of their own), against fpdf2 cutting from the
    whole font file."""
    import re

    from coach.letters import render
    from coach.letters.font_cuts import FontCuts

    def stable(pdf: bytes) -> bytes:  # without the creation time and the file id
        return re.sub(rb"/ID \[<[0-9A-Fa-f]+><[0-9A-Fa-f]+>\]", b"", re.sub(rb"D:\d+Z", b"", pdf))

    today = date(2002, 12, 1)
    batches = [letters_for(MEMBERS[:3]), letters_for(MEMBERS[:3]), letters_for(NAMES_OUTSIDE_LATIN1)]
    monkeypatch.setattr(render, "_FONT_CUTS", FontCuts())
    kept = [stable(render_letters(batch, today=today)[0]) for batch in batches]
    monkeypatch.setattr(render._LetterPdf, "cut_fonts", lambda self: None)  # fpdf2 alone
    whole = [stable(render_letters(batch, today=today)[0]) for batch in batches]
    assert kept == whole
    monkeypatch.undo()
    assert "Щербаков" in " ".join(pages_text(render_letters(batches[2], today=today)[0]))
