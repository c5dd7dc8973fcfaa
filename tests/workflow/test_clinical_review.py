"""The clinical review stage under the real ASL (moto's interpreter, the real handlers, the local pharmacist
answering through the page): a feed's candidate reaches its audience only once a person confirmed it, and on the
event as they corrected it; a dismissal or a review nobody gave ends the campaign with nothing sent."""

from __future__ import annotations

import copy
import email
import email.policy
from datetime import date
from pathlib import Path

import pytest
from coach.review.models import review_policy

from coach_local.feed_demo import demo_candidate, demo_review
from coach_local.runner import RunResult, run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
FILL = date(2002, 10, 15)
CLIENTS = [client("C1", "Acme Health"), client("C2", "Bolt Mutual")]
MEMBERS = [member("M1", "C1", "Ada", "Lovegrove"), member("M2", "C2", "Bea", "Hollings")]
FILLS = [("M1", CLARITIN_NDC, FILL, "paid"), ("M2", CLARITIN_NDC, FILL, "paid")]


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    return write_lake(tmp_path_factory.mktemp("review") / "lake", CLIENTS, MEMBERS, FILLS)


def run(envelope: dict, lake: Path, out: Path, decisions: dict) -> RunResult:
    # a playbook day lasts one second: the review's reminder and escalation come within seconds
    return run_campaign(envelope, lake, out, decisions=decisions, timeout=300, time_scale=1 / 86_400)


def text(message: email.message.EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def emails(result: RunResult) -> list[email.message.EmailMessage]:
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((result.out_dir / "outbox").glob("*.eml"))
    ]


def called(result: RunResult, function: str) -> list:
    return [c for c in result.calls or [] if c.function == function]


def recall_candidate(recall_class: str) -> dict:
    """The demo candidate as a recall whose NDCs the feed could not determine (the openfda block was empty)."""
    envelope = copy.deepcopy(demo_candidate().envelope)
    envelope["source"] = "coach.feed.fda-recalls"
    detail = envelope["detail"]
    detail.update(
        event_id=f"fda-recalls-D-0042-2003-{recall_class}", event_type="recall", recall_class=recall_class
    )
    detail["review"] = {"reasons": ["No NDC in the record; openfda is empty."], "missing": ["drug.ndcs"]}
    return envelope


def test_the_demo_candidate_corrected_on_the_page_is_the_event_the_campaign_runs_on(lake, tmp_path):
    start = demo_candidate()
    assert start.envelope["detail"]["drug"]["ndcs"] == []  # the excerpt alone resolves no NDC
    result = run(start.envelope, lake, tmp_path / "out", demo_review())
    assert result.status == "SUCCEEDED", (result.error, result.watcher_errors)
    [audience] = called(result, "audience")
    event = audience.event["event"]
    assert event["drug"]["ndcs"] == ["11523716001", "11523716002"]
    assert event["effective_date"] == "2003-01-01" and event["alternatives"] == ["cetirizine"]
    assert event["summary"] == "Loratadine (Claritin) approved for over-the-counter sale."
    # the account teams are asked about the corrected event, and letters went out
    approvals = [m for m in emails(result) if m["X-Coach-Kind"] == "approval"]
    assert approvals and all("January 1, 2003" in text(m) for m in approvals)
    assert result.report is not None and result.report["totals"]["letters"] == 2
    review = result.report["review"]
    assert review["outcome"] == "corrected" and review["by"] == "clinical-pharmacist@pbm.example"
    assert "effective_date: 2002-11-27 → 2003-01-01" in review["notes"]
    # the review came first: nothing was asked of an account team before the pharmacist answered
    names = [c.function for c in result.calls or []]
    assert names.index("clinical_review") < names.index("audience") < names.index("approval_request")


def test_a_dismissed_candidate_ends_cleanly_with_nothing_sent(lake, tmp_path):
    decisions = {"clinical_review": {"decision": "dismiss", "comment": "already announced by the plan"}}
    result = run(demo_candidate().envelope, lake, tmp_path / "out", decisions)
    assert result.status == "SUCCEEDED"
    assert called(result, "audience") == [] and called(result, "approval_request") == []
    assert result.report is not None
    assert result.report["status"] == "dismissed" and result.report["totals"]["letters"] == 0
    assert result.report["review"]["outcome"] == "dismissed"
    assert result.report["review"]["notes"] == "already announced by the plan"
    assert not any((result.out_dir / "letters").rglob("*.pdf"))
    assert [m["X-Coach-Kind"] for m in emails(result)] == ["clinical_review"]


def test_confirm_is_refused_while_the_ndcs_are_missing_so_nothing_starts(lake, tmp_path):
    result = run(recall_candidate("II"), lake, tmp_path / "out", {"clinical_review": {"decision": "confirm"}})
    assert result.status == "SUCCEEDED"
    assert called(result, "audience") == []
    assert any("enter the NDCs before confirming" in e for e in result.watcher_errors or [])
    assert result.report is not None and result.report["status"] == "no_review"


def test_an_unanswered_class_i_review_has_the_short_deadline_reminds_and_escalates(lake, tmp_path):
    result = run(recall_candidate("I"), lake, tmp_path / "out", {"clinical_review": {"decision": "none"}})
    assert result.status == "SUCCEEDED"
    asks = [c.event for c in called(result, "clinical_review") if c.event.get("action") == "ask"]
    assert [a["kind"] for a in asks] == ["ask", "reminder", "escalation"]
    expected = max(1, round(review_policy().class_i_timeout_seconds / 86_400))
    assert asks[0]["review"]["deadline_seconds"] == expected
    sent = emails(result)
    escalations = [m for m in sent if str(m["Subject"]).startswith("Escalation: clinical review needed")]
    assert [str(m["To"]) for m in escalations] == ["chief-pharmacist@pbm.example"]
    # nothing starts without a person
    assert called(result, "audience") == [] and not [m for m in sent if m["X-Coach-Kind"] == "approval"]
    assert result.report is not None and result.report["status"] == "no_review"
