"""`coach cost`: one campaign's AWS cost before anyone approves, against the naive design; the account team's
email states what the client's letters will cost (the client's does not)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from coach.cost import estimate_naive, estimate_ours, format_usd, inputs, letters_cost

from tests.unit.approval_fakes import Approvals, approval_request

ROOT = Path(__file__).resolve().parents[2]


def test_prices_are_dated_in_one_file_with_every_service_priced():
    data = inputs()
    date.fromisoformat(data["prices"]["as_of"])
    date.fromisoformat(data["measured"]["as_of"])
    assert {
        "lambda_gb_second",
        "lambda_request",
        "sfn_standard_transition",
        "athena_per_tb_scanned",
        "ses_per_message",
        "s3_put",
        "s3_get",
        "s3_gb_month",
    } <= set(data["prices"])
    assert all(value > 0 for key, value in data["prices"].items() if isinstance(value, float))


def test_every_cost_line_is_priced_from_its_quantity():
    ours = estimate_ours(9_000_000, 400, lake_claims=1_000_000_000)
    prices = inputs()["prices"]
    assert set(ours.lines) == {"Athena", "DynamoDB", "Lambda", "S3", "SES", "Step Functions"}
    assert (
        ours.lines["Step Functions"] == ours.detail["state_transitions"] * prices["sfn_standard_transition"]
    )
    assert ours.detail["map_items"] == 400 * 12  # 22,500 members per client in batches of 2,000
    assert abs(ours.lines["SES"] - ours.detail["emails"] * prices["ses_per_message"]) < 1e-9
    assert (
        ours.detail["athena_gb_scanned"]
        < estimate_naive(9_000_000, 400, 1_000_000_000).detail["athena_gb_scanned"]
    )


def test_the_naive_design_costs_more_at_every_size_and_its_workflow_bill_grows_per_member():
    for members, clients in ((10_000, 5), (9_000_000, 400)):
        assert estimate_naive(members, clients).total > 2 * estimate_ours(members, clients).total
        assert (
            estimate_naive(members, clients).wall_clock_seconds
            > estimate_ours(members, clients).wall_clock_seconds
        )
    assert (
        estimate_naive(9_000_000, 400).lines["Step Functions"]
        > 100 * estimate_ours(9_000_000, 400).lines["Step Functions"]
    )


def test_measured_durations_change_the_lambda_line():
    base = estimate_ours(100_000, 20)
    slower = estimate_ours(
        100_000, 20, seconds_per_invocation={"approval_request": 5.0, "client_outcome": 5.0}
    )
    assert slower.lines["Lambda"] > base.lines["Lambda"] and slower.lines["SES"] == base.lines["SES"]


def test_letters_cost_grows_with_the_clients_members():
    assert letters_cost(0) == 0.0
    assert 0 < letters_cost(1_000) < letters_cost(100_000) < letters_cost(1_000_000)
    assert format_usd(0.004) == "less than $0.01" and format_usd(1234.5) == "$1,234.50"


def test_coach_cost_prints_both_estimates_and_the_ratio():
    completed = subprocess.run(
        [sys.executable, "-m", "coach_local.cli", "cost", "--members", "9000000", "--clients", "400"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr
    ours, naive = estimate_ours(9_000_000, 400), estimate_naive(9_000_000, 400)
    out = " ".join(completed.stdout.split())
    assert f"${ours.total:,.2f}" in out and f"${naive.total:,.2f}" in out
    assert f"{naive.total / ours.total:,.1f}× as much" in out and "2025-11" in out
    scripted = subprocess.run(
        [
            sys.executable,
            "-m",
            "coach_local.cli",
            "cost",
            "--members",
            "9000000",
            "--clients",
            "400",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    data = json.loads(scripted.stdout)
    assert data["ours"]["total_usd"] == round(ours.total, 4) and data["ratio"] == round(
        naive.total / ours.total, 2
    )
    bad = subprocess.run(
        [sys.executable, "-m", "coach_local.cli", "cost", "--members", "-5"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert bad.returncode == 2


def test_account_team_email_states_the_letters_cost_and_the_client_email_does_not():
    world = Approvals()
    world.ask(approval_request(reachable=250_000))
    team = world.mailer.sent[-1]
    expected = format_usd(letters_cost(250_000))
    assert team.html is not None
    assert expected in team.text and expected in team.html
    world.ask(approval_request(role="client", reachable=250_000))
    client = world.mailer.sent[-1]
    assert client.html is not None
    assert "AWS cost" not in client.text and "AWS cost" not in client.html
