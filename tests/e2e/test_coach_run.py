"""`coach run` end to end on a generated lake, checked against counts computed here, independently of the SQL."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pyarrow.dataset as ds
import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
COACH = [sys.executable, "-m", "coach_local.cli"]


def independent_audience(lake: Path, event: dict, lookback_days: int, allowed: set[str]):
    """Brute force over every row, in plain Python: affected and reachable member ids per client."""
    detail = event["detail"]
    announced = date.fromisoformat(detail["announced_on"])
    effective = date.fromisoformat(detail["effective_date"])
    first_day = announced - timedelta(days=lookback_days - 1)
    drugs = ds.dataset(lake / "drugs", format="parquet").to_table().to_pylist()
    by_ndc = {d["ndc"]: d for d in drugs}
    wanted = set(detail["drug"].get("ndcs", []))
    ingredient = (detail["drug"].get("ingredient") or "").lower()
    matching = {
        ndc for ndc, d in by_ndc.items() if ndc in wanted or (d["ingredient"] or "").lower() == ingredient
    }
    members = {
        m["member_id"]: m for m in ds.dataset(lake / "members", format="parquet").to_table().to_pylist()
    }
    hit: dict[str, set[str]] = defaultdict(set)  # member → classes of the matched drugs
    claims = ds.dataset(lake / "claims", format="parquet", partitioning="hive")
    for claim in claims.to_table(columns=["member_id", "ndc", "fill_date", "claim_status"]).to_pylist():
        if (
            claim["claim_status"] == "paid"
            and claim["ndc"] in matching
            and first_day <= claim["fill_date"] <= announced
        ):
            hit[claim["member_id"]].add(by_ndc[claim["ndc"]]["sensitive_class"] or "")
    affected, reachable = defaultdict(set), defaultdict(set)
    for member_id, classes in hit.items():
        m = members[member_id]
        affected[m["client_id"]].add(member_id)
        address = (
            all((m[f] or "").strip() for f in ("address_line1", "city", "postal_code"))
            and len((m["state"] or "").strip()) == 2
        )
        email_ok = bool((m["email"] or "").strip()) and bool(m["email_consent"])
        if (
            (m["eligibility_end"] is None or m["eligibility_end"] >= effective)
            and not m["deceased"]
            and not m["opted_out"]
            and (address or email_ok)
            and all(c in allowed or c == "" for c in classes)
        ):
            reachable[m["client_id"]].add(member_id)
    return affected, reachable


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    lake, out = base / "lake", base / "out"
    subprocess.run(
        [*COACH, "generate-lake", "--out", str(lake), "--members", "3000", "--clients", "12", "--seed", "11"],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    clients = ds.dataset(lake / "clients", format="parquet").to_table().to_pylist()
    asked = sorted(
        c["client_id"] for c in clients if dict(c["elections"] or []).get("otc_switch", "ask") == "ask"
    )
    decisions = {asked[0]: {"account_team": "decline"}, asked[1]: {"client": "decline"}}
    (base / "decisions.json").write_text(json.dumps(decisions))
    completed = subprocess.run(
        [
            *COACH,
            "run",
            "--event",
            str(EVENT),
            "--lake",
            str(lake),
            "--out",
            str(out),
            "--decisions",
            str(base / "decisions.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return {"lake": lake, "out": out, "decisions": decisions, "completed": completed, "clients": clients}


def test_run_succeeds_with_a_summary_table(run):
    assert run["completed"].returncode == 0, run["completed"].stderr[-3000:]
    assert "total" in run["completed"].stdout
    assert "report.html" in run["completed"].stdout and (run["out"] / "report.html").exists()


def test_the_terminal_shows_the_summary_and_no_warning_or_traceback(run):
    """`coach run` as a user runs it: on a machine with more than one core its functions run in a worker process,
    and neither process writes warnings (Powertools' "no metrics to publish") or tracebacks to the terminal."""
    from coach_local.cli.local import default_function_processes

    stderr = run["completed"].stderr
    assert "Warning" not in stderr and "Traceback" not in stderr, stderr[-2000:]
    report = json.loads((run["out"] / "report.json").read_text())
    assert report["local_run"]["function_processes"] == default_function_processes()


def test_report_counts_match_an_independent_count(run):
    report = json.loads((run["out"] / "report.json").read_text())
    event = json.loads(EVENT.read_text())
    affected, reachable = independent_audience(run["lake"], event, 365, set())
    assert report["status"] == "succeeded"
    got = {r["client_id"]: (r["affected"], r["reachable"]) for r in report["clients"]}
    expected = {c: (len(affected[c]), len(reachable[c])) for c in affected}
    assert got == expected
    assert report["totals"]["affected"] == sum(len(v) for v in affected.values()) > 0


def test_manifest_is_exactly_the_reachable_members_of_approved_clients(run):
    report = json.loads((run["out"] / "report.json").read_text())
    event = json.loads(EVENT.read_text())
    _, reachable = independent_audience(run["lake"], event, 365, set())
    rows = {r["client_id"]: r for r in report["clients"]}
    sent_to = {c for c, r in rows.items() if r["outcome"] == "letters_sent"}
    declined = set(run["decisions"])
    assert sent_to and not (sent_to & declined)
    assert {rows[c]["outcome"] for c in declined} == {"declined_by_account_team", "declined_by_client"}
    never = {c for c, r in rows.items() if r["election"] == "never"}
    assert all(rows[c]["letters"] == 0 and rows[c]["account_team_decision"] == "not_asked" for c in never)
    expected = {m for c in sent_to for m in reachable[c]}
    listed, channel = [], {}
    for manifest in (run["out"] / "letters").glob("*/manifest.csv"):
        with manifest.open(newline="") as handle:
            for row in csv.DictReader(handle):
                listed.append(row["member_id"])
                channel[row["member_id"]] = row["channel"]
    assert sorted(listed) == sorted(expected)  # each exactly once
    assert report["totals"]["letters"] == len(expected)
    # The channel, from the lake (docs/architecture.md, decision 5): email with consent when preferred, or when there is no usable
    # mailing address; paper otherwise. Never both, never neither.
    members = {
        m["member_id"]: m
        for m in ds.dataset(run["lake"] / "members", format="parquet").to_table().to_pylist()
    }

    def expected_channel(m: dict) -> str:
        consented = bool((m["email"] or "").strip()) and bool(m["email_consent"])
        address = all((m[f] or "").strip() for f in ("address_line1", "city", "postal_code")) and (
            len((m["state"] or "").strip()) == 2
        )
        prefers = (m["preferred_channel"] or "").strip().lower() == "email"
        return "email" if consented and (prefers or not address) else "mail"

    assert channel == {member_id: expected_channel(members[member_id]) for member_id in expected}
    assert set(channel.values()) == {"mail", "email"}
    assert report["totals"]["mailed"] == sum(v == "mail" for v in channel.values())
    assert report["totals"]["emailed"] == sum(v == "email" for v in channel.values())


def test_bad_event_stops_with_a_clear_error_and_exit_code_2(tmp_path, run):
    bad = json.loads(EVENT.read_text())
    bad["detail"]["event_type"] = "price_hike"
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    completed = subprocess.run(
        [
            *COACH,
            "run",
            "--event",
            str(tmp_path / "bad.json"),
            "--lake",
            str(run["lake"]),
            "--out",
            str(tmp_path / "out"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    assert "event_type" in completed.stderr


def test_lake_with_a_missing_column_stops_with_one_line_naming_column_and_file(tmp_path, run):
    import shutil

    import pyarrow.parquet as pq

    lake = tmp_path / "lake"
    shutil.copytree(run["lake"], lake)
    members = next((lake / "members").glob("*.parquet"))
    pq.write_table(pq.read_table(members).drop(["opted_out"]), members)
    completed = subprocess.run(
        [*COACH, "run", "--event", str(EVENT), "--lake", str(lake), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 2
    message = completed.stderr.strip()
    assert len(message.splitlines()) == 1 and "opted_out" in message and members.name in message
