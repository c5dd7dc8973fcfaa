"""The brief query's rows read back into figures per client (exact: what account teams and report.json see)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

AGE_BANDS = ("0-17", "18-44", "45-64", "65+")
UNKNOWN = "unknown"
DIMENSIONS = {"age_band": "age_bands", "state": "states", "language": "languages", "channel": "channels"}


class ClientFigures(BaseModel):
    """Counts and sums over one client's affected members and their matching paid claims in the lookback.
    An amount is None when no matching claim carries it: the brief cannot give it (never a guess)."""

    model_config = ConfigDict(extra="forbid")

    client_id: str
    affected: int = Field(ge=0)
    claims: int = Field(ge=0)
    plan_paid: Decimal | None
    plan_paid_claims: int = Field(ge=0)  # of `claims`, how many carry plan_paid
    member_paid: Decimal | None
    member_paid_claims: int = Field(ge=0)
    days_supply: int = Field(ge=0)
    priced_days: int = Field(ge=0)  # days' supply of the claims carrying plan_paid
    quantity: Decimal | None
    supply_on_hand: int = Field(ge=0)  # members whose last fill lasts past announced_on
    days_on_hand: int = Field(ge=0)
    filled_recently: int = Field(ge=0)
    eligible: int = Field(ge=0)  # eligible on the effective date
    active: int = Field(ge=0)  # eligible, and filled within the playbook's active window
    age_bands: dict[str, int]  # AGE_BANDS and "unknown" (no usable birth_date)
    states: dict[str, int]
    languages: dict[str, int]
    channels: dict[str, int]

    @property
    def avg_days_supply(self) -> Decimal | None:
        return (Decimal(self.days_supply) / self.claims).quantize(Decimal("0.1")) if self.claims else None


def _amount(value: object) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _int(value: object) -> int:
    return 0 if value is None else int(str(value).split(".")[0])


SUMMED = (
    "members",
    "claims",
    "plan_paid_claims",
    "member_paid_claims",
    "days_supply",
    "priced_days",
    "quantity_claims",
    "supply_on_hand",
    "days_on_hand",
    "filled_recently",
    "eligible",
    "active",
)
AMOUNTS = ("plan_paid", "member_paid", "quantity")


def figures_by_client(rows: Iterable[dict]) -> dict[str, ClientFigures]:
    """One ClientFigures per client from BRIEF_SQL's rows (one per client and dimension values): every figure is
    the sum of the client's rows, and each breakdown the sum of its members by that dimension's value."""
    totals: dict[str, dict] = {}
    breakdowns: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        client_id = str(row["client_id"])
        total = totals.setdefault(
            client_id, {**dict.fromkeys(SUMMED, 0), **dict.fromkeys(AMOUNTS, Decimal(0))}
        )
        for name in SUMMED:
            total[name] += _int(row[name])
        for name in AMOUNTS:
            total[name] += _amount(row[name]) or Decimal(0)
        split = breakdowns.setdefault(client_id, {name: {} for name in DIMENSIONS.values()})
        for dimension, field in DIMENSIONS.items():
            value = str(row[dimension])
            split[field][value] = split[field].get(value, 0) + _int(row["members"])
    figures = {}
    for client_id, row in totals.items():
        split = breakdowns[client_id]
        figures[client_id] = ClientFigures(
            client_id=client_id,
            affected=row["members"],
            claims=row["claims"],
            plan_paid=row["plan_paid"] if row["plan_paid_claims"] else None,
            plan_paid_claims=row["plan_paid_claims"],
            member_paid=row["member_paid"] if row["member_paid_claims"] else None,
            member_paid_claims=row["member_paid_claims"],
            days_supply=row["days_supply"],
            priced_days=row["priced_days"],
            quantity=row["quantity"] if row["quantity_claims"] else None,
            supply_on_hand=row["supply_on_hand"],
            days_on_hand=row["days_on_hand"],
            filled_recently=row["filled_recently"],
            eligible=row["eligible"],
            active=row["active"],
            age_bands={band: split["age_bands"].get(band, 0) for band in (*AGE_BANDS, UNKNOWN)},
            states=dict(sorted(split["states"].items())),
            languages=dict(sorted(split["languages"].items())),
            channels=dict(sorted(split["channels"].items())),
        )
    return figures
