"""What one campaign costs on AWS, before anyone approves it — and what the naive design would cost.

Prices (with their date), measured rates and design figures live in `inputs.json`, one file: change a price there.
The naive design is the one a first attempt builds: one Map iteration, one Lambda invocation and one S3 object per
member (Standard workflow), and the claims read as unpartitioned CSV.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

INPUTS = Path(__file__).with_name("inputs.json")
TB = 1024**4
GB = 1024**3


@cache
def _file() -> str:
    return INPUTS.read_text(encoding="utf-8")


def inputs(seconds_per_invocation: dict[str, float] | None = None) -> dict[str, Any]:
    """The inputs file; `seconds_per_invocation` replaces measured function durations (e.g. from a local run)."""
    data = dict(json.loads(_file()))
    if seconds_per_invocation:
        data["measured"]["seconds_per_invocation"].update(seconds_per_invocation)
    return data


@dataclass
class Estimate:
    design: str
    lines: dict[str, float] = field(default_factory=dict)  # service → dollars
    wall_clock_seconds: float = 0.0
    detail: dict[str, float] = field(default_factory=dict)  # quantities behind the dollars

    @property
    def total(self) -> float:
        return sum(self.lines.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "design": self.design,
            "total_usd": round(self.total, 4),
            "lines_usd": {k: round(v, 4) for k, v in self.lines.items()},
            "wall_clock_seconds": round(self.wall_clock_seconds, 1),
            "quantities": {k: round(v, 2) for k, v in self.detail.items()},
        }


def _gb_seconds(function: str, seconds: float, data: dict[str, Any]) -> float:
    return seconds * data["design"]["memory_mb"][function] / 1024


def _lambda(
    estimate: Estimate, function: str, invocations: float, seconds_each: float, data: dict[str, Any]
) -> None:
    prices = data["prices"]
    gb_s = _gb_seconds(function, invocations * seconds_each, data)
    estimate.lines["Lambda"] = (
        estimate.lines.get("Lambda", 0.0)
        + gb_s * prices["lambda_gb_second"]
        + invocations * prices["lambda_request"]
    )
    estimate.detail["lambda_gb_seconds"] = estimate.detail.get("lambda_gb_seconds", 0.0) + gb_s
    estimate.detail["lambda_invocations"] = estimate.detail.get("lambda_invocations", 0.0) + invocations


def _common(estimate: Estimate, members: int, clients: int, data: dict[str, Any]) -> None:
    """What both designs spend the same way: intake, approvals, outcomes, summary, SES."""
    prices, measured, design = data["prices"], data["measured"], data["design"]
    each = measured["seconds_per_invocation"]
    _lambda(estimate, "intake", 1, each["intake"], data)
    _lambda(estimate, "approval_request", clients * 2, each["approval_request"], data)
    _lambda(
        estimate, "approval_api", clients * design["approval_clicks_per_client"], each["approval_api"], data
    )
    _lambda(estimate, "client_outcome", clients, each["client_outcome"], data)
    _lambda(estimate, "summary", 1, each["summary"], data)
    _lambda(estimate, "audience", 1, design["athena_query_seconds"], data)
    emails = clients * design["approval_emails_per_client"] + members * design["email_share"]
    estimate.lines["SES"] = emails * prices["ses_per_message"]
    estimate.detail["emails"] = emails
    writes = clients * design["approval_clicks_per_client"] * 4 + members * design["email_share"]  # ledger
    estimate.lines["DynamoDB"] = (
        writes * prices["dynamodb_write_request"] + writes * prices["dynamodb_read_request"]
    )


def _athena(estimate: Estimate, scanned_bytes: float, data: dict[str, Any]) -> None:
    prices = data["prices"]
    billed = max(scanned_bytes, prices["athena_min_bytes_per_query"])
    estimate.lines["Athena"] = billed / TB * prices["athena_per_tb_scanned"]
    estimate.detail["athena_gb_scanned"] = billed / GB


def estimate_ours(
    members: int,
    clients: int,
    lake_claims: int | None = None,
    letters_per_second: float | None = None,
    seconds_per_invocation: dict[str, float] | None = None,
) -> Estimate:
    data = inputs(seconds_per_invocation)
    prices, measured, design = data["prices"], data["measured"], data["design"]
    rate = letters_per_second or measured["letters_per_second"]
    claims = lake_claims if lake_claims is not None else design["lake_claims"]
    estimate = Estimate("ours (batched)")
    _common(estimate, members, clients, data)
    _athena(estimate, claims * measured["claim_bytes_scanned_parquet"] * measured["lookback_share"], data)
    batch = design["batch_size"]
    paper = members * (1 - design["email_share"])
    batches = sum(math.ceil(members / clients / batch) for _ in range(clients)) if clients else 0
    batch_seconds = min(batch, members / max(clients, 1)) / rate + measured["letters_batch_overhead_seconds"]
    _lambda(estimate, "letters", batches, batch_seconds, data)
    transitions = (
        design["transitions_top_level"]
        + clients * design["transitions_per_client"]
        + batches * design["transitions_per_batch"]
    )
    estimate.lines["Step Functions"] = transitions * prices["sfn_standard_transition"]
    puts = (
        batches * 3 + clients * 4
    )  # audience batch file, PDF, manifest part; clients.json, outcome, manifest...
    gets = batches * 2 + clients * 3
    stored_gb = paper * measured["pdf_bytes_per_letter"] / GB
    estimate.lines["S3"] = (
        puts * prices["s3_put"] + gets * prices["s3_get"] + stored_gb * prices["s3_gb_month"]
    )
    estimate.detail.update(
        state_transitions=transitions,
        map_items=batches,
        s3_requests=puts + gets,
        letters_gb_stored_one_month=stored_gb,
    )
    waves = math.ceil(batches / design["letters_max_concurrency"]) if batches else 0
    estimate.wall_clock_seconds = design["athena_query_seconds"] + waves * batch_seconds
    return estimate


def estimate_naive(
    members: int,
    clients: int,
    lake_claims: int | None = None,
    letters_per_second: float | None = None,
    seconds_per_invocation: dict[str, float] | None = None,
) -> Estimate:
    data = inputs(seconds_per_invocation)
    prices, measured, design = data["prices"], data["measured"], data["design"]
    rate = letters_per_second or measured["letters_per_second"]
    claims = lake_claims if lake_claims is not None else design["lake_claims"]
    estimate = Estimate("naive (per member)")
    _common(estimate, members, clients, data)
    _athena(estimate, claims * measured["claim_bytes_csv"], data)
    per_letter = 1 / rate + 0.05  # one letter per invocation, plus its own S3 round trip
    _lambda(estimate, "letters", members, per_letter, data)
    transitions = (
        design["transitions_top_level"]
        + clients * design["transitions_per_client"]
        + members * design["transitions_per_batch"]
    )
    estimate.lines["Step Functions"] = transitions * prices["sfn_standard_transition"]
    puts, gets = members * 2 + clients * 4, members + clients * 3
    stored_gb = members * (1 - design["email_share"]) * measured["pdf_bytes_per_letter"] / GB
    estimate.lines["S3"] = (
        puts * prices["s3_put"] + gets * prices["s3_get"] + stored_gb * prices["s3_gb_month"]
    )
    estimate.detail.update(
        state_transitions=transitions,
        map_items=members,
        s3_requests=puts + gets,
        letters_gb_stored_one_month=stored_gb,
    )
    estimate.wall_clock_seconds = (
        design["athena_query_seconds"] * 5
        + math.ceil(members / design["letters_max_concurrency"]) * per_letter
    )
    return estimate


def letters_cost(reachable: int) -> float:
    """The estimated AWS cost of one client's letters (rendering, workflow, storage, member emails)."""
    if reachable <= 0:
        return 0.0
    data = inputs()
    prices, measured, design = data["prices"], data["measured"], data["design"]
    batches = math.ceil(reachable / design["batch_size"])
    seconds = (
        reachable / measured["letters_per_second"] + batches * measured["letters_batch_overhead_seconds"]
    )
    lambda_cost = (
        _gb_seconds("letters", seconds, data) * prices["lambda_gb_second"]
        + batches * prices["lambda_request"]
    )
    transitions = batches * design["transitions_per_batch"] * prices["sfn_standard_transition"]
    s3 = (
        batches * 3 * prices["s3_put"]
        + reachable * measured["pdf_bytes_per_letter"] / GB * prices["s3_gb_month"]
    )
    ses = reachable * design["email_share"] * prices["ses_per_message"]
    return lambda_cost + transitions + s3 + ses


def format_usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 else "less than $0.01"
