"""Several campaigns for different events, started at once in ONE local runtime (one moto, one state machine, one
approval server), each finish with their own right report and their own emails: nothing of one campaign leaks into
another's counts, letters or outbox. `run_together` is also the driver of the fault matrix (test_fault_matrix.py).
And the moto fix that keeps many campaigns in one runtime from slowing each other down answers as moto does.
"""

from __future__ import annotations

import email
import email.policy
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest
from coach.intake import campaign_id_for
from moto import mock_aws
from moto.dynamodb.models.table import Table

from coach_local import moto_fixes
from coach_local.approver import Decisions, Inbox, auto_approver
from coach_local.inputs import ReviewChoice
from coach_local.reviewer import ClinicalReviewer
from coach_local.runner import check_lake, prepare_out
from coach_local.runtime import ACCOUNT, DATA_BUCKET, LETTERS_BUCKET, REGION, LocalRuntime
from tests.workflow.tiny_lake import CLARITIN_NDC, OTHER_NDC, client, member, write_lake


def market_event(
    event_id: str,
    event_type: str,
    name: str,
    *,
    ndcs: Iterable[str] = (),
    ingredient: str | None = None,
    recall_class: str | None = None,
) -> dict:
    """An EventBridge envelope in the shape of docs/data-contract.md."""
    drug: dict[str, Any] = {"name": name, "ndcs": list(ndcs)}
    if ingredient:
        drug["ingredient"] = ingredient
    return {
        "source": "coach.market-feed",
        "detail-type": "Drug Market Event",
        "detail": {
            "event_id": event_id,
            "event_type": event_type,
            "drug": drug,
            "effective_date": "2003-01-01",
            "announced_on": "2002-11-27",
            "summary": f"{name}: {event_type.replace('_', ' ')}.",
            "source_url": "https://example.org/notice",
            "alternatives": [],
            "recall_class": recall_class,
        },
    }


@dataclass
class Sent:
    """One email as SES received it (moto's SES backend), with its routing headers."""

    campaign: str
    kind: str
    to: tuple[str, ...]
    subject: str
    headers: dict[str, str]
    text: str


@dataclass
class CampaignResult:
    campaign_id: str
    status: str
    error: str | None
    report: dict[str, Any] | None
    sent: list[Sent] = field(default_factory=list)  # every SES send of this campaign, duplicates included
    outbox: list[Path] = field(default_factory=list)  # its .eml files in OUT/outbox
    letters: list[str] = field(default_factory=list)  # its keys in the letters bucket, below campaigns/<id>/
    started: float = 0.0  # the execution's start and stop (epoch seconds)
    stopped: float = 0.0
    first_status: str = ""  # the status before any redrive


@dataclass
class Together:
    results: dict[str, CampaignResult]  # by event_id
    seconds: float
    watcher_errors: list[str]
    invocations: list[Any]


def _parse(raw: str | bytes) -> EmailMessage:
    data = raw.encode() if isinstance(raw, str) else raw
    return email.message_from_bytes(data, policy=email.policy.default)


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""


