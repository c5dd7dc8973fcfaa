"""The questions still waiting for an answer (callback waits open), from the open-waits index of the approvals table,
and closing a client's waits when its branch ends.

One question is one group (campaign, client, role). It is open while it has a pending link, no decision, its latest
deadline has not passed (Step Functions stops waiting then) and its campaign is still running. Used by the scheduled
`open_waits` function (the dashboard's gauge: how many, and how old the oldest) and by `coach status`; `close_waits`
by `client_outcome`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from coach.approvals.records import OpenLink, group_of
from coach.ports import ApprovalStore


@dataclass(frozen=True)
class OpenWait:
    campaign_id: str
    client_id: str
    client_name: str
    role: str
    kind: str  # of the latest email: ask, reminder or escalation
    since: (
        float  # the earliest email of this question still pending (superseded ones are not) (epoch seconds)
    )
    deadline: float  # when the workflow stops waiting for the latest one
    recipients: int  # links pending for it


def open_waits(
    store: ApprovalStore, now: float, running: Callable[[str], bool] = lambda campaign_id: True
) -> list[OpenWait]:
    """Open questions, ordered by campaign, client and role. `running(campaign_id)` tells whether the campaign's
    execution is still running (a failed or stopped campaign waits for nothing)."""
    by_group: dict[str, list[OpenLink]] = {}
    for link in store.open_links():
        by_group.setdefault(link.group, []).append(link)
    latest_of = {group: max(links, key=lambda link: link.created_at) for group, links in by_group.items()}
    # the decisions of the questions still within their deadline, read together
    decided = store.decisions([group for group, latest in latest_of.items() if now < latest.deadline])
    waits = []
    status: dict[str, bool] = {}
    for group, links in by_group.items():
        latest = latest_of[group]
        if now >= latest.deadline or group in decided:
            continue
        if latest.campaign_id not in status:
            status[latest.campaign_id] = running(latest.campaign_id)
        if not status[latest.campaign_id]:
            continue
        waits.append(
            OpenWait(
                campaign_id=latest.campaign_id,
                client_id=latest.client_id,
                client_name=latest.client_name,
                role=latest.role,
                kind=latest.kind,
                since=min(link.created_at for link in links),
                deadline=float(latest.deadline),
                recipients=len(links),
            )
        )
    return sorted(waits, key=lambda w: (w.campaign_id, w.client_id, w.role))


def oldest_seconds(waits: list[OpenWait], now: float) -> float:
    """How long the longest-open question has waited (0 when none is open)."""
    return max((now - w.since for w in waits), default=0.0)


def close_waits(campaign_id: str, client_id: str, *, store: ApprovalStore) -> int:
    """A client's branch has ended (its outcome is recorded): every link still pending for it is closed, so a later
    click is told the request no longer waits, instead of being thanked for a decision that cannot count. Returns
    how many links it closed."""
    closed = 0
    groups = [group_of(campaign_id, client_id, role) for role in ("account_team", "client")]
    for links in store.groups_links(groups).values():  # both roles' links read together
        for link in links:
            if link.state == "pending" and store.close_link(link.link_hash):
                closed += 1
    return closed
