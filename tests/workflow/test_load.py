"""Load (issue 6): the 25 market events of `make bench-load` — every playbook, recall classes I to III, drugs of
every sensitive class, by NDC, by ingredient or both — started at once in ONE local runtime all complete, and each
report.json matches an independent count (DuckDB SQL written from docs/data-contract.md, not the production query).
`make bench-load` runs the same on a larger lake and reports the time; here the lake is small enough for CI."""

from __future__ import annotations

from typing import Any

import pytest

from bench.bench_load import all_events, check, expected_report, mismatches, run_campaigns
from coach_local.lakegen import generate_lake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    path = tmp_path_factory.mktemp("load") / "lake"
    generate_lake(path, members=1_200, clients=4, months=30, seed=42)
    return path


def test_25_campaigns_at_once_all_complete_and_match_the_independent_count(lake, tmp_path):
    events = all_events()
    assert len(events) == 25 and len({e["detail"]["event_id"] for e in events}) == 25
    # A day lasts an hour: a click delayed by the load never becomes a reminder (nothing waits that long).
    _, _, runs = run_campaigns(
        lake, tmp_path / "out", events, concurrent=True, time_scale=3_600 / 86_400, timeout=900
    )
    assert [r.status for r in runs] == ["SUCCEEDED"] * 25, [(r.event_id, r.error) for r in runs if r.error]
    totals = check(lake, runs, events, "concurrent")  # exits (SystemExit 1) on any mismatch, naming it
    assert totals["affected"] > 0 and totals["mailed"] > 0 and totals["emailed"] > 0
    # The oracle is not vacuous: campaigns reach members, and some reach nobody for the reason the playbook gives.
    reached = {r.event_id: r.report["totals"]["reachable"] for r in runs if r.report}
    assert sum(1 for n in reached.values() if n > 0) >= 20
    assert all(r.report and r.report["campaign_id"] == r.campaign_id for r in runs)


def test_the_independent_count_notices_a_wrong_report(lake):
    event = all_events()[0]
    expected = expected_report(lake, event)
    client_id, row = next((c, r) for c, r in expected.items() if r["reachable"] > 0)
    report: dict[str, Any] = {
        "clients": [{"client_id": c, **r} for c, r in expected.items()],
        "totals": {
            k: sum(r[k] for r in expected.values()) for k in ("affected", "reachable", "mailed", "emailed")
        },
    }
    assert mismatches(report, expected) == []
    report["clients"][list(expected).index(client_id)]["mailed"] = row["mailed"] - 1
    assert mismatches(report, expected) == [
        f"client {client_id}: report {dict(row, mailed=row['mailed'] - 1)} != independent count {row}"
    ]
