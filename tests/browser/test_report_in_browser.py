"""`coach demo`/`coach run` end by pointing at report.html; a person opens it in Chromium and sees the funnel,
the charts and the outcome of every client — and no member."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from coach_local.browser import browser
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
FILL = date(2002, 10, 15)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    base = tmp_path_factory.mktemp("report")
    members = [member(f"MBR{i:05d}", f"C{i % 3 + 1}", f"Givenname{i}", f"Familyname{i}") for i in range(9)]
    lake = write_lake(
        base / "lake",
        [
            client("C1", "One Health"),
            client("C2", "Two Health"),
            client("C3", "Three Health", {"otc_switch": "never"}),
        ],
        members,
        [(m["member_id"], CLARITIN_NDC, FILL, "paid") for m in members],
    )
    result = run_campaign(
        load_event(ROOT / "coach_local/events/claritin_otc.json"),
        lake,
        base / "out",
        decisions={"C2": {"client": "decline"}},
        timeout=240,
    )
    assert result.status == "SUCCEEDED", result.error
    return result, members


def test_report_page_shows_the_funnel_charts_and_outcomes(finished):
    result, members = finished
    report = json.loads((result.out_dir / "report.json").read_text())
    with browser() as context:
        page = context.new_page()
        page.goto((result.out_dir / "report.html").resolve().as_uri())
        funnel = page.locator("#funnel .kpi").all_inner_texts()
        assert [line.split("\n")[0] for line in funnel] == [
            "Affected members",
            "Reachable (address or email)",
            "Approved by account team",
            "Opted in by client",
            "Letters and emails sent",
        ]
        numbers = [int(line.split("\n")[-1].replace(",", "")) for line in funnel]
        assert numbers == [9, 9, 6, 3, 3] and report["totals"]["letters"] == 3
        # every chart is an inline SVG that the browser lays out (no external asset, nothing broken)
        for section in ("funnel", "clients", "approvals", "stages"):
            chart = page.locator(f"#{section} svg")
            assert chart.count() == 1, section
            box = chart.bounding_box()
            assert box and box["width"] > 300 and box["height"] > 100, section
        assert "C1" in page.locator("#clients svg").inner_html()
        outcomes = page.locator("#outcomes tbody tr").all_inner_texts()
        assert len(outcomes) == 3 and any("declined by client" in row for row in outcomes)
        assert "otc_switch" in page.locator("#templates").inner_text()
        assert "Find the audience" in page.locator("#stages").inner_text()
        body = page.content()
    for m in members:
        assert m["first_name"] not in body and m["last_name"] not in body and m["member_id"] not in body
    assert 'src="http' not in body and 'href="http' not in body


def test_report_is_rewritten_from_report_json_by_coach_report(finished, tmp_path):
    import shutil
    import subprocess
    import sys

    result, _ = finished
    shutil.copy(result.out_dir / "report.json", tmp_path / "report.json")
    completed = subprocess.run(
        [sys.executable, "-m", "coach_local.cli", "report", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["report_html"] == str((tmp_path / "report.html").resolve())
    assert (tmp_path / "report.html").read_text() == (result.out_dir / "report.html").read_text()
    missing = subprocess.run(
        [sys.executable, "-m", "coach_local.cli", "report", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert missing.returncode == 2 and "report.json" in missing.stderr
