"""What a playbook says about the brief (its `brief` section): the prices and windows of the projection, and the
recommendations as data, chosen by the first whose conditions all hold (docs/brief.md)."""

from __future__ import annotations

from string import Formatter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The figures a condition or a reason may name (coach.brief.projection computes every one of them for every brief)
FIGURES = (
    "affected",
    "claims",
    "plan_paid",
    "member_paid",
    "plan_paid_annual",
    "member_paid_annual",
    "avg_days_supply",
    "share_65_plus",
    "share_under_18",
    "projected_annual_plan_impact",
    "plan_saving_annual",
    "member_otc_cost_annual",
    "supply_on_hand",
    "days_on_hand",
    "filled_recently",
    "disrupted",
    "transition_fills",
)
MONEY_FIGURES = frozenset(
    {
        "plan_paid",
        "member_paid",
        "plan_paid_annual",
        "member_paid_annual",
        "projected_annual_plan_impact",
        "plan_saving_annual",
        "member_otc_cost_annual",
    }
)
SHARE_FIGURES = frozenset({"share_65_plus", "share_under_18"})


class Condition(BaseModel):
    """`figure` at least / below a number; a figure the brief cannot give (no plan_paid in the lake) never holds."""

    model_config = ConfigDict(extra="forbid")

    figure: Literal[FIGURES]  # type: ignore[valid-type]
    at_least: float | None = None
    below: float | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if self.at_least is None and self.below is None:
            raise ValueError(f"condition on {self.figure}: give at_least or below")
        return self

    def holds(self, value: float | None) -> bool:
        if value is None:
            return False
        return (self.at_least is None or value >= self.at_least) and (
            self.below is None or value < self.below
        )


class Option(BaseModel):
    """A recommendation: chosen when every condition holds; its reason names figures in {braces}."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str = Field(min_length=1, max_length=120)
    when: list[Condition] = Field(default_factory=list)
    reason: str = Field(min_length=1, max_length=600)

    @model_validator(mode="after")
    def _reason_names_figures(self) -> Option:
        named = {field for _, field, _, _ in Formatter().parse(self.reason) if field}
        unknown = sorted(named - set(FIGURES))
        if unknown:
            raise ValueError(f"option {self.id}: its reason names unknown figures {', '.join(unknown)}")
        return self


class BriefPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    otc_price_per_30_days: float | None = Field(
        default=None, ge=0, description="otc_switch: what 30 days cost over the counter (the event may say)"
    )
    generic_discount: float | None = Field(
        default=None, gt=0, lt=1, description="patent_expiry/generic_launch: the generic's expected discount"
    )
    alternative_discount: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="formulary_change: the preferred alternative's expected discount",
    )
    recent_days: int = Field(default=30, ge=1, le=365, description="recall: filled in these last days")
    active_days: int = Field(
        default=90, ge=1, le=365, description="formulary_change: on therapy when filled in these last days"
    )
    options: list[Option] = Field(min_length=1)

    @model_validator(mode="after")
    def _last_option_always_applies(self) -> BriefPolicy:
        if self.options[-1].when:
            raise ValueError("the last option is the default: it must have no conditions")
        ids = [o.id for o in self.options]
        if len(ids) != len(set(ids)):
            raise ValueError("option ids must be unique")
        return self
