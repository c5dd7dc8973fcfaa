"""`coach lake check` as a user meets it: every problem on stderr, exit 2 on an error, and with --event the
audience per client worked out by hand (dry run: nothing sent, no output folder written)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coach_local.cli import app
from tests.unit.test_intake import CLARITIN
from tests.unit.test_lake_check import edit_parquet
from tests.workflow.tiny_lake import CLARITIN_NDC, OTHER_NDC, client, member, write_lake

runner = CliRunner()


@pytest.fixture
def lake(tmp_path) -> Path:
    return write_lake(
        tmp_path / "lake",
        [client("C1", "One", {"otc_switch": "always"}), client("C2", "Two")],
        [
            member("M1", "C1", "Ann", "Lee"),
            member("M2", "C1", "Bo", "Kim", language="es"),
            member(
                "M3", "C2", "Cy", "Ng", email="cy@mail.example", email_consent=True, preferred_channel="email"
            ),
            member("M4", "C2", "Di", "Ox", deceased=True),
            member("M5", "C2", "Ed", "Po"),  # no Claritin fill: not affected
        ],
        [
            ("M1", CLARITIN_NDC, date(2002, 10, 5), "paid"),
            ("M2", CLARITIN_NDC, date(2002, 9, 20), "paid"),
            ("M3", CLARITIN_NDC, date(2002, 10, 6), "paid"),
            ("M4", CLARITIN_NDC, date(2002, 10, 7), "paid"),
            ("M5", OTHER_NDC, date(2002, 10, 7), "paid"),
            ("M5", CLARITIN_NDC, date(2002, 10, 8), "reversed"),
        ],
    )


@pytest.fixture
def event_file(tmp_path) -> Path:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(CLARITIN))
    return path


def test_a_correct_lake_passes_with_exit_0(lake):
    result = runner.invoke(app, ["lake", "check", "--lake", str(lake)])
    assert result.exit_code == 0, result.output
    assert "passes (0 errors, 0 warnings)" in result.output


def test_a_broken_lake_exits_2_naming_file_column_rows_and_never_the_value(lake):
    edit_parquet(
        lake / "members/members.parquet", "preferred_channel", ["mail", "post", "email", "mail", "mail"]
    )
    result = runner.invoke(app, ["lake", "check", "--lake", str(lake)])
    assert result.exit_code == 2
    assert (
        "members.parquet: column 'preferred_channel': 1 row" in result.output
        and "(first at row 2)" in result.output
    )
    assert "post" not in result.output


def test_json_lists_errors_and_warnings(lake):
    edit_parquet(
        lake / "claims/fill_month=2002-10/part-0.parquet", "member_id", ["M1", "M3", "M4", "M404", "M5"]
    )
    result = runner.invoke(app, ["lake", "check", "--lake", str(lake), "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["errors"] == []
    assert [(w["column"], w["rows"]) for w in report["warnings"]] == [("member_id", 1)]


def test_dry_run_shows_the_audience_per_client_and_sends_nothing(lake, event_file, tmp_path):
    result = runner.invoke(app, ["lake", "check", "--lake", str(lake), "--event", str(event_file), "--json"])
    assert result.exit_code == 0, result.output
    audience = {c["client_id"]: c for c in json.loads(result.stdout)["audience"]}
    assert audience["C1"] | {"name": None} == {
        "client_id": "C1",
        "name": None,
        "election": "always",
        "affected": 2,
        "reachable": 2,
        "channels": {"mail": 2},
        "languages": {"en": 1, "es": 1},
    }
    assert (audience["C2"]["affected"], audience["C2"]["reachable"]) == (2, 1)
    assert audience["C2"]["channels"] == {"email": 1} and audience["C2"]["election"] == "ask"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["event.json", "lake"]  # nothing written


def test_dry_run_refuses_a_bad_event_naming_the_field(lake, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({**CLARITIN, "detail": {**CLARITIN["detail"], "announced_on": "27/11/2002"}}))
    result = runner.invoke(app, ["lake", "check", "--lake", str(lake), "--event", str(path)])
    assert result.exit_code == 2 and "announced_on" in result.output


def test_coach_run_refuses_a_broken_lake_before_anything_starts(lake, event_file, tmp_path):
    edit_parquet(
        lake / "claims/fill_month=2002-10/part-0.parquet", "claim_status", ["paid", "PAID", "ok", "paid", "x"]
    )
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "--event", str(event_file), "--lake", str(lake), "--out", str(out)])
    assert result.exit_code == 2
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert "part-0.parquet: column 'claim_status': 2 rows" in line and "(first at row 3)" in line
    assert not out.exists()  # no outbox, no letters, no workflow


def test_coach_run_refuses_an_event_with_an_unknown_field_naming_it(lake, tmp_path):
    path = tmp_path / "event.json"
    path.write_text(json.dumps({**CLARITIN, "detail": {**CLARITIN["detail"], "alternative": ["cetirizine"]}}))
    result = runner.invoke(
        app, ["run", "--event", str(path), "--lake", str(lake), "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2 and "detail.alternative: unknown field" in result.output
    assert not (tmp_path / "out").exists()
