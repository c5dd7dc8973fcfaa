"""The decision trail: a question's or a campaign's audit records, counted after a POST and copied to the
write-once archive (after each decision, and whole at the campaign's end)."""

from __future__ import annotations

from dataclasses import dataclass

from coach.approvals.records import AuditRecord, iso, link_hash
from coach.observability import logger
from coach.ports import ApprovalStore, AuditArchive


def audit_trail(campaign_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    """Every decision (and every too-late one) of a campaign, in time order."""
    return store.audit(campaign_id)


def question_trail(link_id: str, *, store: ApprovalStore) -> list[AuditRecord]:
    """The audit records of the question a link asked (its campaign, client and role), in time order."""
    return _question_trail(link_hash(link_id), store=store)


def _question_trail(
    hashed: str, *, store: ApprovalStore, question: tuple[str, str, str] | None = None
) -> list[AuditRecord]:
    if question is None:  # (campaign, client, role) not known: the link says
        link = store.get_link(hashed)
        if link is None:
            return []
        question = (link.campaign_id, link.client_id, link.role)
    return store.question_audit(*question)


@dataclass(frozen=True)
class FollowUp:
    decided: list[str]  # the decisions this POST recorded (approved, declined): the approvals-per-day metrics
    archive_failed: bool = False


def after_decision(
    link_id: str,
    *,
    store: ApprovalStore,
    archive: AuditArchive | None,
    now: float,
    answered: bool,
    question: tuple[str, str, str] | None = None,
) -> FollowUp:
    """After a POST: count the decision it recorded, and copy the question's audit records to the write-once
    archive. DynamoDB already holds them (written before the workflow heard), so a failure here loses nothing: it
    is logged (no message: it may echo input), the page still shows the decision, and the summary archives the
    whole trail again at the end of the campaign."""
    return after_link_decision(
        link_hash(link_id), store=store, archive=archive, now=now, answered=answered, question=question
    )


def after_link_decision(
    hashed: str,
    *,
    store: ApprovalStore,
    archive: AuditArchive | None,
    now: float,
    answered: bool,
    question: tuple[str, str, str] | None = None,
) -> FollowUp:
    """after_decision for the link with this hash (a digest's rows); `question` (the POST's Page.question) spares
    reading the link again."""
    if not (answered or archive):
        return FollowUp([])
    decided: list[str] = []
    try:
        trail = _question_trail(hashed, store=store, question=question)
        # a decision recorded by this POST carries its time (a second click records none)
        decided = [r.action for r in trail if r.at == iso(now) and r.action in ("approved", "declined")]
        if archive:
            archive.archive_records(trail)
    except Exception as error:
        logger.error(
            "audit follow-up failed", extra={"error": type(error).__name__, "archive": bool(archive)}
        )
        return FollowUp(decided, archive_failed=bool(archive))
    return FollowUp(decided)


def archive_campaign_trail(campaign_id: str, *, store: ApprovalStore, archive: AuditArchive) -> int:
    """The campaign's complete decision trail as one immutable snapshot; the number of records. A failure is logged
    (ids only) and raised, so the execution fails at this stage, the operator is alerted, and a redrive archives a
    fresh snapshot (never an overwrite)."""
    try:
        records = audit_trail(campaign_id, store=store)
        archive.archive_campaign(records, campaign_id)
    except Exception as error:
        logger.error(
            "audit archive failed", extra={"campaign_id": campaign_id, "error": type(error).__name__}
        )
        raise
    logger.info("decision trail archived", extra={"campaign_id": campaign_id, "records": len(records)})
    return len(records)
