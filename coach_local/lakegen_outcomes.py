"""What members do after an event, in the synthetic lake: something for the outcome measurement to find.

Members on the event's drug respond (a fill of a listed alternative) at one rate when they got the letter and at a
lower one when the campaign held them out (coach.outcomes.holdout decides who, from the campaign and member ids, as
the campaign will); the others refill the same drug at `refill_rate`, or fill nothing. Every such claim is dated in
the follow-up window after the event; the lake's ordinary claims stop on the announcement day, so what the window
holds is exactly what was simulated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from coach.intake import campaign_id_for
from coach.outcomes.holdout import is_held_out


@dataclass(frozen=True)
class Behaviour:
    event_id: str
    announced_on: date
    ndcs: tuple[str, ...]
    ingredient: str
    alternatives: tuple[str, ...]
    holdout_share: float
    lettered_rate: float
    held_out_rate: float
    refill_rate: float = 0.5
    follow_up_days: int = 90

    @staticmethod
    def for_event(detail: dict, **rates: float | int) -> Behaviour:
        """From a market event's detail (or envelope) and the simulated rates."""
        detail = detail.get("detail", detail)
        return Behaviour(
            event_id=detail["event_id"],
            announced_on=date.fromisoformat(detail["announced_on"]),
            ndcs=tuple(detail["drug"].get("ndcs") or ()),
            ingredient=(detail["drug"].get("ingredient") or "").strip().lower(),
            alternatives=tuple(a.strip().lower() for a in detail.get("alternatives") or ()),
            **rates,  # type: ignore[arg-type]
        )

    @property
    def first_day(self) -> date:
        return self.announced_on + timedelta(days=1)


def event_drugs(behaviour: Behaviour, drugs: list[tuple]) -> list[int]:
    return [i for i, d in enumerate(drugs) if d[0] in behaviour.ndcs or d[2] == behaviour.ingredient]


def alternative_ndcs(behaviour: Behaviour, drugs: list[tuple]) -> list[str]:
    return [d[0] for d in drugs if d[2] in behaviour.alternatives or d[1].lower() in behaviour.alternatives]


def simulate(
    out: Path,
    behaviour: Behaviour,
    *,
    member_ids: np.ndarray,
    on_drug: np.ndarray,
    drug_ndcs: np.ndarray,
    alternatives: list[str],
    seed: int,
) -> int:
    """Write the post-event claims of the members in `on_drug` (indices, with the NDC each was on); returns how many."""
    if not alternatives:
        raise ValueError("the event lists no alternative the drug catalog knows: nothing to switch to")
    rng = np.random.default_rng(seed)
    campaign_id = campaign_id_for(behaviour.event_id)
    ids = member_ids[on_drug]
    held = np.array([is_held_out(campaign_id, str(m), behaviour.holdout_share) for m in ids], dtype=bool)
    draw = rng.random(len(ids))
    switched = draw < np.where(held, behaviour.held_out_rate, behaviour.lettered_rate)
    refilled = ~switched & (rng.random(len(ids)) < behaviour.refill_rate)
    chosen = switched | refilled
    ndcs = np.where(switched, rng.choice(np.array(alternatives, dtype=object), len(ids)), drug_ndcs)[chosen]
    days = rng.integers(0, behaviour.follow_up_days, int(chosen.sum()))
    fills = np.datetime64(behaviour.first_day) + days.astype("timedelta64[D]")
    months = fills.astype("datetime64[M]")
    from coach_local.lakegen import arrow_schema

    written = 0
    for month in np.unique(months):
        here = months == month
        rows = int(here.sum())
        label = str(month)  # YYYY-MM
        columns = {
            "claim_id": pa.array([f"CX{label.replace('-', '')}-{i}" for i in range(rows)], pa.string()),
            "member_id": pa.array(ids[chosen][here], pa.string()),
            "ndc": pa.array(ndcs[here].astype("U11"), pa.string()),
            "fill_date": pa.array(fills[here], pa.date32()),
            "days_supply": pa.array(np.full(rows, 30, dtype=np.int32), pa.int32()),
            "claim_status": pa.array(["paid"] * rows, pa.string()),
            "prescriber_npi": pa.array(
                np.char.add("1", rng.integers(100_000_000, 999_999_999, rows).astype("U9")), pa.string()
            ),
            "pharmacy_npi": pa.array(
                np.char.add("1", rng.integers(100_000_000, 999_999_999, rows).astype("U9")), pa.string()
            ),
        }
        schema = arrow_schema("claims")
        # optional columns this simulation has no figure for (the brief's amounts) stay empty, as a lake may leave them
        columns |= {f.name: pa.nulls(rows, f.type) for f in schema if f.name not in columns}
        table = pa.table(columns, schema=schema)
        folder = out / "claims" / f"fill_month={label}"
        folder.mkdir(exist_ok=True)
        pq.write_table(table, folder / "part-after-event.parquet")
        written += rows
    return written