def run_together(
    lake_dir: Path,
    out_dir: Path,
    events: list[dict],
    *,
    faults: dict[str, Callable[[dict], None]] | None = None,
    decisions: Decisions | None = None,
    timeout: float = 240.0,
    time_scale: float = 1 / 86_400,
    batch_size: int = 500,
    fix_then_redrive: Callable[[], None] | None = None,
    measurement_overrides: dict | None = None,
    review: Callable[[str], ReviewChoice] | None = None,
) -> Together:
    """Start every event at once in one LocalRuntime (auto-approver as in coach_local/runner.py) and wait for all.
    With `fix_then_redrive`: once all have stopped, call it (it removes the faults), redrive every campaign that did
    not succeed, all at once, and wait for those too. With `review`: a clinical pharmacist answers each feed
    candidate's review email with review(campaign_id), as coach_local/runner.py's does with the decisions file's."""
    check_lake(lake_dir)
    prepare_out(out_dir)
    from moto.ses.models import ses_backends

    started = time.perf_counter()
    with LocalRuntime(
        out_dir,
        lake_dir,
        time_scale=time_scale,
        batch_size=batch_size,
        measurement_overrides=measurement_overrides,
    ) as runtime:
        runtime.registry.faults.update(faults or {})
        errors: list[str] = []
        watcher = Inbox(runtime.mailboxes, auto_approver(decisions or {}, errors, runtime.answers))
        watcher.errors = errors
        watcher.start()
        pharmacist = ClinicalReviewer(runtime.mailboxes, review, errors, runtime.answers) if review else None
        if pharmacist is not None:
            pharmacist.start()
        ids = {}
        try:
            for event in events:
                intake = runtime.put_event(event)
                assert intake["status"] == "started", intake
                ids[event["detail"]["event_id"]] = intake["campaign_id"]
            deadline = time.monotonic() + timeout
            runs = {
                event_id: runtime.wait(cid, timeout=max(1.0, deadline - time.monotonic()))
                for event_id, cid in ids.items()
            }
            _all_stopped(runtime, ids, runs, errors, timeout)
            first = {event_id: run.status for event_id, run in runs.items()}
            if fix_then_redrive is not None:
                fix_then_redrive()
                failed = [event_id for event_id, run in runs.items() if run.status != "SUCCEEDED"]
                for event_id in failed:
                    runtime.redrive(ids[event_id])
                deadline = time.monotonic() + timeout
                for event_id in failed:
                    runs[event_id] = runtime.wait(
                        ids[event_id], timeout=max(1.0, deadline - time.monotonic())
                    )
                _all_stopped(runtime, ids, runs, errors, timeout)
        finally:
            watcher.stop()
            if pharmacist is not None:
                pharmacist.stop()
        seconds = time.perf_counter() - started
        results: dict[str, CampaignResult] = {}
        s3 = runtime.client("s3")
        for event_id, cid in ids.items():
            try:
                report = json.loads(runtime.read(DATA_BUCKET, f"campaigns/{cid}/report.json"))
            except s3.exceptions.NoSuchKey:
                report = None
            letters = [
                item["Key"][len(f"campaigns/{cid}/") :]
                for page in s3.get_paginator("list_objects_v2").paginate(
                    Bucket=LETTERS_BUCKET, Prefix=f"campaigns/{cid}/"
                )
                for item in page.get("Contents", [])
            ]
            run, execution = runs[event_id], runtime.describe(cid)
            results[event_id] = CampaignResult(
                cid,
                run.status,
                run.error,
                report,
                letters=sorted(letters),
                started=execution["startDate"].timestamp(),
                stopped=execution["stopDate"].timestamp(),
                first_status=first[event_id],
            )
        by_campaign = {r.campaign_id: r for r in results.values()}
        for raw in ses_backends[ACCOUNT][REGION].sent_messages:
            message = _parse(raw.raw_data)
            headers = {k: str(v).strip() for k, v in message.items() if k.startswith("X-Coach-")}
            sent = Sent(
                headers.get("X-Coach-Campaign", ""),
                headers.get("X-Coach-Kind", ""),
                tuple(sorted(str(message["To"]).split(", "))),
                str(message["Subject"]),
                headers,
                _text(message),
            )
            assert sent.campaign in by_campaign, f"an email of no campaign of this run: {sent.subject}"
            by_campaign[sent.campaign].sent.append(sent)
        for path in sorted((out_dir / "outbox").glob("*.eml")):
            campaign = str(_parse(path.read_bytes()).get("X-Coach-Campaign", "")).strip()
            by_campaign[campaign].outbox.append(path)
        invocations = list(runtime.registry.invocations)
    return Together(results, seconds, errors, invocations)


