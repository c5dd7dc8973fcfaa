"""The audience of an event over a local lake, counted per client without sending anything (`coach lake check
--event`): affected, reachable, and the reachable by channel and by language. Counts only, never a member."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from coach.audience.engine import AudienceParams
from coach.intake import plan_campaign
from coach.models import MemberRecord

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine

MEMBER_FIELDS = tuple(MemberRecord.model_fields)


@dataclass
class ClientAudience:
    client_id: str
    name: str
    election: str  # the client's election for this event type: always, ask or never
    affected: int = 0
    reachable: int = 0
    channels: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["channels"], row["languages"] = (
            dict(sorted(self.channels.items())),
            dict(sorted(self.languages.items())),
        )
        return row


def audience_preview(lake: Path, raw_event: dict) -> list[ClientAudience]:
    """What `coach run` would find for the event, client by client (the lake must have passed the check)."""
    campaign = plan_campaign(raw_event).campaign
    engine = DuckDbClaimsEngine(lake)
    directory = engine.clients()
    clients: dict[str, ClientAudience] = {}
    for row in engine.audience_rows(AudienceParams.for_campaign(campaign)):
        entry = directory[row["client_id"]]  # the check refused members of unknown clients
        client = clients.setdefault(
            entry.client_id,
            ClientAudience(
                entry.client_id, entry.name, entry.elections.get(campaign.event.event_type, "ask")
            ),
        )
        client.affected += 1
        if row["reachable"]:
            member = MemberRecord.model_validate({name: row.get(name) for name in MEMBER_FIELDS})
            client.reachable += 1
            client.channels[member.channel] += 1
            client.languages[member.language] += 1
    return [clients[c] for c in sorted(clients)]
