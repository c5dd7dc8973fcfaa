"""A campaign with a holdout, end to end on the real ASL: the held-out members get no letter, the follow-up measures
what both groups did next, and every client's figures equal a count made here from the parquet files (the data
contract), independently of the outcome SQL. The holdout is the same on a second run."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from coach_local.inputs import load_event
from coach_local.lakegen import generate_lake
from coach_local.lakegen_outcomes import Behaviour
from coach_local.outcomes_local import recompute
from coach_local.runner import run_campaign
from tests.e2e.test_coach_run import independent_audience

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
SHARE, FOLLOW_UP = 0.3, 90
MEASUREMENT = {"otc_switch": {"holdout_share": SHARE, "follow_up_days": FOLLOW_UP}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("outcomes")
    event = load_event(EVENT)
    behaviour = Behaviour.for_event(event, holdout_share=SHARE, lettered_rate=0.4, held_out_rate=0.1)
    generate_lake(base / "lake", members=3_000, clients=6, seed=11, behaviour=behaviour)
    clients = ds.dataset(base / "lake" / "clients", format="parquet").to_table().to_pylist()
    asked = sorted(
        c["client_id"] for c in clients if dict(c["elections"] or []).get("otc_switch", "ask") == "ask"
    )
    decisions = {asked[0]: {"account_team": "decline"}}
    results = [
        run_campaign(
            event,
            base / "lake",
            base / name,
            decisions=decisions,
            timeout=300,
            time_scale=1 / 86_400,
            measurement_overrides=MEASUREMENT,
        )
        for name in ("out", "again")
    ]
    return {"lake": base / "lake", "event": event, "results": results, "declined": asked[0]}


def member_ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["member_id"] for row in csv.DictReader(handle)]


def independent_outcomes(lake: Path, event: dict, cohort: dict[str, bool]) -> dict[bool, Counter]:
    """Per group (held out or not): each member's outcome, from every claim row, in plain Python."""
    detail = event["detail"]
    first = date.fromisoformat(detail["announced_on"]) + timedelta(days=1)
    last = first + timedelta(days=FOLLOW_UP - 1)
    drugs = ds.dataset(lake / "drugs", format="parquet").to_table().to_pylist()
    ingredient = detail["drug"]["ingredient"].lower()
    alternatives = {a.lower() for a in detail["alternatives"]}
    same = {
        d["ndc"] for d in drugs if d["ndc"] in detail["drug"]["ndcs"] or d["ingredient"].lower() == ingredient
    }
    other = {
        d["ndc"]
        for d in drugs
        if d["ingredient"].lower() in alternatives or d["name"].lower() in alternatives
    }
    switched, refilled = set(), set()
    claims = ds.dataset(lake / "claims", format="parquet", partitioning="hive")
    for claim in claims.to_table(columns=["member_id", "ndc", "fill_date", "claim_status"]).to_pylist():
        if (
            claim["member_id"] in cohort
            and claim["claim_status"] == "paid"
            and first <= claim["fill_date"] <= last
        ):
            if claim["ndc"] in other:
                switched.add(claim["member_id"])
            elif claim["ndc"] in same:
                refilled.add(claim["member_id"])
    counts: dict[bool, Counter] = {False: Counter(), True: Counter()}
    for member, held in cohort.items():
        outcome = "switched" if member in switched else "refilled" if member in refilled else "no_fill"
        counts[held].update({"members": 1, outcome: 1})
    return counts


def test_the_campaign_measures_its_outcomes_and_tells_the_account_teams(runs):
    result = runs["results"][0]
    assert result.status == "SUCCEEDED", result.error
    report = json.loads((result.out_dir / "report.json").read_text())
    outcomes = report["outcomes"]
    measured = {e["client_id"] for e in outcomes["clients"]}
    assert measured == {c["client_id"] for c in report["clients"] if c["outcome"] == "letters_sent"}
    assert runs["declined"] not in measured and measured
    html = (result.out_dir / "report.html").read_text()
    assert "Did it work? Lettered against held out" in html and 'aria-label="Outcome rates' in html
    assert f"Held out: {report['held_out']:,} reachable members got no letter" in html
    outbox = [p.read_text() for p in (result.out_dir / "outbox").glob("outcome_*.eml")]
    teams = [t for t in outbox if "X-Coach-Audience: account_team" in t]
    assert {t.split("X-Coach-Client: ")[1].split()[0] for t in teams} == measured
    assert not any("M00" in text for text in outbox)  # counts only: no member id in any outcome email
    assert report["held_out"] == sum(c["held_out"] for c in report["clients"]) > 0


