"""One letters batch in memory, as the letters function runs it: the members written as the audience stage writes
them, then `generate_letter_batch` (shared by the letters, channel and template-governance tests)."""

from __future__ import annotations

import json
from datetime import date

from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.intake import pin_templates
from coach.letters.service import generate_letter_batch
from coach.letters.templates import TemplateRegistry
from coach.models import LetterBatchRequest, LetterBatchResult, MarketEvent, MemberRecord

BATCH_KEY = "b/batch-00000.jsonl"


def run_letter_batch(
    members: list[MemberRecord] | list[dict],
    event: MarketEvent,
    *,
    store: MemoryObjectStore | None = None,
    mailer: MemoryMailer | None = None,
    template_id: str = "otc_switch",
    pins: dict[str, str] | None = None,
    registry: TemplateRegistry | None = None,
    sender: str = "pharmacist@pbm.example",
    today: date | None = date(2002, 12, 1),
    approved: dict[str, dict[str, str]] | None = None,
) -> tuple[MemoryObjectStore, MemoryMailer, LetterBatchResult]:
    store, mailer = store or MemoryObjectStore(), mailer or MemoryMailer()
    lines = [m.model_dump_json() if isinstance(m, MemberRecord) else json.dumps(m) for m in members]
    store.put("data", BATCH_KEY, "\n".join(lines).encode())
    request = LetterBatchRequest(
        campaign_id="camp",
        client_id="C1",
        batch_key=BATCH_KEY,
        batch_index=0,
        event=event,
        template_id=template_id,
        template_sha256=pins if pins is not None else pin_templates(template_id),
    )
    result = generate_letter_batch(
        request,
        store=store,
        mailer=mailer,
        data_bucket="data",
        letters_bucket="letters",
        sender=sender,
        registry=registry,
        today=today,
        approved=approved,
    )
    return store, mailer, result
