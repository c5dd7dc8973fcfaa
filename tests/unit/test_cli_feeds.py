"""`coach feeds poll` as a user meets it: recorded inputs, the --json shape, a second poll printing nothing."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from coach_local.cli import app
from tests.unit.feed_fixtures import FIXTURES, zipped

runner = CliRunner()


def poll(*args: str) -> dict:
    result = runner.invoke(app, ["feeds", "poll", *args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_the_claritin_switch_from_recorded_files_then_nothing_the_second_time(tmp_path):
    state = str(tmp_path / "state")
    (tmp_path / "ndctext.zip").write_bytes(zipped(FIXTURES / "ndctext"))
    assert poll("ndc-directory", "--from", str(tmp_path / "ndctext.zip"), "--state", state)["indexed"] == 8
    first = poll("drugs-at-fda", "--from", str(FIXTURES / "drugsatfda"), "--state", state)
    assert set(first) >= {"source", "candidates", "unchanged"} and first["source"] == "drugs-at-fda"
    claritin = next(c for c in first["candidates"] if c["drug"]["name"] == "Claritin")
    assert claritin["event_type"] == "otc_switch" and "11523716001" in claritin["drug"]["ndcs"]
    assert claritin["review"]["reasons"] and claritin["review"]["missing"] == []
    second = poll("drugs-at-fda", "--from", str(FIXTURES / "drugsatfda"), "--state", state)
    assert second["candidates"] == [] and second["unchanged"] == 5


def test_recalls_from_a_folder_of_pages_then_a_later_recording(tmp_path):
    state = str(tmp_path / "state")
    first = poll("fda-recalls", "--from", str(FIXTURES / "recalls" / "first"), "--state", state)
    assert len(first["candidates"]) == 4
    assert [c["review"]["missing"] for c in first["candidates"]].count(["drug.ndcs"]) == 1
    assert (
        poll("fda-recalls", "--from", str(FIXTURES / "recalls" / "first"), "--state", state)["candidates"]
        == []
    )
    later = poll(
        "fda-recalls", "--from", str(FIXTURES / "recalls" / "later" / "page-1.json"), "--state", state
    )
    assert [c["event_id"] for c in later["candidates"]] == ["fda-recall-D-0102-2027-class-I"]
    assert later["unchanged"] == 3


def test_a_recorded_no_matches_page_is_an_empty_poll(tmp_path):
    empty = poll(
        "fda-recalls", "--from", str(FIXTURES / "recalls" / "no-matches.json"), "--state", str(tmp_path)
    )
    assert empty["candidates"] == [] and empty["unchanged"] == 0


def test_the_state_defaults_to_the_coach_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    poll("orange-book", "--from", str(FIXTURES / "orangebook"))
    assert (tmp_path / ".coach" / "feed-orange-book.json").is_file()


def test_bad_input_exits_2_with_a_line_naming_it(tmp_path):
    result = runner.invoke(app, ["feeds", "poll", "pink-sheets"])
    assert result.exit_code == 2 and "SOURCE must be one of" in result.output
    result = runner.invoke(app, ["feeds", "poll", "orange-book", "--from", str(tmp_path / "nothing.zip")])
    assert result.exit_code == 2 and "no such file or folder" in result.output
    (tmp_path / "broken.zip").write_bytes(b"not a zip")
    result = runner.invoke(app, ["feeds", "poll", "orange-book", "--from", str(tmp_path / "broken.zip")])
    assert result.exit_code == 2 and "not a zip archive" in result.output and "Traceback" not in result.output
    result = runner.invoke(
        app, ["feeds", "poll", "drugs-at-fda", "--from", str(FIXTURES / "ndctext"), "--state", str(tmp_path)]
    )
    assert result.exit_code == 2 and "Submissions.txt is missing" in result.output
