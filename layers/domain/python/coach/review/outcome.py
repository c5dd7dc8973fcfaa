"""The end of a campaign that never reaches its audience (its review dismissed it, or nobody reviewed it in time)."""

from __future__ import annotations

import json
from typing import Any

from coach import keys
from coach.approvals.trail import archive_campaign_trail
from coach.campaign import build_report
from coach.ports import ApprovalStore, AuditArchive, ObjectStore
from coach.review.models import ReviewClosing
from coach.review.service import close_review_links


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
    report["review"] = {
        **(report.get("review") or {}),
        "outcome": closing.outcome,
    }  # build_report read the trail
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
