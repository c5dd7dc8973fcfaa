"""From a client's figures to its brief: the playbook's 12-month projection for the event type, what the brief
cannot give and why, and the recommendation its rules choose (docs/brief.md). Exact figures: account teams and
report.json see these; coach.brief.views makes the client's (small-cell suppressed) view."""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict

from coach.brief.figures import AGE_BANDS, UNKNOWN, ClientFigures
from coach.brief.format import exact_values
from coach.brief.policy import FIGURES, BriefPolicy, Option
from coach.models import MarketEvent

CENT = Decimal("0.01")
GENERIC_EVENTS = ("patent_expiry", "generic_launch")


class Choice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str
    reason: str = ""  # the chosen option's reason, its figures filled in exactly (account teams)
    reason_template: str = ""  # the playbook's text, for the client's (suppressed) figures


class Brief(BaseModel):
    """One client's brief. `values` holds every figure of coach.brief.policy.FIGURES (None: cannot give)."""

    model_config = ConfigDict(extra="forbid")

    campaign_id: str
    client_id: str
    client_name: str
    event_type: str
    drug_name: str
    announced_on: date
    effective_date: date
    lookback_days: int
    otc_price_per_30_days: float | None = None
    generic_discount: float | None = None
    figures: ClientFigures
    values: dict[str, Decimal | int | float | None]
    unavailable: list[str]
    recommendation: Choice
    alternatives: list[Choice]


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENT, rounding=ROUND_HALF_UP)


def _share(part: int, figures: ClientFigures) -> float | None:
    known = figures.affected - figures.age_bands[UNKNOWN]
    return round(part / known, 4) if known else None


def _values(figures: ClientFigures, event: MarketEvent, policy: BriefPolicy, lookback: int) -> dict:
    year = Decimal(365) / Decimal(lookback)  # the lookback's spend, scaled to 12 months
    plan_annual = None if figures.plan_paid is None else figures.plan_paid * year
    member_annual = None if figures.member_paid is None else figures.member_paid * year
    values: dict[str, Decimal | int | float | None] = dict.fromkeys(FIGURES)
    values.update(
        affected=figures.affected,
        claims=figures.claims,
        plan_paid=figures.plan_paid,
        member_paid=figures.member_paid,
        plan_paid_annual=_cents(plan_annual),
        member_paid_annual=_cents(member_annual),
        avg_days_supply=figures.avg_days_supply,
        share_65_plus=_share(figures.age_bands["65+"], figures),
        share_under_18=_share(figures.age_bands["0-17"], figures),
    )
    kind = event.event_type
    if kind == "otc_switch":
        price = (
            event.otc_price_per_30_days
            if event.otc_price_per_30_days is not None
            else policy.otc_price_per_30_days
        )
        if price is not None:
            otc = Decimal(figures.days_supply) / 30 * Decimal(str(price)) * year
            values["member_otc_cost_annual"] = _cents(otc)
        values["plan_saving_annual"] = _cents(plan_annual)
        values["projected_annual_plan_impact"] = None if plan_annual is None else _cents(-plan_annual)
    elif kind in GENERIC_EVENTS and policy.generic_discount is not None and plan_annual is not None:
        saving = plan_annual * Decimal(str(policy.generic_discount))
        values["plan_saving_annual"] = _cents(saving)
        values["projected_annual_plan_impact"] = _cents(-saving)
    elif kind == "recall":
        values.update(
            supply_on_hand=figures.supply_on_hand,
            days_on_hand=figures.days_on_hand,
            filled_recently=figures.filled_recently,
        )
        if figures.plan_paid is not None and figures.priced_days:
            per_day = (
                figures.plan_paid / figures.priced_days
            )  # replacing the recalled supply members still hold
            values["projected_annual_plan_impact"] = _cents(per_day * figures.days_on_hand)
    elif kind == "formulary_change":
        values.update(disrupted=figures.eligible, transition_fills=figures.active)
        if plan_annual is not None and policy.alternative_discount is not None and figures.plan_paid_claims:
            saving = plan_annual * Decimal(str(policy.alternative_discount))
            per_fill = Decimal(figures.plan_paid or 0) / figures.plan_paid_claims
            values["plan_saving_annual"] = _cents(saving)
            values["projected_annual_plan_impact"] = _cents(per_fill * figures.active - saving)
    return values


