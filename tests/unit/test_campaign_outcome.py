"""Client outcomes and the report: what the decisions mean for letters, in counts only."""

import json

from coach.adapters.memory import MemoryObjectStore
from coach.campaign import Decisions, OutcomeRequest, build_report, outcome_label, record_outcome
from coach.models import ClientWork, MarketEvent


def work(client_id="C1", election="ask", reachable=5, batches=1):
    return ClientWork(
        client_id=client_id,
        client_name="Acme",
        affected=reachable + 2,
        reachable=reachable,
        election=election,
        batches_key=f"k/{client_id}/batches.json",
        batch_count=batches,
        contacts_key=f"k/{client_id}/contacts.json",
    )


def test_outcome_labels_follow_the_decisions():
    assert outcome_label(work(), Decisions(account_team="declined")) == "declined_by_account_team"
    assert (
        outcome_label(work(), Decisions(account_team="approved", client="no_response"))
        == "no_response_client"
    )
    assert (
        outcome_label(work(election="never"), Decisions(account_team="not_asked", client="auto"))
        == "election_never"
    )
    assert (
        outcome_label(work(election="always"), Decisions(account_team="approved", client="auto"))
        == "letters_sent"
    )
    assert (
        outcome_label(work(reachable=0, batches=0), Decisions(account_team="approved", client="approved"))
        == "no_reachable_members"
    )


def test_declined_client_merges_no_manifest():
    store, merged = MemoryObjectStore(), []

    def merge_manifest(*args):
        merged.append(args)
        return (9, 9)

    outcome = record_outcome(
        OutcomeRequest(campaign_id="c", client=work(), decisions=Decisions(account_team="declined")),
        store=store,
        data_bucket="d",
        letters_bucket="l",
        merge_manifest=merge_manifest,
    )
    assert outcome.letters == 0 and not merged


def test_report_totals_add_up_over_clients():
    store = MemoryObjectStore()
    clients = [work("C1"), work("C2", reachable=3)]
    store.put(
        "d", "campaigns/c/audience/clients.json", json.dumps([c.model_dump() for c in clients]).encode()
    )
    for c, letters in (("C1", (4, 1)), ("C2", (0, 0))):
        decisions = Decisions(account_team="approved", client="approved" if c == "C1" else "declined")
        record_outcome(
            OutcomeRequest(
                campaign_id="c", client=work(c, reachable=5 if c == "C1" else 3), decisions=decisions
            ),
            store=store,
            data_bucket="d",
            letters_bucket="l",
            merge_manifest=lambda *a, v=letters: v,
        )
    event = MarketEvent.model_validate(
        {
            "event_id": "e",
            "event_type": "otc_switch",
            "drug": {"name": "X", "ingredient": "x"},
            "effective_date": "2003-01-01",
            "announced_on": "2002-11-27",
            "summary": "s",
        }
    )
    report = build_report("c", event, store=store, data_bucket="d")
    assert report["totals"] == {"affected": 12, "reachable": 8, "letters": 5, "mailed": 4, "emailed": 1}
    assert [r["client_decision"] for r in report["clients"]] == ["approved", "declined"]
    assert json.loads(store.get("d", "campaigns/c/report.json")) == report


def test_the_report_of_a_reviewed_campaign_names_its_review_on_aws_too():
    """The summary task's report.json (what AWS keeps) carries who confirmed or corrected a feed's candidate."""
    from coach.adapters.memory import MemoryApprovalStore
    from coach.approvals.records import AuditAction, AuditRecord
    from coach.review.models import REVIEW_CLIENT, REVIEW_ROLE

    store, approvals = MemoryObjectStore(), MemoryApprovalStore()
    store.put("d", "campaigns/c/audience/clients.json", json.dumps([work("C1").model_dump()]).encode())
    record_outcome(
        OutcomeRequest(
            campaign_id="c",
            client=work("C1"),
            decisions=Decisions(account_team="approved", client="approved"),
        ),
        store=store,
        data_bucket="d",
        letters_bucket="l",
        merge_manifest=lambda *a: (1, 0),
    )
    event = MarketEvent.model_validate(
        {
            "event_id": "e",
            "event_type": "recall",
            "recall_class": "II",
            "drug": {"name": "X", "ingredient": "x"},
            "effective_date": "2003-01-01",
            "announced_on": "2002-11-27",
            "summary": "s",
        }
    )
    assert "review" not in build_report("c", event, store=store, data_bucket="d", approvals=approvals)
    trail: tuple[tuple[str, AuditAction], ...] = (
        ("2002-11-27T10:00:00.000000Z", "late_click"),
        ("2002-11-27T11:00:00.000000Z", "corrected"),
    )
    for at, action in trail:
        approvals.append_audit(
            AuditRecord(
                campaign_id="c",
                client_id=REVIEW_CLIENT,
                at=at,
                action=action,
                who="rph@pbm.example",
                role=REVIEW_ROLE,
                comment="NDC list corrected" if action == "corrected" else "",
                link_hash="ab" * 32,
            )
        )
    report = build_report("c", event, store=store, data_bucket="d", approvals=approvals)
    assert report["review"] == {
        "outcome": "corrected",
        "by": "rph@pbm.example",
        "at": "2002-11-27T11:00:00.000000Z",
        "notes": "NDC list corrected",
    }
    assert json.loads(store.get("d", "campaigns/c/report.json"))["review"] == report["review"]