def _all_stopped(runtime: LocalRuntime, ids: dict, runs: dict, errors: list[str], timeout: float) -> None:
    """Say where each campaign that did not stop waits, and what the auto-approver saw, instead of failing later."""
    stuck = [event_id for event_id, run in runs.items() if run.status == "TIMED_OUT_LOCALLY"]
    if stuck:
        raise AssertionError(
            f"{len(stuck)} campaign(s) still running after {timeout:.0f} s: "
            + "; ".join(f"{e}: {_last_states(runtime, ids[e])}" for e in stuck)
            + f". Approver errors: {errors}. Waiting for: "
            + json.dumps([c["waiting_for"] for c in runtime.status()["campaigns"] if c["waiting_for"]])[:3000]
        )


def _last_states(runtime: LocalRuntime, campaign_id: str) -> list[str]:
    events = runtime.history(campaign_id)
    return [f"{e['type']}:{(e.get('stateEnteredEventDetails') or {}).get('name', '')}" for e in events[-6:]]


# --- three campaigns at once on a tiny lake whose right answers are written out by hand ------------------------

SIMVASTATIN_NDC = OTHER_NDC  # the tiny lake's second drug


def tiny_lake(base: Path) -> Path:
    return write_lake(
        base / "lake",
        [
            client("C1", "One", {"otc_switch": "always"}),
            client("C2", "Two"),
            client("C3", "Three", {"patent_expiry": "never"}),
        ],
        [
            member("M1", "C1", "Ada", "Lovelace"),
            member(
                "M2",
                "C2",
                "Alan",
                "Turing",
                email="alan@mail.example",
                email_consent=True,
                preferred_channel="email",
            ),
            member("M3", "C2", "Grace", "Hopper", deceased=True),
            member("M4", "C3", "Edsger", "Dijkstra"),
            member("M5", "C3", "Barbara", "Liskov", opted_out=True),
        ],
        [
            ("M1", CLARITIN_NDC, date(2002, 10, 1), "paid"),
            ("M2", CLARITIN_NDC, date(2002, 9, 1), "paid"),
            ("M3", CLARITIN_NDC, date(2002, 8, 1), "paid"),
            ("M4", CLARITIN_NDC, date(2002, 7, 1), "reversed"),  # reversed: never counts
            ("M4", SIMVASTATIN_NDC, date(2002, 6, 1), "paid"),
            ("M5", SIMVASTATIN_NDC, date(2002, 5, 1), "paid"),
            ("M1", SIMVASTATIN_NDC, date(2000, 1, 1), "paid"),
        ],
    )  # outside every lookback


EVENTS = [
    market_event("together-otc-claritin", "otc_switch", "Claritin", ndcs=[CLARITIN_NDC]),
    market_event("together-recall-claritin", "recall", "Claritin", ingredient="LORATADINE", recall_class="I"),
    market_event("together-patent-simvastatin", "patent_expiry", "Zocor", ingredient="simvastatin"),
]
# event_id → client → (affected, reachable, account team, client, mailed, emailed, outcome)
EXPECTED = {
    "together-otc-claritin": {
        "C1": (1, 1, "approved", "auto", 1, 0, "letters_sent"),
        "C2": (2, 1, "approved", "approved", 0, 1, "letters_sent"),
    },
    "together-recall-claritin": {  # class I: mandatory, nobody asked
        "C1": (1, 1, "not_asked", "not_asked", 1, 0, "letters_sent"),
        "C2": (2, 1, "not_asked", "not_asked", 0, 1, "letters_sent"),
    },
    "together-patent-simvastatin": {  # C3 elected `never` for patent expiries
        "C3": (2, 1, "not_asked", "auto", 0, 0, "election_never"),
    },
}


def report_rows(report: dict) -> dict[str, tuple]:
    return {
        r["client_id"]: (
            r["affected"],
            r["reachable"],
            r["account_team_decision"],
            r["client_decision"],
            r["mailed"],
            r["emailed"],
            r["outcome"],
        )
        for r in report["clients"]
    }