def test_every_clients_figures_equal_an_independent_count_over_the_parquet_files(runs):
    result = runs["results"][0]
    report = json.loads((result.out_dir / "report.json").read_text())
    for entry in report["outcomes"]["clients"]:
        folder = result.out_dir / "letters" / entry["client_id"]
        cohort = {m: False for m in member_ids(folder / "manifest.csv")}
        cohort |= {m: True for m in member_ids(folder / "holdout.csv")}
        expected = independent_outcomes(runs["lake"], runs["event"], cohort)
        for group, held in (("lettered", False), ("held_out", True)):
            got = {k: entry[group][k] for k in ("members", "switched", "refilled", "no_fill")}
            assert got == {k: expected[held][k] for k in got}, (entry["client_id"], group)
            for outcome in ("switched", "refilled", "no_fill"):
                rate = entry[group]["rates"][outcome]
                assert rate == (got[outcome] / got["members"] if got["members"] else None)


def test_held_out_members_are_the_hashed_share_of_the_reachable_and_get_no_letter(runs):
    from coach.intake import campaign_id_for
    from coach.outcomes.holdout import is_held_out

    result = runs["results"][0]
    report = json.loads((result.out_dir / "report.json").read_text())
    campaign_id = campaign_id_for(runs["event"]["detail"]["event_id"])
    _, reachable = independent_audience(runs["lake"], runs["event"], 365, set())
    for row in report["clients"]:
        folder = result.out_dir / "letters" / row["client_id"]
        held = set(member_ids(folder / "holdout.csv"))
        assert held == {m for m in reachable[row["client_id"]] if is_held_out(campaign_id, m, SHARE)}
        assert row["held_out"] == len(held) and row["reachable"] == len(reachable[row["client_id"]])
        assert not held & set(member_ids(folder / "manifest.csv"))
        if row["outcome"] == "letters_sent":
            assert row["letters"] == row["reachable"] - row["held_out"]


def test_the_holdout_is_the_same_on_a_second_run_and_coach_outcomes_measures_the_same(runs):
    first, again = runs["results"]
    assert again.status == "SUCCEEDED", again.error
    for folder in sorted((first.out_dir / "letters").iterdir()):
        assert member_ids(folder / "holdout.csv") == member_ids(
            again.out_dir / "letters" / folder.name / "holdout.csv"
        )
    before = json.loads((again.out_dir / "report.json").read_text())["outcomes"]
    assert recompute(again.out_dir, runs["lake"]) == before


def test_coach_outcomes_measures_a_finished_campaign_again_from_the_command_line(runs):
    from typer.testing import CliRunner

    from coach_local.cli import app

    result = runs["results"][0]
    before = json.loads((result.out_dir / "report.json").read_text())["outcomes"]
    cli = CliRunner().invoke(
        app, ["outcomes", "--out", str(result.out_dir), "--lake", str(runs["lake"]), "--json"]
    )
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.output) == before
    assert json.loads((result.out_dir / "report.json").read_text())["outcomes"] == before
    missing = CliRunner().invoke(app, ["outcomes", "--out", str(result.out_dir / "nowhere"), "--lake", "x"])
    assert missing.exit_code != 0 and "no report here" in missing.output


def test_no_member_of_either_group_appears_in_the_workflow_state_logs_report_or_outcome_emails(runs):
    result = runs["results"][0]
    members = ds.dataset(runs["lake"] / "members", format="parquet").to_table().to_pylist()
    measured = set()
    for folder in (result.out_dir / "letters").iterdir():
        measured |= set(member_ids(folder / "holdout.csv")) | set(member_ids(folder / "manifest.csv"))
    assert measured
    texts = [
        *(path.read_text(errors="replace") for path in (result.out_dir / "logs").glob("*.json")),
        (result.out_dir / "logs" / "functions.log").read_text(errors="replace"),
        (result.out_dir / "report.json").read_text(),
        (result.out_dir / "report.html").read_text(),
        *(path.read_text(errors="replace") for path in (result.out_dir / "outbox").glob("outcome_*.eml")),
    ]
    for m in (m for m in members if m["member_id"] in measured):
        for text in texts:
            assert m["member_id"] not in text and f"{m['first_name']} {m['last_name']}" not in text
