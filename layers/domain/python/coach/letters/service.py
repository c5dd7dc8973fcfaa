"""One letters batch: every reachable member gets exactly one piece, on paper or (with consent) by email, and the
manifest says which. Keys are deterministic: a retry or redrive overwrites, and emails are idempotent by member."""

from __future__ import annotations

import csv
import hashlib
import html
import io
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date

from coach import keys
from coach.approvals.specimens import refuse_unapproved
from coach.letters.branding import load_branding
from coach.letters.render import address_lines, render_letters
from coach.letters.templates import (
    PinnedTemplate,
    TemplateRegistry,
    default_registry,
    letter_context,
    letter_language,
)
from coach.letters.text import parse_markup
from coach.models import LetterBatchRequest, LetterBatchResult, MemberRecord, parse_member
from coach.ports import Email, LetterRenderer, Mailer, ObjectStore

MANIFEST_COLUMNS = (
    "piece_id",
    "member_id",
    "client_id",
    "channel",
    "batch_file",
    "first_page",
    "page_count",
    "language",
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
EMAIL_SUBJECT = {
    "en": "An update about your prescription benefits",
    "es": "Información sobre sus beneficios de medicamentos recetados",
}


def batch_stem(campaign_id: str, client_id: str, batch_index: int) -> str:
    return f"{keys.letters_prefix(campaign_id, client_id)}/batch-{batch_index:05d}"


def piece_id(campaign_id: str, client_id: str, member_id: str) -> str:
    return hashlib.sha256(f"{campaign_id}|{client_id}|{member_id}".encode()).hexdigest()[:20]


def _email_html(text: str) -> str:
    parts = []
    for block in parse_markup(text):
        escaped = html.escape(block.text)
        parts.append(
            {"heading": f"<h2>{escaped}</h2>", "bullet": f"<ul><li>{escaped}</li></ul>"}.get(
                block.kind, f"<p>{escaped}</p>"
            )
        )
    return (
        '<!doctype html><html><body style="font-family: Arial, sans-serif; line-height: 1.5; max-width: 40em">'
        + "".join(parts)
        + "</body></html>"
    )


def _email_text(text: str) -> str:
    return "\n\n".join(("- " if b.kind == "bullet" else "") + b.text for b in parse_markup(text)) + "\n"


def generate_letter_batch(
    request: LetterBatchRequest,
    *,
    store: ObjectStore,
    mailer: Mailer,
    data_bucket: str,
    letters_bucket: str,
    sender: str,
    registry: TemplateRegistry | None = None,
    today: date | None = None,
    render: LetterRenderer = render_letters,
    approved: dict[str, dict[str, str]] | None = None,
) -> LetterBatchResult:
    """`approved`: role → (language → SHA-256) of the letters approvers saw (coach.approvals.specimens); a batch
    whose letter is not the approved one sends nothing."""
    registry = registry or default_registry()
    stem = batch_stem(request.campaign_id, request.client_id, request.batch_index)
    if store.exists(letters_bucket, f"{stem}.manifest.csv"):
        # The manifest is written last: this batch is complete (an earlier attempt of a retried, redriven or re-run
        # campaign). Regenerate only what is missing.
        return _completed_batch(request, store, letters_bucket, stem)
    members = [
        parse_member(line.decode("utf-8"), f"{request.batch_key} line {number}")
        for number, line in enumerate(store.get(data_bucket, request.batch_key).splitlines(), start=1)
        if line.strip()
    ]
    pdf_key, manifest_key = f"{stem}.pdf", f"{stem}.manifest.csv"
    rows: list[dict[str, object]] = []
    paper: list[tuple[MemberRecord, str, str]] = []
    pins: dict[str, PinnedTemplate] = {}
    branding = load_branding(store, data_bucket, request.campaign_id, request.client_id)
    for lang in sorted({letter_language(m.language) for m in members}):  # all refused before anything is sent
        pins[lang] = _pinned(registry, request, lang, approved or {})
    for member in members:
        lang = letter_language(member.language)
        pinned = pins[lang]
        text = registry.render(pinned, letter_context(member, request.event, lang, branding))
        row: dict[str, object] = {
            "piece_id": piece_id(request.campaign_id, request.client_id, member.member_id),
            "member_id": member.member_id,
            "client_id": request.client_id,
            "channel": member.channel,
            "batch_file": "",
            "first_page": "",
            "page_count": "",
            "language": lang,
            "template_id": request.template_id,
            "template_version": pinned.version,
            "template_sha256": pinned.sha256,
            "name": f"{member.first_name} {member.last_name}",
            "address_line1": member.address_line1 or "",
            "address_line2": member.address_line2 or "",
            "city": member.city or "",
            "state": member.state or "",
            "postal_code": member.postal_code or "",
        }
        if member.channel == "email":
            assert member.email is not None
            mailer.send(
                Email(
                    to=(member.email,),
                    sender=sender,
                    subject=EMAIL_SUBJECT[lang],
                    text=_email_text(text),
                    html=_email_html(text),
                    idempotency_key=f"letter/{request.campaign_id}/{request.client_id}/{member.member_id}",
                    tags={"kind": "letter", "campaign": request.campaign_id, "client": request.client_id},
                )
            )
        else:
            paper.append((member, text, lang))
        rows.append(row)
    if paper:
        pdf, pages = render(paper, today=today, branding=branding)
        by_member = {m.member_id: p for (m, _, _), p in zip(paper, pages, strict=True)}
        for row in rows:
            if row["member_id"] in by_member:
                first, count = by_member[str(row["member_id"])]
                row.update(batch_file=pdf_key.rsplit("/", 1)[1], first_page=first, page_count=count)
        store.put(letters_bucket, pdf_key, pdf, "application/pdf")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=MANIFEST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    store.put(letters_bucket, manifest_key, buffer.getvalue().encode("utf-8"), "text/csv")
    return LetterBatchResult(
        client_id=request.client_id,
        batch_index=request.batch_index,
        letters=len(paper),
        emails=len(rows) - len(paper),
        pdf_key=pdf_key if paper else None,
        manifest_key=manifest_key,
    )


class TemplateChanged(RuntimeError):
    """The deployed template is not the version the campaign pinned at intake: no batch renders another version
    (one campaign, one approved text per language)."""


def _pinned(
    registry: TemplateRegistry, request: LetterBatchRequest, lang: str, approved: dict[str, dict[str, str]]
) -> PinnedTemplate:
    pinned = registry.pinned(request.template_id, lang)
    refuse_unapproved(pinned.path, lang, pinned.sha256, approved)
    wanted = request.template_sha256.get(lang)
    if wanted != pinned.sha256:
        raise TemplateChanged(
            f"{pinned.path}: the campaign pinned sha256 {str(wanted)[:16]}… at intake but version "
            f"{pinned.version} (sha256 {pinned.sha256[:16]}…) is deployed; deploy the pinned version again to "
            "finish this campaign, or start a new one"
        )
    return pinned


def _completed_batch(
    request: LetterBatchRequest, store: ObjectStore, letters_bucket: str, stem: str
) -> LetterBatchResult:
    rows = list(
        csv.DictReader(io.StringIO(store.get(letters_bucket, f"{stem}.manifest.csv").decode("utf-8")))
    )
    paper = sum(1 for row in rows if row["channel"] != "email")
    return LetterBatchResult(
        client_id=request.client_id,
        batch_index=request.batch_index,
        letters=paper,
        emails=len(rows) - paper,
        pdf_key=f"{stem}.pdf" if paper else None,
        manifest_key=f"{stem}.manifest.csv",
        skipped=True,
    )


MERGE_READ_AHEAD = 8  # batch manifests read at once: S3 latency hidden, memory bounded (about 0.4 MB each)


def _read_ahead(store: ObjectStore, bucket: str, keys_in_order: list[str]) -> Iterator[bytes]:
    """The objects in order, at most MERGE_READ_AHEAD in flight or waiting (never the whole set in memory)."""
    with ThreadPoolExecutor(max_workers=MERGE_READ_AHEAD) as pool:
        pending: deque[Future[bytes]] = deque()
        for key in keys_in_order:
            pending.append(pool.submit(store.get, bucket, key))
            if len(pending) >= MERGE_READ_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def merge_client_manifest(
    store: ObjectStore, letters_bucket: str, campaign_id: str, client_id: str
) -> tuple[int, int]:
    """Concatenate the batch manifests, in batch order, into the client's manifest.csv; (paper, email) counts.

    Streams: batch manifests are read a few at a time and the client's file is written as a multipart upload, so a
    9M-member client (about 1.9 GB of manifest) needs the memory of one upload part, not of the whole file."""
    prefix = keys.letters_prefix(campaign_id, client_id) + "/"
    parts = sorted(k for k in store.list_keys(letters_bucket, prefix) if k.endswith(".manifest.csv"))
    header = ",".join(MANIFEST_COLUMNS).encode("utf-8") + b"\n"
    channel = MANIFEST_COLUMNS.index("channel")
    counts = {"mail": 0, "email": 0}

    def chunks() -> Iterator[bytes]:
        yield header
        for key, body in zip(parts, _read_ahead(store, letters_bucket, parts), strict=True):
            first, _, rows = body.partition(b"\n")
            if first + b"\n" != header:
                raise ValueError(
                    f"s3://{letters_bucket}/{key}: not a manifest of this version (columns differ)"
                )
            for row in csv.reader(io.StringIO(rows.decode("utf-8"))):
                counts["email" if row[channel] == "email" else "mail"] += 1
            yield rows

    store.put_stream(letters_bucket, f"{prefix}manifest.csv", chunks(), "text/csv")
    return counts["mail"], counts["email"]


__all__ = ["MANIFEST_COLUMNS", "address_lines", "generate_letter_batch", "merge_client_manifest"]
