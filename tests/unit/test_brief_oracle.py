"""The brief of every client on a generated demo lake equals an independent computation written from
docs/brief.md and docs/data-contract.md: plain Python over the Parquet files (pyarrow), not the production SQL.
One event of every type; the briefs are read back from where the audience stage writes them."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.audience.service import build_audience
from coach.brief.projection import Brief
from coach.intake import plan_campaign
from coach.models import ClientWork

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.lakegen import generate_lake

ANNOUNCED, EFFECTIVE = date(2002, 11, 27), date(2003, 1, 1)
EVENTS: dict[str, dict] = {
    "otc_switch": {"drug": {"name": "Claritin", "ndcs": ["11523716001"]}, "otc_price_per_30_days": 12.5},
    "patent_expiry": {"drug": {"name": "Lipitor", "ingredient": "atorvastatin"}},
    "generic_launch": {"drug": {"name": "Zocor", "ingredient": "Simvastatin "}},
    "recall": {"drug": {"name": "Zoloft", "ingredient": "sertraline"}, "recall_class": "II"},
    "formulary_change": {"drug": {"name": "Prilosec", "ingredient": "omeprazole"}},
    "new_drug": {"drug": {"name": "Singulair", "ingredient": "montelukast"}},
}
PLAYBOOK_NUMBERS = {  # what docs/brief.md says each playbook gives (read from the JSON files, not the code)
    name: json.loads((Path("layers/domain/python/coach/playbooks") / f"{name}.json").read_text())
    for name in EVENTS
}


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "lake"
    generate_lake(root, members=2500, clients=12, months=30, as_of=date(2002, 11, 30))
    return root


def rows(lake: Path, table: str) -> list[dict]:
    files = sorted((lake / table).rglob("*.parquet"))
    return [row for path in files for row in pq.read_table(path).to_pylist()]


def age_band(born: date | None) -> str:
    if born is None or born > ANNOUNCED or born < date(1900, 1, 1):
        return "unknown"
    age = ANNOUNCED.year - born.year - ((ANNOUNCED.month, ANNOUNCED.day) < (born.month, born.day))
    return "0-17" if age < 18 else "18-44" if age < 45 else "45-64" if age < 65 else "65+"


def oracle(lake: Path, event_type: str) -> dict[str, dict]:
    """Per client, every figure of the brief, straight from the files."""
    spec, playbook = EVENTS[event_type], PLAYBOOK_NUMBERS[event_type]
    lookback, brief = playbook["lookback_days"], playbook["brief"]
    ingredient = (spec["drug"].get("ingredient") or "").strip().lower()
    listed = set(spec["drug"].get("ndcs", []))
    by_ingredient = {
        d["ndc"] for d in rows(lake, "drugs") if ingredient and d["ingredient"].strip().lower() == ingredient
    }
    first = ANNOUNCED - timedelta(days=lookback - 1)
    claims = defaultdict(list)
    for c in rows(lake, "claims"):
        if (
            (c["ndc"] in listed or c["ndc"] in by_ingredient)
            and c["claim_status"].strip().lower() == "paid"
            and first <= c["fill_date"] <= ANNOUNCED
        ):
            claims[c["member_id"]].append(c)
    members = {m["member_id"]: m for m in rows(lake, "members")}
    out: dict[str, dict] = {}
    for member_id, fills in claims.items():
        m = members.get(member_id)
        if m is None:
            continue
        f = out.setdefault(
            m["client_id"], defaultdict(lambda: Decimal(0)) | {"ages": Counter(), "states": Counter()}
        )
        f["affected"] += 1
        f["claims"] += len(fills)
        for column in ("plan_paid", "member_paid"):
            known = [c[column] for c in fills if c[column] is not None]
            f[column] += sum(known, Decimal(0))
            f[f"{column}_claims"] += len(known)
        f["days_supply"] += sum(c["days_supply"] for c in fills)
        f["priced_days"] += sum(c["days_supply"] for c in fills if c["plan_paid"] is not None)
        left = max((c["fill_date"] + timedelta(days=c["days_supply"]) - ANNOUNCED).days for c in fills)
        f["supply_on_hand"] += left > 0
        f["days_on_hand"] += max(left, 0)
        latest = max(c["fill_date"] for c in fills)
        f["filled_recently"] += (ANNOUNCED - latest).days < brief.get("recent_days", 30)
        eligible = m["eligibility_end"] is None or m["eligibility_end"] >= EFFECTIVE
        f["disrupted"] += eligible
        f["transition_fills"] += eligible and (ANNOUNCED - latest).days < brief.get("active_days", 90)
        f["ages"][age_band(m["birth_date"])] += 1
        f["states"][(m["state"] or "").strip().upper() or "unknown"] += 1
    year = Decimal(365) / Decimal(lookback)
    cent = lambda v: v.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)  # noqa: E731
    for f in out.values():
        plan_year = f["plan_paid"] * year
        if event_type == "otc_switch":
            f["plan_saving_annual"] = cent(plan_year)
            f["member_otc_cost_annual"] = cent(f["days_supply"] / 30 * Decimal("12.5") * year)
            f["impact"] = cent(-plan_year)
        elif event_type in ("patent_expiry", "generic_launch"):
            f["plan_saving_annual"] = cent(plan_year * Decimal(str(brief["generic_discount"])))
            f["impact"] = -f["plan_saving_annual"]
        elif event_type == "recall":
            f["impact"] = cent(f["plan_paid"] / f["priced_days"] * f["days_on_hand"])
        elif event_type == "formulary_change":
            saving = plan_year * Decimal(str(brief["alternative_discount"]))
            f["plan_saving_annual"] = cent(saving)
            f["impact"] = cent(f["plan_paid"] / f["plan_paid_claims"] * f["transition_fills"] - saving)
        else:
            f["impact"] = None
    return out


def briefs_of(lake: Path, event_type: str) -> dict[str, Brief]:
    detail = {
        "event_id": f"oracle-{event_type}",
        "event_type": event_type,
        "effective_date": EFFECTIVE.isoformat(),
    }
    detail |= {"announced_on": ANNOUNCED.isoformat(), "summary": "A market event.", **EVENTS[event_type]}
    raw = {"source": "coach.market-feed", "detail-type": "Drug Market Event", "detail": detail}
    campaign = plan_campaign(raw).campaign
    store = MemoryObjectStore()
    summary = build_audience(
        campaign, engine=DuckDbClaimsEngine(lake), store=store, data_bucket="data", batch_size=500
    )
    work = [ClientWork.model_validate(w) for w in json.loads(store.get("data", summary.clients_key))]
    assert all(w.brief_key for w in work)
    return {w.client_id: Brief.model_validate_json(store.get("data", str(w.brief_key))) for w in work}


@pytest.mark.parametrize("event_type", list(EVENTS))
def test_every_clients_brief_equals_the_independent_computation(lake, event_type):
    expected, briefs = oracle(lake, event_type), briefs_of(lake, event_type)
    assert set(briefs) == set(expected) and len(expected) >= 5
    for client_id, want in expected.items():
        brief = briefs[client_id]
        got = brief.figures
        assert got.affected == want["affected"] and got.claims == want["claims"], client_id
        assert (got.plan_paid, got.member_paid) == (want["plan_paid"], want["member_paid"]), client_id
        assert (got.plan_paid_claims, got.days_supply) == (want["plan_paid_claims"], want["days_supply"]), (
            client_id
        )
        assert {k: v for k, v in got.age_bands.items() if v} == dict(want["ages"]), client_id
        assert got.states == dict(sorted(want["states"].items())), client_id
        assert brief.values["projected_annual_plan_impact"] == want["impact"], client_id
        if event_type == "recall":
            assert (got.supply_on_hand, got.days_on_hand, got.filled_recently) == (
                want["supply_on_hand"],
                want["days_on_hand"],
                want["filled_recently"],
            ), client_id
        if event_type == "formulary_change":
            assert brief.values["disrupted"] == want["disrupted"], client_id
            assert brief.values["transition_fills"] == want["transition_fills"], client_id
        if "plan_saving_annual" in want:
            assert brief.values["plan_saving_annual"] == want["plan_saving_annual"], client_id
        if event_type == "otc_switch":
            assert brief.values["member_otc_cost_annual"] == want["member_otc_cost_annual"], client_id


def test_the_recommendation_is_the_first_playbook_option_whose_conditions_hold(lake):
    playbook = PLAYBOOK_NUMBERS["recall"]["brief"]["options"]
    for brief in briefs_of(lake, "recall").values():
        holds = brief.figures.supply_on_hand >= 1
        assert brief.recommendation.id == (playbook[0]["id"] if holds else playbook[-1]["id"])
        assert {a.id for a in brief.alternatives} == {o["id"] for o in playbook} - {brief.recommendation.id}
        if holds:
            assert (
                f"{brief.figures.supply_on_hand:,} members still hold supply" in brief.recommendation.reason
            )
