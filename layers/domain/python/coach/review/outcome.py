"""How a reviewed campaign's review ended, for its report: who confirmed, corrected or dismissed it, and what changed;
and the end of a campaign that never reaches its audience (dismissed, or nobody reviewed it in time)."""

from __future__ import annotations

import json
from typing import Any

from coach import keys
from coach.approvals.trail import archive_campaign_trail
from coach.campaign import build_report
from coach.ports import ApprovalStore, AuditArchive, ObjectStore
from coach.review.models import ReviewClosing
from coach.review.service import close_review_links, review_trail

DECIDED = ("confirmed", "corrected", "dismissed")


def review_summary(campaign_id: str, *, store: ApprovalStore) -> dict[str, Any] | None:
    """The review's decision as the report shows it; None for a campaign that had no review."""
    trail = review_trail(campaign_id, store=store)
    if not trail:
        return None
    decided = [r for r in trail if r.action in DECIDED]
    if not decided:
        return {"outcome": "no_review", "by": None, "at": None, "notes": ""}
    first = decided[0]
    return {"outcome": first.action, "by": first.who, "at": first.at, "notes": first.comment}


def close_review(
    closing: ReviewClosing,
    *,
    approvals: ApprovalStore,
    objects: ObjectStore,
    data_bucket: str,
    archive: AuditArchive | None,
    time_scale: float,
) -> dict[str, Any]:
    """The campaign ends at its review: pending links closed, a report that says why nothing was sent (status
    `dismissed` or `no_review`, no client), and the review's audit trail archived."""
    close_review_links(closing.campaign_id, store=approvals)
    report = build_report(
        closing.campaign_id,
        closing.event,
        store=objects,
        data_bucket=data_bucket,
        approvals=approvals,
        time_scale=time_scale,
    )
    report["status"] = closing.outcome
    report["review"] = review_summary(closing.campaign_id, store=approvals) or {"outcome": closing.outcome}
    report["review"]["outcome"] = closing.outcome
    objects.put(
        data_bucket,
        keys.report_key(closing.campaign_id),
        json.dumps(report, indent=2).encode(),
        "application/json",
    )
    if archive is not None:
        archive_campaign_trail(closing.campaign_id, store=approvals, archive=archive)
    return {
        "status": closing.outcome,
        "report_key": keys.report_key(closing.campaign_id),
        "totals": report["totals"],
    }
