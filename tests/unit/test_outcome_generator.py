"""The generator's behaviour after an event, measured by the outcome query: the measured difference matches the
simulated one within its interval, and with equal rates the interval covers zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from coach.audience.engine import AudienceParams
from coach.intake import campaign_id_for, plan_campaign
from coach.outcomes.holdout import is_held_out
from coach.outcomes.results import summarise
from coach.outcomes.sql import OutcomeParams

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.lakegen import generate_lake
from coach_local.lakegen_outcomes import Behaviour

pytestmark = pytest.mark.slow
EVENT = json.loads((Path(__file__).resolve().parents[2] / "coach_local/events/claritin_otc.json").read_text())
SHARE = 0.3


def measured(tmp_path: Path, lettered_rate: float, held_out_rate: float) -> dict:
    lake = tmp_path / "lake"
    behaviour = Behaviour.for_event(
        EVENT, holdout_share=SHARE, lettered_rate=lettered_rate, held_out_rate=held_out_rate, refill_rate=0.5
    )
    generate_lake(lake, members=12_000, clients=3, seed=21, behaviour=behaviour)
    campaign = plan_campaign(EVENT).campaign
    engine = DuckDbClaimsEngine(lake)
    campaign_id = campaign_id_for(EVENT["detail"]["event_id"])
    cohort = [
        ("all", row["member_id"], is_held_out(campaign_id, row["member_id"], SHARE))
        for row in engine.audience_rows(AudienceParams.for_campaign(campaign))
        if row["reachable"]
    ]
    rows = engine.outcome_counts(OutcomeParams.for_event(campaign.event, 90), cohort)
    return summarise({"client_id": "all", "client_name": "all"}, rows)


def test_the_measured_difference_matches_the_simulated_one_within_its_interval(tmp_path):
    entry = measured(tmp_path, lettered_rate=0.4, held_out_rate=0.1)
    assert entry["held_out"]["members"] >= 100 and entry["lettered"]["members"] >= 300
    switched = entry["difference"]["switched"]
    assert switched["ci_low"] <= 0.3 <= switched["ci_high"]
    assert switched["ci_low"] > 0  # the letter's effect is told from chance
    # the non-switchers refill at the same rate in both groups: (1 - 0.4) / 2 against (1 - 0.1) / 2
    refilled = entry["difference"]["refilled"]
    assert refilled["ci_low"] <= -0.15 <= refilled["ci_high"]


def test_with_equal_rates_the_interval_covers_zero(tmp_path):
    entry = measured(tmp_path, lettered_rate=0.2, held_out_rate=0.2)
    for outcome in ("switched", "refilled", "no_fill"):
        difference = entry["difference"][outcome]
        assert difference["ci_low"] <= 0 <= difference["ci_high"], outcome