@pytest.mark.slow
def test_three_campaigns_at_once_each_get_their_own_right_report(tmp_path):
    together = run_together(
        tiny_lake(tmp_path), tmp_path / "out", EVENTS, time_scale=1 / 864
    )  # no deadline passes
    assert together.watcher_errors == []
    assert {e: r.campaign_id for e, r in together.results.items()} == {
        e: campaign_id_for(e) for e in EXPECTED
    }
    for event_id, expected in EXPECTED.items():
        result = together.results[event_id]
        assert result.status == "SUCCEEDED", (event_id, result.error)
        assert result.report is not None and result.report["event_id"] == event_id
        assert report_rows(result.report) == expected, event_id
        totals = result.report["totals"]
        assert (totals["affected"], totals["reachable"]) == (
            sum(v[0] for v in expected.values()),
            sum(v[1] for v in expected.values()),
        )
        assert totals["letters"] == sum(v[4] + v[5] for v in expected.values())
        # its emails are its own: one SES send per outbox file, none twice, and only its members' letter emails
        assert (
            len(result.sent)
            == len(result.outbox)
            == len({(s.kind, s.to, s.subject, tuple(sorted(s.headers.items()))) for s in result.sent})
        )
        assert all(s.campaign == result.campaign_id for s in result.sent)
        assert [s.to for s in result.sent if s.kind == "letter"] == [("alan@mail.example",)] * (
            event_id != EVENTS[2]["detail"]["event_id"]
        )
        assert sum(1 for k in result.letters if k.endswith(".pdf")) == sum(
            1 for v in expected.values() if v[4]
        )
    kinds = {e: sorted({s.kind for s in r.sent}) for e, r in together.results.items()}
    assert kinds == {
        "together-otc-claritin": ["approval", "letter"],
        "together-recall-claritin": ["letter", "notice"],
        "together-patent-simvastatin": [],
    }
    # the three executions ran at once, not one after the other
    results = together.results.values()
    assert max(r.started for r in results) < min(r.stopped for r in results)


def test_a_query_reads_one_partition_and_answers_exactly_as_moto_does(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    queries: list[dict[str, Any]] = [
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "group#7"}}},
        {
            "KeyConditionExpression": "pk = :p AND begins_with(sk, :s)",
            "ExpressionAttributeValues": {":p": {"S": "group#3"}, ":s": {"S": "link#1"}},
        },
        {
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "group#5"}, ":n": {"N": "2"}},
            "FilterExpression": "n >= :n",
            "ScanIndexForward": False,
            "Limit": 2,
        },
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "nobody"}}},
    ]

    def answers() -> list[list[dict]]:
        dynamodb = boto3.client("dynamodb")
        pages = []
        for query in queries:
            kwargs: dict[str, Any] = {"TableName": "t", **query}
            while True:
                page = dynamodb.query(**kwargs)
                pages.append(page["Items"])
                if "LastEvaluatedKey" not in page:
                    break
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return pages

    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="t",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
        )
        for group in range(10):
            for index in range(5):
                dynamodb.put_item(
                    TableName="t",
                    Item={
                        "pk": {"S": f"group#{group}"},
                        "sk": {"S": f"link#{index}"},
                        "n": {"N": str(index)},
                    },
                )
        mine_before = answers()
        read: list[int] = []
        all_items = Table.all_items

        def counted_all_items(self):
            items = all_items(self)
            read.append(len(items))
            return items

        monkeypatch.setattr(Table, "all_items", counted_all_items)
        moto_fixes.install()
        try:
            fixed = answers()
        finally:
            moto_fixes.uninstall()
        # a whole partition (5), an empty one (0), and for the sort-key prefix only that prefix's item (1)
        assert set(read) == {0, 1, 5}, "the fixed query read more than the partition (or prefix) asked for"
        assert fixed == mine_before == answers()
    assert [len(page) for page in fixed] == [
        5,
        1,
        2,
        1,
        0,
        0,
    ]  # the filtered query: 3 pages of at most 2 read
