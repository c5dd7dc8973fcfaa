"""Prescriber notices on the demo lake (seed 7, 20,000 members, 40 clients) against an independent computation:
plain Python over the lake's Parquet rows (pyarrow reads them), not the production SQL. Clients decide in a fixed pattern (approved,
declined, a standing `always` election, a mandatory notice nobody was asked about); the OTC switch tells
prescribers only about the patients of clients that approved themselves."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.intake import plan_campaign
from coach.keys import clients_key, outcome_key
from coach.models import ClientOutcome, ClientWork
from coach.prescribers.notices import NoticeBatchRequest, generate_notice_batch, pin
from coach.prescribers.plan import plan_notices, summary_key

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.lakegen import generate_lake

ROOT = Path(__file__).resolve().parents[2]
EVENT = json.loads((ROOT / "coach_local/events/claritin_otc.json").read_text())
# client index % 4 → (account team, client, outcome)
PATTERN = [
    ("approved", "approved", "letters_sent"),
    ("approved", "declined", "declined_by_client"),
    ("approved", "auto", "letters_sent"),  # a standing `always` election: the client said yes once for all
    ("not_asked", "not_asked", "letters_sent"),  # went out without the client saying yes: not for prescribers
]


def luhn_ok(npi: str) -> bool:
    """The textbook Luhn test over the 15 digits 80840 + NPI (the production code uses a check-digit form)."""
    if not re.fullmatch(r"[0-9]{10}", npi or ""):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    lake = tmp_path_factory.mktemp("demo") / "lake"
    generate_lake(lake, members=20_000, clients=40, seed=7)
    campaign = plan_campaign(EVENT).campaign
    store = MemoryObjectStore()
    works, approving = [], set()
    for index, client_id in enumerate(sorted(c["client_id"] for c in table(lake, "clients"))):
        team, decision, outcome = PATTERN[index % 4]
        work = ClientWork(
            client_id=client_id,
            client_name=client_id,
            affected=1,
            reachable=1,
            election="always" if decision == "auto" else "ask",
            batches_key="unused",
            batch_count=1,
            contacts_key="unused",
        )
        works.append(work.model_dump(mode="json"))
        store.put(
            "data",
            outcome_key(campaign.campaign_id, client_id),
            ClientOutcome.model_validate(
                {
                    "client_id": client_id,
                    "client_name": client_id,
                    "election": work.election,
                    "affected": 1,
                    "reachable": 1,
                    "account_team_decision": team,
                    "client_decision": decision,
                    "outcome": outcome,
                }
            )
            .model_dump_json()
            .encode(),
        )
        if decision in ("approved", "auto"):
            approving.add(client_id)
    store.put("data", clients_key(campaign.campaign_id), json.dumps(works).encode())
    plan = plan_notices(
        campaign,
        engine=DuckDbClaimsEngine(lake),
        store=store,
        data_bucket="data",
        batch_size=50,
        template_sha256=pin("prescriber_notice").sha256,
    )
    notices = [
        json.loads(line)
        for batch in json.loads(store.get("data", plan.batches_key))
        for line in store.get("data", batch["batch_key"]).decode().splitlines()
    ]
    return lake, campaign, store, plan, notices, approving


def table(lake: Path, name: str) -> list[dict]:
    return (
        pq.read_table(lake / name).to_pylist()
        if name != "claims"
        else ds.dataset(lake / "claims", format="parquet", partitioning="hive").to_table().to_pylist()
    )


def independent(lake: Path, campaign, approving: set[str]):
    """Per NPI, the patients a notice must list; who cannot be told, by reason; the patients (plain Python)."""
    event = campaign.event
    drugs = {d["ndc"]: d for d in table(lake, "drugs")}
    members = {m["member_id"]: m for m in table(lake, "members")}
    listed = {p["npi"]: p for p in table(lake, "prescribers")}
    last = event.announced_on
    first = last - timedelta(days=int(campaign.playbook["lookback_days"]) - 1)
    ingredient = (event.drug.ingredient or "").lower()
    matching = {n for n, d in drugs.items() if d["ingredient"].strip().lower() == ingredient} | set(
        event.drug.ndcs
    )
    latest: dict[str, dict] = {}
    for claim in table(lake, "claims"):
        if claim["claim_status"].strip().lower() != "paid" or claim["ndc"] not in matching:
            continue
        if not first <= claim["fill_date"] <= last:
            continue
        seen = latest.get(claim["member_id"])
        if seen is None or (claim["fill_date"], claim["claim_id"]) > (seen["fill_date"], seen["claim_id"]):
            latest[claim["member_id"]] = claim
    expected: dict[str, list[tuple]] = {}
    cannot: dict[str, set[str]] = {"invalid_npi": set(), "no_address": set(), "unknown_npi": set()}
    patients = []
    for member_id, claim in latest.items():
        m = members[member_id]
        ended = m["eligibility_end"] is not None and m["eligibility_end"] < event.effective_date
        if ended or m["deceased"] or m["client_id"] not in approving:
            continue
        patients.append(member_id)
        npi = (claim["prescriber_npi"] or "").strip()
        entry = (
            m["client_id"],
            member_id,
            m["first_name"],
            m["last_name"],
            drugs[claim["ndc"]]["name"],
            claim["fill_date"].isoformat(),
        )
        if not npi:
            continue
        if not luhn_ok(npi):
            cannot["invalid_npi"].add(npi)
            continue
        if npi not in listed:
            cannot["unknown_npi"].add(npi)
            continue
        p = listed[npi]
        fax = re.sub(r"\D", "", p["fax"] or "")
        mail = p["accepts_mail"] and all([p["address_line1"], p["city"], p["postal_code"]])
        mail = mail and len(p["state"] or "") == 2
        if not ((p["accepts_fax"] and len(fax) == 10) or mail):
            cannot["no_address"].add(npi)
            continue
        expected.setdefault(npi, []).append(entry)
    return {npi: sorted(rows) for npi, rows in expected.items()}, cannot, patients


def as_rows(notice: dict) -> list[tuple]:
    return sorted(
        (p["client_id"], p["member_id"], p["first_name"], p["last_name"], p["drug_name"], p["last_fill_date"])
        for p in notice["patients"]
    )


def test_each_notified_prescribers_patients_are_the_independent_computation(demo):
    lake, campaign, _, plan, notices, approving = demo
    expected, _, _ = independent(lake, campaign, approving)
    assert plan.notices == len(notices) == len(expected) > 100
    assert {n["npi"]: as_rows(n) for n in notices} == expected
    assert len({n["npi"] for n in notices}) == len(notices)  # one notice per prescriber


def test_a_prescriber_with_patients_at_two_clients_gets_only_the_approving_clients_patients(demo):
    lake, campaign, _, _, notices, approving = demo
    everyone = {c["client_id"] for c in table(lake, "clients")}
    # the same computation with every client approving: prescribers whose patients span an approving and another
    all_expected, _, _ = independent(lake, campaign, everyone)
    spanning = [
        npi for npi, rows in all_expected.items() if {r[0] in approving for r in rows} == {True, False}
    ]
    assert spanning, "the demo lake has prescribers with patients at approving and other clients"
    by_npi = {n["npi"]: n for n in notices}
    for npi in spanning:
        got = {p["client_id"] for p in by_npi[npi]["patients"]}
        assert got and got <= approving, npi
        assert as_rows(by_npi[npi]) == [r for r in all_expected[npi] if r[0] in approving]


def test_invalid_npis_and_prescribers_without_an_address_are_counted_not_dropped(demo):
    lake, campaign, store, _, _, approving = demo
    _, cannot, patients = independent(lake, campaign, approving)
    summary = json.loads(store.get("data", summary_key(campaign.campaign_id)))
    for reason in ("invalid_npi", "no_address", "unknown_npi"):
        assert summary["not_notified"][reason]["prescribers"] == len(cannot[reason]) > 0, reason
    accounted = summary["patients_listed"] + sum(v["patients"] for v in summary["not_notified"].values())
    assert accounted == len(patients)  # every patient of an approving client: on a notice, or counted why not


def test_pdftotext_shows_the_prescriber_and_their_patients_and_no_one_elses(demo, tmp_path):
    _, campaign, store, plan, notices, _ = demo
    request = NoticeBatchRequest(
        campaign_id=campaign.campaign_id,
        batch_key=json.loads(store.get("data", plan.batches_key))[0]["batch_key"],
        batch_index=0,
        event=campaign.event,
        template_id=plan.template_id,
        template_sha256=plan.template_sha256,
    )
    result = generate_notice_batch(
        request, store=store, data_bucket="data", letters_bucket="letters", today=date(2002, 12, 2)
    )
    pdf = tmp_path / "notices.pdf"
    pdf.write_bytes(store.get("letters", result.pdf_key))
    manifest = store.get("letters", result.manifest_key).decode().splitlines()
    assert manifest[0].startswith("piece_id,npi,channel,fax,")
    batch = notices[:50]
    for row, notice in zip(manifest[1:], batch, strict=True):
        fields = row.split(",")
        first, count = int(fields[5]), int(fields[6])
        text = subprocess.run(
            ["pdftotext", "-f", str(first), "-l", str(first + count - 1), "-layout", str(pdf), "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        text = re.sub(r"\s+", " ", text)
        assert notice["name"] in text
        mine = {f"{p['last_name']}, {p['first_name']}" for p in notice["patients"]}
        for name in mine:
            assert name in text, (notice["npi"], name)
        others = {
            f"{p['last_name']}, {p['first_name']}" for n in batch if n is not notice for p in n["patients"]
        } - mine
        assert not [name for name in others if name in text], notice["npi"]
