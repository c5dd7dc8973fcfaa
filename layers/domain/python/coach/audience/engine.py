"""The parameters of the one audience query, the claims directory entry, and the errors a claims engine raises
(the engine itself is `coach.ports.ClaimsEngine`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from coach.models import CampaignInput

if TYPE_CHECKING:
    from coach.letters.branding import Branding


class LakeError(ValueError):
    """A lake that cannot be read as the data contract says; the message names the file (or table) and column."""


class AudienceQueryFailed(RuntimeError):
    """The engine ran the query and failed; the message carries the engine's reason (never member data)."""


@dataclass(frozen=True)
class AudienceParams:
    """Everything the query binds. Bounds are inclusive: [announced_on - lookback + 1 day, announced_on]."""

    campaign_id: str
    ndcs: tuple[str, ...]
    ingredient: str
    first_day: date
    last_day: date
    effective_date: date
    allowed_classes: tuple[str, ...] = field(default_factory=tuple)
    drug_name: str = (
        ""  # the event's name for the drug: what a listed NDC the catalog does not know is called
    )

    @staticmethod
    def for_campaign(campaign: CampaignInput) -> AudienceParams:
        event, lookback = campaign.event, int(campaign.playbook["lookback_days"])
        return AudienceParams(
            campaign_id=campaign.campaign_id,
            ndcs=tuple(event.drug.ndcs),
            ingredient=(event.drug.ingredient or "").strip().lower(),
            first_day=event.announced_on - timedelta(days=lookback - 1),
            last_day=event.announced_on,
            effective_date=event.effective_date,
            allowed_classes=tuple(campaign.playbook.get("allowed_sensitive_classes", [])),
            drug_name=event.drug.name,
        )

    def bindings(self) -> list[str]:
        """Positional values, in the order of the `?` placeholders of AUDIENCE_SQL."""
        return [
            ",".join(self.ndcs),
            self.ingredient,
            self.ingredient,
            ",".join(self.allowed_classes),
            self.drug_name,
            self.first_day.strftime("%Y-%m"),
            self.last_day.strftime("%Y-%m"),
            self.first_day.isoformat(),
            self.last_day.isoformat(),
            self.effective_date.isoformat(),
        ]


@dataclass(frozen=True)
class ClientDirectoryEntry:
    client_id: str
    name: str
    account_team_emails: tuple[str, ...]
    client_contact_emails: tuple[str, ...]
    elections: dict[str, str]
    escalation_email: str | None
    branding: Branding | None = None  # the client's own letterhead (coach.letters.branding); None: the PBM's
