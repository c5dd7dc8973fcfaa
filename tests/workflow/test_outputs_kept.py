"""`coach run` into the same --out: a failed re-run never removes the earlier run's letters or report, and
another campaign is refused before anything starts (exit 2)."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach_local.cli import app
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
EVENT = ROOT / "coach_local/events/claritin_otc.json"


def test_a_failed_rerun_keeps_the_earlier_output_and_another_campaign_is_refused(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One", {"otc_switch": "always"})],
        [member("M1", "C1", "Ada", "Lovelace")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid")],
    )
    out = tmp_path / "out"
    first = run_campaign(load_event(EVENT), lake, out, timeout=180, time_scale=1 / 86_400)
    assert first.status == "SUCCEEDED", first.error
    letters = sorted(p.relative_to(out) for p in (out / "letters").rglob("*.pdf"))
    report = (out / "report.json").read_text()
    assert letters

    def broken_printer(event):
        raise OSError("simulated: the letters bucket refused the write")

    second = run_campaign(
        load_event(EVENT), lake, out, timeout=180, time_scale=1 / 86_400, faults={"letters": broken_printer}
    )
    assert second.status == "FAILED"
    assert sorted(p.relative_to(out) for p in (out / "letters").rglob("*.pdf")) == letters
    assert (out / "report.json").read_text() == report
    assert second.out_dir.parent == out and (second.out_dir / "outbox").is_dir()
    assert "untouched" in (second.error or "")

    other = copy.deepcopy(json.loads(EVENT.read_text()))
    other["detail"]["event_id"] = "another-event"
    (tmp_path / "other.json").write_text(json.dumps(other))
    result = CliRunner().invoke(
        app, ["run", "--event", str(tmp_path / "other.json"), "--lake", str(lake), "--out", str(out)]
    )
    assert result.exit_code == 2 and "holds the output of campaign" in result.output
    assert (out / "report.json").read_text() == report
