"""The measurement a playbook asks for: a holdout share and a follow-up period. Recalls and mandatory notices never
hold anyone out: a member kept from a safety notice to measure it would be harmed by the measurement."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DAY = 86_400
MAX_HOLDOUT_SHARE = 0.5  # more held out than lettered measures the letter on too few people
NO_HOLDOUT_EVENT_TYPES = ("recall",)  # safety notices: every affected member must hear


class HoldoutNotAllowed(ValueError):
    """A holdout on a recall or a mandatory notice: the message says which."""


class Measurement(BaseModel):
    """A playbook's `measurement` block."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout_share: float = Field(default=0.0, ge=0.0, le=MAX_HOLDOUT_SHARE)
    follow_up_days: int = Field(default=90, ge=1, le=365)  # a Standard workflow waits up to a year


class CampaignMeasurement(BaseModel):
    """What the state machine carries: the share, the period, and the wait in seconds for this runtime."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    holdout_share: float = Field(ge=0.0, le=MAX_HOLDOUT_SHARE)
    follow_up_days: int = Field(ge=1, le=365)
    follow_up_seconds: int = Field(ge=1)


def check_holdout(event_type: str, holdout_share: float, *, mandatory: bool = False) -> None:
    if holdout_share <= 0:
        return
    if event_type in NO_HOLDOUT_EVENT_TYPES:
        raise HoldoutNotAllowed(
            f"measurement.holdout_share: a {event_type} never holds members out (every affected member must hear)"
        )
    if mandatory:
        raise HoldoutNotAllowed("measurement.holdout_share: a mandatory notice never holds members out")


def plan_measurement(
    measurement: Measurement | None, event_type: str, *, mandatory: bool, time_scale: float
) -> CampaignMeasurement | None:
    """The campaign's measurement, or None when its playbook asks for none. Refuses a holdout on a recall or a
    mandatory notice (HoldoutNotAllowed), whatever the playbook says."""
    if measurement is None:
        return None
    check_holdout(event_type, measurement.holdout_share, mandatory=mandatory)
    return CampaignMeasurement(
        holdout_share=measurement.holdout_share,
        follow_up_days=measurement.follow_up_days,
        follow_up_seconds=max(1, round(measurement.follow_up_days * DAY * time_scale)),
    )
