"""The holdout inside the audience stage: after reachability, before letters. Held-out members go into no batch
(no letter); they are recorded beside the client's letters manifest (holdout.csv) and counted on the client."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from coach.models import CampaignInput, MemberRecord
from coach.outcomes.holdout import HOLDOUT_COLUMNS, holdout_key, is_held_out
from coach.outcomes.policy import NO_HOLDOUT_EVENT_TYPES
from coach.ports import ObjectStore


def holdout_share(campaign: CampaignInput) -> float:
    """The share the playbook sets; 0 for a recall or a mandatory notice, whatever the playbook says."""
    if campaign.mandatory or campaign.event.event_type in NO_HOLDOUT_EVENT_TYPES:
        return 0.0
    measurement = campaign.playbook.get("measurement") or {}
    return float(measurement.get("holdout_share") or 0.0)


class HoldoutSplit:
    """Filters the reachable members of one client: yields those who get a letter, keeps the held-out ids."""

    def __init__(self, campaign: CampaignInput, client_id: str) -> None:
        self.campaign_id, self.client_id = campaign.campaign_id, client_id
        self.share = holdout_share(campaign)
        self.held_out: list[str] = []

    def lettered(self, members: Iterable[MemberRecord]) -> Iterator[MemberRecord]:
        for member in members:
            if is_held_out(self.campaign_id, member.member_id, self.share):
                self.held_out.append(member.member_id)
            else:
                yield member

    def record(self, store: ObjectStore, letters_bucket: str | None) -> None:
        """holdout.csv beside the manifest (written only when the campaign holds members out)."""
        if self.share <= 0:
            return
        if letters_bucket is None:
            raise ValueError("a campaign with a holdout needs the letters bucket to record it")
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(HOLDOUT_COLUMNS)
        writer.writerows((member_id, self.client_id, "holdout") for member_id in self.held_out)
        store.put(
            letters_bucket,
            holdout_key(self.campaign_id, self.client_id),
            buffer.getvalue().encode("utf-8"),
            "text/csv",
        )
