"""Random small lakes with every edge of the audience rule, checked against a brute-force oracle written in plain
Python from docs/data-contract.md, independently of the SQL."""

from __future__ import annotations

import json
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from coach.adapters.memory import MemoryObjectStore
from coach.audience.service import build_audience
from coach.intake import plan_campaign
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from tests.unit.test_intake import event
from tests.workflow.tiny_lake import client, member, write_lake

ANNOUNCED, EFFECTIVE = date(2002, 11, 27), date(2003, 1, 1)
DRUGS = [  # ndc, ingredient (varied case), class
    ("11523716001", "loratadine", None),
    ("00093734801", "LoraTadine", None),
    ("00000000011", "loratadine", "hiv"),
    ("00093505601", "omeprazole", None),
    ("00000000022", "omeprazole", "behavioral_health"),
]
OFFSETS = [
    -800,
    -730,
    -729,
    -400,
    -365,
    -364,
    -200,
    -1,
    0,
    1,
    30,
]  # both edges of the 365- and 730-day windows

members_strategy = st.lists(
    st.fixed_dictionaries(
        {
            "client": st.sampled_from(["C1", "C2", "C3"]),
            "deceased": st.booleans(),
            "opted_out": st.booleans(),
            "eligibility_end": st.sampled_from(
                [None, EFFECTIVE - timedelta(days=1), EFFECTIVE, EFFECTIVE + timedelta(days=1)]
            ),
            "address": st.sampled_from(["ok", "blank", "bad_state"]),
            "email": st.sampled_from([None, "x@mail.example"]),
            "consent": st.booleans(),
            "fills": st.lists(
                st.tuples(
                    st.integers(0, len(DRUGS) - 1),
                    st.sampled_from(OFFSETS),
                    st.sampled_from(["paid", "paid", "reversed"]),
                ),
                max_size=4,
            ),
        }
    ),
    min_size=1,
    max_size=12,
)
event_strategy = st.sampled_from(
    [
        {"drug": {"name": "Claritin", "ingredient": "LORATADINE"}},
        {"drug": {"name": "Claritin", "ndcs": ["11523716001"]}},
        {"drug": {"name": "Prilosec", "ingredient": "omeprazole", "ndcs": ["11523716001"]}},
        {"event_type": "recall", "recall_class": "II", "drug": {"name": "Lora", "ingredient": "loratadine"}},
    ]
)


def oracle(people, detail, allowed, lookback_days):
    first = ANNOUNCED - timedelta(days=lookback_days - 1)
    ndcs = set(detail["drug"].get("ndcs", []))
    ingredient = (detail["drug"].get("ingredient") or "").lower()
    counts: dict[str, list[int]] = {}
    reachable_ids = set()
    for index, person in enumerate(people):
        classes = set()
        hit = False
        for drug_index, offset, status in person["fills"]:
            ndc, drug_ingredient, cls = DRUGS[drug_index]
            day = ANNOUNCED + timedelta(days=offset)
            if (
                status == "paid"
                and first <= day <= ANNOUNCED
                and (ndc in ndcs or drug_ingredient.lower() == ingredient)
            ):
                hit = True
                classes.add(cls)
        if not hit:
            continue
        row = counts.setdefault(person["client"], [0, 0])
        row[0] += 1
        address = person["address"] == "ok"
        email = person["email"] is not None and person["consent"]
        end = person["eligibility_end"]
        if (
            (end is None or end >= EFFECTIVE)
            and not person["deceased"]
            and not person["opted_out"]
            and (address or email)
            and all(c is None or c in allowed for c in classes)
        ):
            row[1] += 1
            reachable_ids.add(f"M{index}")
    return {c: tuple(v) for c, v in counts.items()}, reachable_ids


def build_lake(root: Path, people) -> Path:
    members, fills = [], []
    for index, person in enumerate(people):
        mid = f"M{index}"
        overrides = {
            "deceased": person["deceased"],
            "opted_out": person["opted_out"],
            "eligibility_end": person["eligibility_end"],
            "email": person["email"],
            "email_consent": person["consent"],
        }
        if person["address"] == "blank":
            overrides["address_line1"] = "  "
        if person["address"] == "bad_state":
            overrides["state"] = "ILL"
        members.append(member(mid, person["client"], "F", "L", **overrides))
        fills += [(mid, DRUGS[d][0], ANNOUNCED + timedelta(days=o), s) for d, o, s in person["fills"]]
    if not fills:
        fills = [("M0", "00093505601", ANNOUNCED - timedelta(days=900), "paid")]
    lake = write_lake(root, [client(c, c) for c in ("C1", "C2", "C3")], members, fills)
    pq.write_table(
        pa.Table.from_pylist(
            [{"ndc": n, "name": f"Drug {n}", "ingredient": i, "sensitive_class": c} for n, i, c in DRUGS]
        ),
        lake / "drugs" / "drugs.parquet",
    )
    return lake


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(people=members_strategy, changes=event_strategy)
def test_audience_matches_the_brute_force_oracle(people, changes):
    raw = event(**changes)
    campaign = plan_campaign(raw).campaign
    with tempfile.TemporaryDirectory() as tmp:
        lake = build_lake(Path(tmp) / "lake", people)
        store = MemoryObjectStore()
        summary = build_audience(
            campaign, engine=DuckDbClaimsEngine(lake), store=store, data_bucket="d", batch_size=3
        )
    expected, expected_ids = oracle(
        people,
        raw["detail"],
        set(campaign.playbook["allowed_sensitive_classes"]),
        campaign.playbook["lookback_days"],
    )
    clients = json.loads(store.get("d", summary.clients_key))
    assert {c["client_id"]: (c["affected"], c["reachable"]) for c in clients} == expected
    got_ids = set()
    for c in clients:
        for batch in json.loads(store.get("d", c["batches_key"])):
            got_ids |= {
                json.loads(line)["member_id"] for line in store.get("d", batch["batch_key"]).splitlines()
            }
    assert got_ids == expected_ids
