"""One batch of prescriber notices: print- and fax-ready PDFs from the approved, pinned prescriber template
(coach.letters.templates.TemplateRegistry over this package's templates/), rendered by the letters' renderer, with
a manifest (NPI, channel, fax number, pages). Never emailed: a notice lists patients. Keys are deterministic; a
batch whose manifest exists is complete and skipped."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from coach.letters.render import render_letters
from coach.letters.templates import PinnedTemplate, TemplateRegistry
from coach.letters.text import format_date
from coach.models import MarketEvent, MemberRecord
from coach.ports import LetterRenderer, ObjectStore

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
LANG = "en"
PRESCRIBER_SERVICES_PHONE = "1-800-555-0188"
MANIFEST_COLUMNS = (
    "piece_id",
    "npi",
    "channel",
    "fax",
    "batch_file",
    "first_page",
    "page_count",
    "patients",
    "template_id",
    "template_version",
    "template_sha256",
    "name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
)


class TemplateChanged(RuntimeError):
    """The deployed prescriber template is not the version the campaign pinned."""


class NoticeBatchRequest(BaseModel):
    """One item of the PrescriberNotices Distributed Map (keys only)."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    batch_key: str
    batch_index: int = Field(ge=0)
    event: MarketEvent
    template_id: str
    template_sha256: str


class NoticeBatchResult(BaseModel):
    batch_index: int
    notices: int
    faxes: int
    pages: int
    pdf_key: str | None
    manifest_key: str
    skipped: bool = False


@cache
def prescriber_registry() -> TemplateRegistry:
    return TemplateRegistry(TEMPLATES_DIR)


def notices_prefix(campaign_id: str) -> str:
    """In the letters bucket, beside the member letters (campaigns/…) and never under a client's prefix."""
    return f"prescriber-notices/{campaign_id}"


def pin(template_id: str, registry: TemplateRegistry | None = None) -> PinnedTemplate:
    return (registry or prescriber_registry()).pinned(template_id, LANG)


def notice_context(notice: dict[str, Any], event: MarketEvent) -> dict[str, Any]:
    patients = [
        {
            **patient,
            "birth_date": format_date(date.fromisoformat(patient["birth_date"]), LANG)
            if patient.get("birth_date")
            else None,
            "last_fill_date": format_date(date.fromisoformat(patient["last_fill_date"]), LANG),
        }
        for patient in notice["patients"]
    ]
    return {
        "prescriber": notice,
        "patients": patients,
        "event_type": event.event_type,
        "drug_name": event.drug.name,
        "recall_class": event.recall_class,
        "effective_date": format_date(event.effective_date, LANG),
        "summary": event.summary,
        "alternatives": list(event.alternatives),
        "prescriber_services_phone": PRESCRIBER_SERVICES_PHONE,
    }


def _addressee(notice: dict[str, Any]) -> MemberRecord:
    """The renderer's address block, filled with the practice (not validated as a member: no member here)."""
    return MemberRecord.model_construct(
        member_id=notice["npi"],
        first_name=notice["name"],
        last_name="",
        address_line1=notice.get("address_line1") or "",
        address_line2=notice.get("address_line2"),
        city=notice.get("city") or "",
        state=notice.get("state") or "",
        postal_code=notice.get("postal_code") or "",
    )


def piece_id(campaign_id: str, npi: str) -> str:
    return hashlib.sha256(f"{campaign_id}|prescriber|{npi}".encode()).hexdigest()[:20]


def generate_notice_batch(
    request: NoticeBatchRequest,
    *,
    store: ObjectStore,
    data_bucket: str,
    letters_bucket: str,
    registry: TemplateRegistry | None = None,
    render: LetterRenderer = render_letters,
    today: date | None = None,
) -> NoticeBatchResult:
    registry = registry or prescriber_registry()
    stem = f"{notices_prefix(request.campaign_id)}/batch-{request.batch_index:05d}"
    pdf_key, manifest_key = f"{stem}.pdf", f"{stem}.manifest.csv"
    if store.exists(letters_bucket, manifest_key):
        return _completed(request, store, letters_bucket, pdf_key, manifest_key)
    pinned = pin(request.template_id, registry)
    if pinned.sha256 != request.template_sha256:
        raise TemplateChanged(
            f"{pinned.path}: the campaign pinned sha256 {request.template_sha256[:16]}… but version "
            f"{pinned.version} (sha256 {pinned.sha256[:16]}…) is deployed"
        )
    notices = [
        json.loads(line)
        for line in store.get(data_bucket, request.batch_key).decode("utf-8").splitlines()
        if line
    ]
    pieces = [
        (_addressee(notice), registry.render(pinned, notice_context(notice, request.event)), LANG)
        for notice in notices
    ]
    pdf, pages = render(pieces, today=today)
    store.put(letters_bucket, pdf_key, pdf, "application/pdf")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for notice, (first, count) in zip(notices, pages, strict=True):
        writer.writerow(
            {
                "piece_id": piece_id(request.campaign_id, notice["npi"]),
                "npi": notice["npi"],
                "channel": notice["channel"],
                "fax": notice["fax"],
                "batch_file": pdf_key.rsplit("/", 1)[1],
                "first_page": first,
                "page_count": count,
                "patients": len(notice["patients"]),
                "template_id": request.template_id,
                "template_version": pinned.version,
                "template_sha256": pinned.sha256,
                "name": notice["name"],
                **{
                    c: notice.get(c) or ""
                    for c in ("address_line1", "address_line2", "city", "state", "postal_code")
                },
            }
        )
    store.put(letters_bucket, manifest_key, buffer.getvalue().encode("utf-8"), "text/csv")
    return NoticeBatchResult(
        batch_index=request.batch_index,
        notices=len(notices),
        faxes=sum(1 for n in notices if n["channel"] == "fax"),
        pages=sum(count for _, count in pages),
        pdf_key=pdf_key,
        manifest_key=manifest_key,
    )


def _completed(
    request: NoticeBatchRequest, store: ObjectStore, bucket: str, pdf_key: str, manifest_key: str
) -> NoticeBatchResult:
    rows = list(csv.DictReader(io.StringIO(store.get(bucket, manifest_key).decode("utf-8"))))
    return NoticeBatchResult(
        batch_index=request.batch_index,
        notices=len(rows),
        faxes=sum(1 for r in rows if r["channel"] == "fax"),
        pages=sum(int(r["page_count"]) for r in rows),
        pdf_key=pdf_key,
        manifest_key=manifest_key,
        skipped=True,
    )
