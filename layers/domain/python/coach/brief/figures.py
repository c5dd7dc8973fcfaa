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


def figures_by_client(rows: Iterable[dict]) -> dict[str, ClientFigures]:
    """One ClientFigures per client from BRIEF_SQL's grouping-set rows (totals: every dimension null)."""
    totals: dict[str, dict] = {}
    breakdowns: dict[str, dict[str, dict[str, int]]] = {}
    for row in rows:
        client_id = str(row["client_id"])
        split = breakdowns.setdefault(client_id, {name: {} for name in DIMENSIONS.values()})
        dimension = next((d for d in DIMENSIONS if row.get(d) is not None), None)
        if dimension is None:
            totals[client_id] = row
        else:
            split[DIMENSIONS[dimension]][str(row[dimension])] = _int(row["members"])
    figures = {}
    for client_id, row in totals.items():
        split = breakdowns[client_id]
        plan_claims, member_claims = _int(row["plan_paid_claims"]), _int(row["member_paid_claims"])
        figures[client_id] = ClientFigures(
            client_id=client_id,
            affected=_int(row["members"]),
            claims=_int(row["claims"]),
            plan_paid=_amount(row["plan_paid"]) if plan_claims else None,
            plan_paid_claims=plan_claims,
            member_paid=_amount(row["member_paid"]) if member_claims else None,
            member_paid_claims=member_claims,
            days_supply=_int(row["days_supply"]),
            priced_days=_int(row["priced_days"]),
            quantity=_amount(row["quantity"]) if _int(row["quantity_claims"]) else None,
            supply_on_hand=_int(row["supply_on_hand"]),
            days_on_hand=_int(row["days_on_hand"]),
            filled_recently=_int(row["filled_recently"]),
            eligible=_int(row["eligible"]),
            active=_int(row["active"]),
            age_bands={band: split["age_bands"].get(band, 0) for band in (*AGE_BANDS, UNKNOWN)},
            states=dict(sorted(split["states"].items())),
            languages=dict(sorted(split["languages"].items())),
            channels=dict(sorted(split["channels"].items())),
        )
    return figures