def _unavailable(figures: ClientFigures, event: MarketEvent, policy: BriefPolicy, values: dict) -> list[str]:
    """What the brief cannot give, and why (the lake lacks a column, or the event or playbook a price)."""
    notes = []
    for column, known in (
        ("plan_paid", figures.plan_paid_claims),
        ("member_paid", figures.member_paid_claims),
    ):
        if not known:
            notes.append(f"{column.replace('_', ' ')}: no matching claim carries {column} in the lake")
        elif known < figures.claims:
            notes.append(
                f"{column.replace('_', ' ')}: summed over the {known:,} of {figures.claims:,} claims that carry "
                f"{column} (the others have none)"
            )
    if figures.affected and figures.age_bands[UNKNOWN] == figures.affected:
        notes.append("age bands: no affected member has a usable birth_date in the lake")
    if event.event_type == "otc_switch" and values["member_otc_cost_annual"] is None:
        notes.append("members' cost over the counter: neither the event nor the playbook gives an OTC price")
    if event.event_type in GENERIC_EVENTS and policy.generic_discount is None:
        notes.append("plan saving: the playbook gives no expected generic discount")
    if event.event_type == "new_drug":
        notes.append("projection: the playbook makes none for a new drug")
    if values["projected_annual_plan_impact"] is None and event.event_type != "new_drug":
        notes.append("projected impact on the plan: needs the plan_paid column")
    return notes


# "1 members", "1 affected members", "1 claims", "1 days": a count of one reads in the singular
_ONE = re.compile(r"(?<![\d.,$])\b1 ((?:affected |disrupted )?(?:member|claim|day))s\b")


def fill_reason(template: str, show: dict[str, str]) -> str:
    """An option's reason with its figures as `show` renders them (exact or client-facing)."""
    return _ONE.sub(r"1 \1", template.format(**{name: show.get(name, "not known") for name in FIGURES}))


def choose(policy: BriefPolicy, values: dict) -> tuple[Option, list[Option]]:
    """The first option whose conditions all hold (the last has none), and the others: the client may pick one."""
    chosen = next(o for o in policy.options if all(c.holds(_number(values[c.figure])) for c in o.when))
    return chosen, [o for o in policy.options if o.id != chosen.id]


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def build_brief(
    *,
    campaign_id: str,
    client_name: str,
    figures: ClientFigures,
    event: MarketEvent,
    policy: BriefPolicy,
    lookback_days: int,
) -> Brief:
    values = _values(figures, event, policy, lookback_days)
    chosen, others = choose(policy, values)
    otc = (
        event.otc_price_per_30_days
        if event.otc_price_per_30_days is not None
        else policy.otc_price_per_30_days
    )
    return Brief(
        campaign_id=campaign_id,
        client_id=figures.client_id,
        client_name=client_name,
        event_type=event.event_type,
        drug_name=event.drug.name,
        announced_on=event.announced_on,
        effective_date=event.effective_date,
        lookback_days=lookback_days,
        otc_price_per_30_days=otc if event.event_type == "otc_switch" else None,
        generic_discount=policy.generic_discount if event.event_type in GENERIC_EVENTS else None,
        figures=figures,
        values=values,
        unavailable=_unavailable(figures, event, policy, values),
        recommendation=Choice(
            id=chosen.id,
            title=chosen.title,
            reason=fill_reason(chosen.reason, exact_values(values)),
            reason_template=chosen.reason,
        ),
        alternatives=[Choice(id=o.id, title=o.title) for o in others],
    )


__all__ = ["AGE_BANDS", "Brief", "Choice", "build_brief", "choose", "fill_reason"]
