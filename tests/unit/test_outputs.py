"""An output folder holds one campaign's output, and no run loses an earlier run's letters or report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach_local.outputs import MARKER, OutputClash, campaign_of, claim, publish
from coach_local.status import read_status


def finished_run(out: Path, campaign_id: str, letter: str) -> Path:
    staging = claim(out, campaign_id)
    (staging / "letters" / "C1").mkdir(parents=True)
    (staging / "letters" / "C1" / "letter.pdf").write_text(letter)
    (staging / "report.json").write_text(json.dumps({"campaign_id": campaign_id, "letter": letter}))
    return staging


def test_a_successful_run_publishes_into_out_and_marks_whose_output_it_is(tmp_path):
    out = tmp_path / "out"
    where, note = publish(out, finished_run(out, "camp-a", "first"), "camp-a", succeeded=True)
    assert (where, note) == (out, None)
    assert (out / "letters/C1/letter.pdf").read_text() == "first" and campaign_of(out) == "camp-a"
    assert json.loads((out / MARKER).read_text()) == {"campaign_id": "camp-a"}
    assert not (out / ".running").exists()


def test_a_failed_rerun_leaves_the_earlier_output_untouched(tmp_path):
    out = tmp_path / "out"
    publish(out, finished_run(out, "camp-a", "first"), "camp-a", succeeded=True)
    where, note = publish(out, finished_run(out, "camp-a", "second"), "camp-a", succeeded=False)
    assert (out / "letters/C1/letter.pdf").read_text() == "first"
    assert json.loads((out / "report.json").read_text())["letter"] == "first"
    assert where.parent == out and where.name.startswith("failed-")
    assert (where / "letters/C1/letter.pdf").read_text() == "second" and str(where) in (note or "")


def test_a_successful_rerun_of_the_same_campaign_replaces_its_output(tmp_path):
    out = tmp_path / "out"
    publish(out, finished_run(out, "camp-a", "first"), "camp-a", succeeded=True)
    publish(out, finished_run(out, "camp-a", "second"), "camp-a", succeeded=True)
    assert (out / "letters/C1/letter.pdf").read_text() == "second"


def test_a_folder_holding_another_campaigns_output_is_refused(tmp_path):
    out = tmp_path / "out"
    publish(out, finished_run(out, "camp-a", "first"), "camp-a", succeeded=True)
    with pytest.raises(OutputClash, match="holds the output of campaign camp-a"):
        claim(out, "camp-b")
    assert (out / "letters/C1/letter.pdf").read_text() == "first"


def test_a_folder_another_run_is_writing_into_is_refused(tmp_path):
    out = tmp_path / "out"
    claim(out, "camp-a")
    with pytest.raises(OutputClash, match="another run is writing"):
        claim(out, "camp-a")


def test_status_reads_the_run_in_progress(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "status.json").write_text(json.dumps({"final": True, "campaigns": ["old"]}))
    staging = claim(out, "camp-a")
    (staging / "status.json").write_text(json.dumps({"final": False, "campaigns": ["new"]}))
    assert read_status(out)["campaigns"] == ["new"]
