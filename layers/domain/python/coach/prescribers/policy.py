"""Who tells prescribers, per playbook (the `prescribers` object of playbooks/<event_type>.json).

- `notify: "always"`: every client whose campaign went ahead (approved, a standing `always` election, or a
  mandatory notice nobody was asked about) has its patients' prescribers told.
- `notify: "when_client_approves"`: only clients that said yes themselves (approved, or a standing `always`
  election): a mandatory notice or an account team's approval alone does not tell prescribers.
- `notify: "never"` (the default): nobody is told.
- `recall_classes`: for the recall playbook, the classes whose prescribers are told (others: nobody).
- `allowed_sensitive_classes`: a patient whose matching fill is of a sensitive class not listed is never on a
  notice (the default lists none).
A client that declined, did not answer, elected `never` or whose contacts were unusable never has patients on a
notice."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from coach.models import ClientOutcome, MarketEvent, SensitiveClass

PRESCRIBER_TEMPLATE_ID = "prescriber_notice"


class PrescriberPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notify: Literal["always", "when_client_approves", "never"] = "never"
    recall_classes: list[Literal["I", "II", "III"]] = Field(default_factory=list)
    allowed_sensitive_classes: list[SensitiveClass] = Field(default_factory=list)
    template_id: str = Field(default=PRESCRIBER_TEMPLATE_ID, pattern=r"^[a-z0-9_]+$")

    def applies_to(self, event: MarketEvent) -> bool:
        """Are prescribers told about this event at all?"""
        if self.notify == "never":
            return False
        return event.event_type != "recall" or event.recall_class in self.recall_classes

    def includes(self, outcome: ClientOutcome) -> bool:
        """Are this client's patients on the notices? Only when the client's member letters went ahead."""
        went_ahead = outcome.outcome in ("letters_sent", "no_reachable_members")
        if not went_ahead:
            return False
        if self.notify == "when_client_approves":
            return outcome.client_decision in ("approved", "auto")
        return self.notify == "always"


def policy_of(playbook: dict) -> PrescriberPolicy:
    """The policy of a resolved playbook (CampaignInput.playbook): absent means nobody is told."""
    return PrescriberPolicy.model_validate(playbook.get("prescribers") or {})
