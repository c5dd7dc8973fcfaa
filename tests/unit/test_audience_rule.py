"""The audience rule of docs/data-contract.md, edge by edge, on hand-built lakes (DuckDB engine, real SQL)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.audience.engine import LakeError
from coach.audience.privacy import client_facing_count
from coach.audience.service import build_audience
from coach.intake import plan_campaign

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from tests.unit.test_intake import CLARITIN, event
from tests.workflow.tiny_lake import CLARITIN_NDC, OTHER_NDC, client, member, write_lake

ANNOUNCED = date(2002, 11, 27)
FIRST_DAY = ANNOUNCED - timedelta(days=364)  # 365-day lookback, inclusive


def audience(tmp_path, members, fills, raw_event=CLARITIN, batch_size=100, drugs_extra=None):
    lake = write_lake(tmp_path / "lake", [client("C1", "One"), client("C2", "Two")], members, fills)
    if drugs_extra:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pq.read_table(lake / "drugs" / "drugs.parquet").to_pylist() + drugs_extra
        pq.write_table(pa.Table.from_pylist(table), lake / "drugs" / "drugs.parquet")
    store = MemoryObjectStore()
    campaign = plan_campaign(raw_event).campaign
    summary = build_audience(
        campaign, engine=DuckDbClaimsEngine(lake), store=store, data_bucket="d", batch_size=batch_size
    )
    clients = {c["client_id"]: c for c in json.loads(store.get("d", summary.clients_key))}
    reachable = set()
    for c in clients.values():
        for batch in json.loads(store.get("d", c["batches_key"])):
            reachable |= {
                json.loads(line)["member_id"] for line in store.get("d", batch["batch_key"]).splitlines()
            }
    return summary, clients, reachable, store


def test_reversed_claims_never_count(tmp_path):
    summary, _, _, _ = audience(
        tmp_path, [member("M1", "C1", "A", "B")], [("M1", CLARITIN_NDC, ANNOUNCED, "reversed")]
    )
    assert summary.affected == 0 and summary.client_count == 0


def test_fill_on_lookback_boundaries_counts(tmp_path):
    members = [member("M1", "C1", "A", "B"), member("M2", "C1", "C", "D")]
    fills = [("M1", CLARITIN_NDC, FIRST_DAY, "paid"), ("M2", CLARITIN_NDC, ANNOUNCED, "paid")]
    assert audience(tmp_path, members, fills)[0].affected == 2


def test_fill_outside_the_window_does_not_count(tmp_path):
    members = [member("M1", "C1", "A", "B"), member("M2", "C1", "C", "D")]
    fills = [
        ("M1", CLARITIN_NDC, FIRST_DAY - timedelta(days=1), "paid"),
        ("M2", CLARITIN_NDC, ANNOUNCED + timedelta(days=1), "paid"),
    ]
    assert audience(tmp_path, members, fills)[0].affected == 0


def test_ingredient_match_is_case_insensitive(tmp_path):
    raw = event(drug={"name": "Claritin", "ingredient": "LORATADINE"})
    summary, _, _, _ = audience(
        tmp_path, [member("M1", "C1", "A", "B")], [("M1", CLARITIN_NDC, ANNOUNCED, "paid")], raw
    )
    assert summary.affected == 1


def test_ndc_list_matches_without_ingredient(tmp_path):
    raw = event(drug={"name": "Zocor", "ndcs": [OTHER_NDC]})
    summary, _, _, _ = audience(
        tmp_path, [member("M1", "C1", "A", "B")], [("M1", OTHER_NDC, ANNOUNCED, "paid")], raw
    )
    assert summary.affected == 1


def test_a_listed_ndc_matches_even_when_the_drug_catalog_does_not_know_it(tmp_path):
    """docs/data-contract.md: a claim matches when its NDC is listed (a new NDC can reach the claims before the catalog)."""
    new_ndc = "99999000001"
    raw = event(drug={"name": "Claritin Hives", "ndcs": [new_ndc]})
    members = [member("M1", "C1", "A", "B"), member("M2", "C1", "C", "D")]
    fills = [("M1", new_ndc, ANNOUNCED, "paid"), ("M2", CLARITIN_NDC, ANNOUNCED, "paid")]
    summary, clients, reachable, store = audience(tmp_path, members, fills, raw)
    assert summary.affected == 1 and reachable == {"M1"}
    [batch] = json.loads(store.get("d", clients["C1"]["batches_key"]))
    [row] = [json.loads(line) for line in store.get("d", batch["batch_key"]).splitlines()]
    assert row["drug_name"] == "Claritin Hives"  # the event's name for it: the letter names the drug


def test_member_counts_once_across_fills(tmp_path):
    fills = [("M1", CLARITIN_NDC, ANNOUNCED - timedelta(days=d), "paid") for d in (0, 30, 60, 90)]
    assert audience(tmp_path, [member("M1", "C1", "A", "B")], fills)[0].affected == 1


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        ({"deceased": True}, "deceased"),
        ({"opted_out": True}, "opted out"),
        ({"eligibility_end": date(2002, 12, 31)}, "not eligible on the effective date"),
        ({"address_line1": "", "email": None}, "no address, no email"),
        ({"state": "Illinois"}, "state is not 2 letters"),
        ({"address_line1": " ", "email": "a@mail.example", "email_consent": False}, "email without consent"),
    ],
)
def test_unreachable_members_are_affected_but_get_nothing(tmp_path, overrides, why):
    summary, clients, reachable, _ = audience(
        tmp_path, [member("M1", "C1", "A", "B", **overrides)], [("M1", CLARITIN_NDC, ANNOUNCED, "paid")]
    )
    assert (summary.affected, summary.reachable, reachable) == (1, 0, set()), why
    assert clients["C1"]["batch_count"] == 0


def test_eligible_through_the_effective_date_is_reachable(tmp_path):
    summary, _, _, _ = audience(
        tmp_path,
        [member("M1", "C1", "A", "B", eligibility_end=date(2003, 1, 1))],
        [("M1", CLARITIN_NDC, ANNOUNCED, "paid")],
    )
    assert summary.reachable == 1


def test_email_only_member_reachable_with_consent(tmp_path):
    m = member("M1", "C1", "A", "B", address_line1="", email="a@mail.example", email_consent=True)
    assert audience(tmp_path, [m], [("M1", CLARITIN_NDC, ANNOUNCED, "paid")])[0].reachable == 1


def test_sensitive_class_excluded_unless_playbook_allows(tmp_path):
    hiv = {"ndc": "61958070101", "name": "Truvada", "ingredient": "loratadine", "sensitive_class": "hiv"}
    fills = [("M1", "61958070101", ANNOUNCED, "paid")]
    summary, _, _, _ = audience(tmp_path, [member("M1", "C1", "A", "B")], fills, drugs_extra=[hiv])
    assert (summary.affected, summary.reachable) == (1, 0)
    recall = event(event_type="recall", recall_class="II", drug={"name": "X", "ingredient": "loratadine"})
    summary, _, _, _ = audience(
        tmp_path / "r", [member("M1", "C1", "A", "B")], fills, recall, drugs_extra=[hiv]
    )
    assert (summary.affected, summary.reachable) == (1, 1)  # the recall playbook allows every class


def test_counts_are_per_current_client_and_batches_split(tmp_path):
    members = [member(f"M{i}", "C1" if i < 5 else "C2", "A", "B") for i in range(7)]
    fills = [(m["member_id"], CLARITIN_NDC, ANNOUNCED, "paid") for m in members]
    summary, clients, reachable, store = audience(tmp_path, members, fills, batch_size=2)
    assert {c: (v["affected"], v["batch_count"]) for c, v in clients.items()} == {"C1": (5, 3), "C2": (2, 1)}
    assert len(reachable) == 7


def test_workflow_state_gets_counts_and_keys_only(tmp_path):
    summary, clients, _, _ = audience(
        tmp_path, [member("M1", "C1", "Zebulon", "Quartermaine")], [("M1", CLARITIN_NDC, ANNOUNCED, "paid")]
    )
    text = summary.model_dump_json() + json.dumps(clients)
    assert "Zebulon" not in text and "Quartermaine" not in text and "M1" not in text


def test_member_of_an_unlisted_client_is_a_clear_error(tmp_path):
    with pytest.raises(LakeError, match="column .client_id.: 1 row: a client that clients/ does not list"):
        audience(tmp_path, [member("M1", "C9", "A", "B")], [("M1", CLARITIN_NDC, ANNOUNCED, "paid")])


def test_client_facing_counts_suppress_small_cells():
    assert [client_facing_count(n) for n in (0, 1, 10, 11, 12345)] == [
        "0",
        "fewer than 11",
        "fewer than 11",
        "11",
        "12,345",
    ]


def test_the_lake_is_opened_once_for_a_campaigns_audience_and_brief_and_again_once_a_file_changes(
    tmp_path, monkeypatch
):
    """Opening a lake checks every file and every value rule: the audience and the brief share it, and a lake
    refreshed in between (a file rewritten) is checked again before it is read."""
    import os
    from pathlib import Path

    from coach.brief.policy import BriefPolicy
    from coach.brief.service import brief_params, policy_of

    import coach_local.claims.duckdb_engine as engine_module

    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "Ada", "Lovelace")],
        [("M1", CLARITIN_NDC, ANNOUNCED - timedelta(days=30), "paid")],
    )
    opened: list[Path] = []
    real_open = engine_module.open_lake

    def counting_open(lake_dir: str | Path):
        opened.append(Path(lake_dir))
        return real_open(lake_dir)

    monkeypatch.setattr(engine_module, "open_lake", counting_open)
    engine, campaign = DuckDbClaimsEngine(lake), plan_campaign(CLARITIN).campaign
    policy = policy_of(campaign)
    assert isinstance(policy, BriefPolicy)
    build_audience(campaign, engine=engine, store=MemoryObjectStore(), data_bucket="d", batch_size=10)
    assert engine.brief_rows(brief_params(campaign, policy))  # the same lake: not opened again
    assert len(opened) == 1
    members = lake / "members" / "members.parquet"
    os.utime(members, ns=(members.stat().st_atime_ns, members.stat().st_mtime_ns + 1_000_000_000))
    assert engine.brief_rows(brief_params(campaign, policy))
    assert len(opened) == 2
