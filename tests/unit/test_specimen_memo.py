"""Specimen letters are rendered once per container for each distinct letter (text, language, letterhead, date):
every client with the same letterhead is shown the same PDF, a client with its own letterhead gets its own, and
the specimen first stored for a client stays as it was (one conditional write, no HeadObject first)."""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import boto3
import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.adapters.s3 import S3ObjectStore
from coach.intake import pin_templates
from coach.letters import specimen as specimen_module
from coach.letters.branding import PBM_BRANDING, Branding
from coach.letters.specimen import Specimen, make_specimens, specimen_pdf

from tests.unit.approval_fakes import market_event

LETTERS = "letters"
LAKESHORE = Branding(
    plan_name="Lakeshore Health Plan",
    letterhead_name="Lakeshore Health Plan Pharmacy Services",
    return_address=("PO Box 4410", "Chicago, IL 60680"),
    member_services_phone="1-888-555-0142",
    member_services_hours="7 days a week",
    signature="The Lakeshore Pharmacy Team",
    client_id="C2",
)


@pytest.fixture(autouse=True)
def fresh_memo():
    specimen_pdf.cache_clear()
    yield
    specimen_pdf.cache_clear()


@pytest.fixture
def renders(monkeypatch) -> list[str]:
    """The letterhead of every specimen actually rendered (not served from the memo)."""
    seen: list[str] = []
    real = specimen_module.render_letters

    def counting(letters, today=None, branding=None, mark=None):
        seen.append((branding or PBM_BRANDING).letterhead_name)
        return real(letters, today=today, branding=branding, mark=mark)

    monkeypatch.setattr(specimen_module, "render_letters", counting)
    return seen


def specimens_for(
    client_id: str, branding: Branding, objects: MemoryObjectStore, today: date = date(2026, 11, 2)
) -> list[Specimen]:
    return make_specimens(
        campaign_id="cmp-1",
        client_id=client_id,
        template_id="otc_switch",
        pins=pin_templates("otc_switch"),
        event=market_event(),
        branding=branding,
        languages=["en"],
        store=objects,
        letters_bucket=LETTERS,
        today=today,
    )


def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "specimen.pdf"
    path.write_bytes(body)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_clients_with_the_same_letterhead_are_shown_the_same_pdf_rendered_once(renders):
    objects = MemoryObjectStore()
    first = specimens_for("C1", PBM_BRANDING, objects)[0]
    second = specimens_for("C3", PBM_BRANDING, objects)[0]
    assert first.pdf_key != second.pdf_key  # each client's page names its own specimen
    assert objects.get(LETTERS, first.pdf_key) == objects.get(LETTERS, second.pdf_key)
    assert renders == ["Pharmacy Benefit Services"]


def test_a_client_with_its_own_letterhead_gets_its_own_specimen(renders, tmp_path):
    objects = MemoryObjectStore()
    pbm = specimens_for("C1", PBM_BRANDING, objects)[0]
    branded = specimens_for("C2", LAKESHORE, objects)[0]
    body = objects.get(LETTERS, branded.pdf_key)
    assert body != objects.get(LETTERS, pbm.pdf_key)
    text = pdf_text(body, tmp_path)
    assert "Lakeshore Health Plan Pharmacy Services" in text and "1-888-555-0142" in text
    assert "SPECIMEN" in text
    assert renders == ["Pharmacy Benefit Services", "Lakeshore Health Plan Pharmacy Services"]


def test_a_later_ask_keeps_the_specimen_first_stored_for_the_client(renders, tmp_path):
    objects = MemoryObjectStore()
    asked = specimens_for("C1", PBM_BRANDING, objects, today=date(2026, 11, 2))[0]
    kept = objects.get(LETTERS, asked.pdf_key)
    reminded = specimens_for("C1", PBM_BRANDING, objects, today=date(2026, 11, 5))[0]
    assert reminded.pdf_key == asked.pdf_key
    assert objects.get(LETTERS, asked.pdf_key) == kept  # the letter the approver first saw, dated as then
    assert "November 2, 2026" in pdf_text(kept, tmp_path)


def test_a_new_day_renders_the_letter_with_that_days_date(renders, tmp_path):
    objects = MemoryObjectStore()
    specimens_for("C1", PBM_BRANDING, objects, today=date(2026, 11, 2))
    later = specimens_for("C9", PBM_BRANDING, objects, today=date(2026, 11, 5))[0]
    assert "November 5, 2026" in pdf_text(objects.get(LETTERS, later.pdf_key), tmp_path)
    assert len(renders) == 2


def test_s3_writes_a_specimen_only_when_the_key_is_free(mocked_aws):
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=LETTERS)
    store = S3ObjectStore()
    assert store.put_new(LETTERS, "specimens/a.pdf", b"first", "application/pdf") is True
    assert store.put_new(LETTERS, "specimens/a.pdf", b"second", "application/pdf") is False
    assert store.get(LETTERS, "specimens/a.pdf") == b"first"
