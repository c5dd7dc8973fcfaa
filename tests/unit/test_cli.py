"""The CLI as a user meets it: help for every command, exit codes, events sent to a deployed bus."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
from moto import mock_aws
from typer.testing import CliRunner

from coach_local.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def test_every_command_has_help():
    for command in (["--help"], ["demo", "--help"], ["run", "--help"], ["audit", "--help"],
                    ["templates", "check", "--help"], ["event", "put", "--help"], ["generate-lake", "--help"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_event_put_validates_then_sends_to_the_bus(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        result = runner.invoke(app, ["event", "put", "--file", str(ROOT / "coach_local/events/claritin_otc.json"),
                                     "--json"])
        assert boto3.client("events").list_event_buses()["EventBuses"]
    assert result.exit_code == 0, result.output
    sent = json.loads(result.output)
    assert sent["sent"] is True and sent["campaign_id"].startswith("fdc-2002-11-27-loratadine-otc-")


def test_event_put_refuses_a_bad_event_with_exit_code_2(tmp_path):
    bad = json.loads((ROOT / "coach_local/events/claritin_otc.json").read_text())
    bad["detail"]["drug"] = {"name": "X"}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    result = runner.invoke(app, ["event", "put", "--file", str(tmp_path / "bad.json")])
    assert result.exit_code == 2 and "drug" in result.output


def test_templates_check_passes_on_the_shipped_templates():
    result = runner.invoke(app, ["templates", "check"])
    assert result.exit_code == 0 and "required element" in result.output
