"""Run the audience query and lay its result out in S3 (docs/architecture.md): member batches per client
(PHI, KMS-encrypted bucket) and, for the workflow, counts and keys only."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import groupby
from typing import Any

from coach import keys
from coach.addresses import contact_problems, deliverable, recipients_of
from coach.audience.engine import AudienceParams, ClientDirectoryEntry, LakeError
from coach.brief.service import attach_briefs
from coach.lake_rules import LakeCheckFailed, Problem
from coach.letters.branding import PBM_BRANDING, save_branding
from coach.letters.templates import letter_language
from coach.models import (
    AudienceSummary,
    CampaignInput,
    ClientWork,
    MemberDataError,
    MemberRecord,
    parse_member,
)
from coach.observability import logger
from coach.outcomes.assignment import HoldoutSplit
from coach.ports import ClaimsEngine, ObjectStore

MEMBER_FIELDS = tuple(MemberRecord.model_fields)


def _batches(rows: Iterable[MemberRecord], size: int) -> Iterator[list[MemberRecord]]:
    batch: list[MemberRecord] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# Why a member the audience rule found reachable gets no letter, or not the channel it asked for (report.json)
INVALID_EMAIL_UNREACHABLE = "invalid_email_unreachable"  # no usable address, and the email is no mailbox
INVALID_EMAIL_MAILED = "invalid_email_mailed"  # the email is no mailbox: the letter goes on paper
INVALID_RECORD = "invalid_record"  # a member field the letter needs cannot be read (the log names which)


def _usable(row: dict, where: str, issues: Counter[str]) -> MemberRecord | None:
    """The member as a letter can use it, or None (counted by reason): one member's data never fails the batch."""
    fields = {name: row.get(name) for name in MEMBER_FIELDS}
    try:
        record = parse_member(fields, where)
    except MemberDataError as error:
        email = str(fields.get("email") or "").strip(" ")
        bad_email = bool(email and fields.get("email_consent")) and deliverable(email) is None
        issues[INVALID_EMAIL_UNREACHABLE if bad_email else INVALID_RECORD] += 1
        logger.warning("member not reachable: unusable data", extra={"where": str(error)})
        return None
    if str(fields.get("email") or "").strip() and fields.get("email_consent") and record.email is None:
        issues[INVALID_EMAIL_MAILED] += 1
    return record


def _write_client(
    campaign: CampaignInput,
    client: ClientDirectoryEntry,
    rows: list[dict] | Iterator[dict],
    *,
    store: ObjectStore,
    bucket: str,
    batch_size: int,
    letters_bucket: str | None = None,
) -> ClientWork:
    prefix = keys.client_audience_prefix(campaign.campaign_id, client.client_id)
    counter = {"affected": 0}
    issues: Counter[str] = Counter()
    languages: set[str] = set()  # the letters' languages: the approval page shows each one's specimen

    def reachable_members() -> Iterator[MemberRecord]:
        for row in rows:
            counter["affected"] += 1
            if row["reachable"]:
                where = f"client {client.client_id} member {counter['affected']}"
                if (record := _usable(row, where, issues)) is not None:
                    languages.add(letter_language(record.language))
                    yield record

    descriptors: list[dict[str, Any]] = []
    holdout = HoldoutSplit(campaign, client.client_id)  # chosen after reachability, before any letter
    for index, batch in enumerate(_batches(holdout.lettered(reachable_members()), batch_size)):
        batch_key = f"{prefix}/batch-{index:05d}.jsonl"
        body = "\n".join(record.model_dump_json() for record in batch) + "\n"
        store.put(bucket, batch_key, body.encode("utf-8"), "application/x-ndjson")
        descriptors.append({"batch_key": batch_key, "batch_index": index, "members": len(batch)})
    contacts = {
        "account_team_emails": client.account_team_emails,
        "client_contact_emails": client.client_contact_emails,
        "escalation_email": client.escalation_email,
    }
    problems = contact_problems(client.name, contacts)
    if problems:
        logger.warning(
            "client contacts unusable: its branch asks and sends nothing",
            extra={"campaign_id": campaign.campaign_id, "client_id": client.client_id, "problems": problems},
        )
    holdout.record(store, letters_bucket)
    batches_key, contacts_key = f"{prefix}/batches.json", f"{prefix}/contacts.json"
    store.put(bucket, batches_key, json.dumps(descriptors).encode(), "application/json")
    store.put(
        bucket,
        contacts_key,
        json.dumps(
            {
                "client_id": client.client_id,
                "client_name": client.name,
                # one address per entry (coach.addresses.split_addresses): one link, one person
                **{column: recipients_of(cell) for column, cell in contacts.items()},
            }
        ).encode(),
        "application/json",
    )
    save_branding(store, bucket, campaign.campaign_id, client.client_id, client.branding or PBM_BRANDING)
    election = client.elections.get(campaign.event.event_type, "ask")
    return ClientWork(
        client_id=client.client_id,
        client_name=client.name,
        affected=counter["affected"],
        reachable=sum(int(d["members"]) for d in descriptors) + len(holdout.held_out),
        election=election,  # type: ignore[arg-type]
        batches_key=batches_key,
        batch_count=len(descriptors),
        contacts_key=contacts_key,
        contacts_error="; ".join(problems) or None,
        data_issues=dict(sorted(issues.items())),
        languages=sorted(languages),
        held_out=len(holdout.held_out),
    )


def check_lake_quality(campaign: CampaignInput, *, engine: ClaimsEngine) -> list[Problem]:
    """The first step of the audience stage: every data-quality rule (coach.lake_rules) over the lake. Any error
    fails the campaign before any email (LakeCheckFailed lists the problems: counts and columns, never values);
    the warnings are logged and returned."""
    problems = engine.lake_problems(campaign.event.announced_on)
    if any(p.is_error for p in problems):
        raise LakeCheckFailed(problems)
    for problem in problems:
        logger.warning("lake check warning", extra={"problem": problem.line()})
    return problems


def build_audience(
    campaign: CampaignInput,
    *,
    engine: ClaimsEngine,
    store: ObjectStore,
    data_bucket: str,
    batch_size: int,
    letters_bucket: str | None = None,
) -> AudienceSummary:
    """Stream the affected members client by client; only one batch is held in memory at a time."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    check_lake_quality(campaign, engine=engine)
    directory = engine.clients()
    params = AudienceParams.for_campaign(campaign)
    work: list[ClientWork] = []
    for client_id, rows in groupby(engine.audience_rows(params), key=lambda row: row["client_id"]):
        client = directory.get(client_id)
        if client is None:
            raise LakeError(
                f"clients: members/ refers to client_id {client_id!r}, which the clients table does not list"
            )
        work.append(
            _write_client(
                campaign,
                client,
                rows,
                store=store,
                bucket=data_bucket,
                batch_size=batch_size,
                letters_bucket=letters_bucket,
            )
        )
    work = attach_briefs(campaign, work, engine=engine, store=store, bucket=data_bucket)
    clients_key = keys.clients_key(campaign.campaign_id)
    store.put(
        data_bucket,
        clients_key,
        json.dumps([w.model_dump(mode="json") for w in work]).encode(),
        "application/json",
    )
    return AudienceSummary(
        clients_key=clients_key,
        client_count=len(work),
        affected=sum(w.affected for w in work),
        reachable=sum(w.reachable for w in work),
    )
