"""The CLI as a user meets it: help for every command, exit codes, events sent to a deployed bus."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from typer.testing import CliRunner

from coach_local.cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _commands(group, path=()):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):  # a sub-app: `coach templates …`, `coach event …`
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_command_and_option_is_documented():
    import typer

    commands = dict(_commands(typer.main.get_command(app)))
    assert {("templates", "approve"), ("templates", "check"), ("event", "put"), ("demo",)} <= set(commands)
    for path, command in commands.items():
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, path
        assert (command.help or "").strip(), f"coach {' '.join(path)} has no description"
        for param in command.params:
            if param.param_type_name == "option":
                assert (param.help or "").strip(), f"coach {' '.join(path)} {param.opts[0]} has no help"
            else:
                assert (getattr(param, "help", None) or "").strip(), f"coach {' '.join(path)} {param.name}"
        if path not in {("templates", "preview")}:  # options common to every command are spelled the same
            assert any("--json" in p.opts for p in command.params), f"coach {' '.join(path)} has no --json"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["generate-lake", "--out", "{tmp}/lake", "--members", "0"], "--members"),
        (["generate-lake", "--out", "{tmp}/lake", "--members", "5", "--clients", "9"], "every client needs"),
        (["demo", "--members", "-1"], "--members"),
        (["demo", "--port", "70000"], "--port"),
        (["templates", "preview", "otc_switch", "--out", "{tmp}/no/such/folder/x.pdf"], "does not exist"),
        (["templates", "check", "--dir", "{tmp}/nowhere"], "no such folder"),
        (["cost", "--members", "-5"], "--members"),
    ],
)
def test_bad_options_exit_2_with_a_clear_line_and_no_traceback(tmp_path, args, message):
    result = runner.invoke(app, [a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "lake").exists()


def test_aws_commands_without_credentials_or_region_exit_2_saying_what_to_set(tmp_path, monkeypatch):
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    import boto3.session

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    no_region = runner.invoke(app, ["redrive", "some-campaign"])
    assert no_region.exit_code == 2 and "no AWS region" in no_region.output, no_region.output
    event = tmp_path / "event.json"
    event.write_text((ROOT / "coach_local/events/claritin_otc.json").read_text())
    no_credentials = runner.invoke(app, ["event", "put", "--file", str(event), "--region", "us-east-1"])
    assert no_credentials.exit_code == 2 and "no AWS credentials" in no_credentials.output, (
        no_credentials.output
    )
    assert "Traceback" not in no_region.output + no_credentials.output


def test_event_put_validates_then_sends_to_the_bus(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        result = runner.invoke(
            app, ["event", "put", "--file", str(ROOT / "coach_local/events/claritin_otc.json"), "--json"]
        )
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


class _Sfn:
    """The two Step Functions calls `coach redrive` makes (moto has no RedriveExecution)."""

    class exceptions:  # boto3's shape
        class ExecutionDoesNotExist(Exception):
            pass

    def __init__(self, status):
        self.status, self.redriven = status, []
        self.meta = type("Meta", (), {"region_name": "us-east-1"})()

    def describe_execution(self, executionArn):
        if not executionArn.endswith(":cmp-1"):
            raise self.exceptions.ExecutionDoesNotExist()
        return {"status": self.status}

    def redrive_execution(self, executionArn):
        self.redriven.append(executionArn)
        return {"redriveDate": "2026-11-22T00:00:00Z"}


def test_redrive_resumes_a_failed_campaign_and_refuses_one_that_is_not(monkeypatch):
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:automated-pharmacist-campaign"
    for status, code in (("FAILED", 0), ("SUCCEEDED", 2), ("RUNNING", 2)):
        sfn = _Sfn(status)
        monkeypatch.setattr(boto3, "client", lambda service, region_name=None, sfn=sfn: sfn)
        result = runner.invoke(app, ["redrive", "cmp-1", "--state-machine", arn, "--json"])
        assert result.exit_code == code, result.output
        assert sfn.redriven == (
            [arn.replace(":stateMachine:", ":execution:") + ":cmp-1"] if code == 0 else []
        )
    result = runner.invoke(app, ["redrive", "nope", "--state-machine", arn])
    assert result.exit_code == 2 and "no campaign" in result.output


def test_json_output_for_scripts_and_exit_code_2_for_a_bad_template(tmp_path):
    checked = runner.invoke(app, ["templates", "check", "--json"])
    assert checked.exit_code == 0 and json.loads(checked.stdout) == {"ok": True, "problems": []}
    preview = runner.invoke(
        app, ["templates", "preview", "recall/es", "--out", str(tmp_path / "r.pdf"), "--json"]
    )
    assert preview.exit_code == 0 and json.loads(preview.stdout)["template"] == "recall/es"
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    for bad in ("price_hike", "otc_switch/fr"):
        refused = runner.invoke(app, ["templates", "preview", bad, "--out", str(tmp_path / "x.pdf")])
        assert refused.exit_code == 2 and bad.split("/")[-1] in refused.output
    lake = runner.invoke(
        app,
        ["generate-lake", "--out", str(tmp_path / "lake"), "--members", "200", "--clients", "3", "--json"],
    )
    assert lake.exit_code == 0
    stats = json.loads(lake.stdout)
    assert stats["members"] == 200 and stats["clients"] == 3 and stats["claims"] > 0


def test_no_colour_codes_when_the_output_is_not_a_terminal():
    import os
    import subprocess
    import sys

    for args in (["cost", "--members", "1000", "--clients", "3"], ["--help"]):
        done = subprocess.run(
            [sys.executable, "-m", "coach_local.cli", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TERM")},
        )
        assert done.returncode == 0, done.stderr
        assert "\x1b[" not in done.stdout + done.stderr, args
