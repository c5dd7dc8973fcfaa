"""DynamoApprovalStore against moto: the conditional writes that make approvals single-use really hold."""

from __future__ import annotations

import boto3
import pytest
from coach.adapters.dynamodb import DynamoApprovalStore, table_definition
from coach.approvals.records import AuditAction, AuditRecord, DecisionRecord, iso, link_hash
from coach.approvals.trail import audit_trail

from tests.unit.approval_fakes import (
    ACCOUNT_TEAM,
    NOW,
    TOKEN,
    Approvals,
    AuditFirstCallbacks,
    ClosedCallbacks,
    approval_request,
)

TABLE = "approvals"
GROUP = "cmp-1#C1#account_team"


@pytest.fixture
def store(mocked_aws):
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return DynamoApprovalStore(TABLE)


def scan() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName=TABLE)["Items"]


def decision(link: str = "h1", token: str = TOKEN, at: float = NOW) -> DecisionRecord:
    return DecisionRecord(
        group=GROUP,
        campaign_id="cmp-1",
        client_id="C1",
        role="account_team",
        decision="approved",
        decided_by=ACCOUNT_TEAM[0],
        decided_at=at,
        link_hash=link,
        task_token=token,
        attempt=0,
    )


def test_link_item_holds_the_hash_and_readable_fields_never_the_link_id(store):
    world = Approvals(store=store)
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    item = boto3.client("dynamodb").get_item(
        TableName=TABLE, Key={"pk": {"S": f"link#{link_hash(link_id)}"}, "sk": {"S": "link"}}
    )["Item"]
    assert item["group"]["S"] == GROUP and item["state"]["S"] == "pending"
    assert item["recipient"]["S"] == ACCOUNT_TEAM[0] and item["affected"]["N"] == "1234"
    assert int(item["expires_at"]["N"]) == int(NOW) + 3600 + 300 and "ttl" in item
    assert link_id not in repr(scan())


def test_first_decision_wins_by_conditional_write(store):
    assert store.claim_decision(decision("h1"))
    assert not store.claim_decision(decision("h2"))
    stored = store.get_decision(GROUP)
    assert stored is not None and stored.link_hash == "h1" and stored.delivery == "pending"


def test_delivery_changes_only_from_pending_for_the_same_decision(store):
    store.claim_decision(decision("h1"))
    assert not store.set_delivery(decision("other"), "delivered")
    assert store.set_delivery(decision("h1"), "delivered")
    assert not store.set_delivery(decision("h1"), "closed")
    stored = store.get_decision(GROUP)
    assert stored is not None and stored.delivery == "delivered"


def test_reopen_forgets_only_an_undelivered_decision_of_an_older_wait(store):
    store.claim_decision(decision("h1", token="old"))
    assert not store.reopen(GROUP, "old")  # same wait: keep it
    store.set_delivery(decision("h1", token="old"), "closed")
    assert store.reopen(GROUP, "new")
    assert store.get_decision(GROUP) is None
    store.claim_decision(decision("h2", token="new"))
    store.set_delivery(decision("h2", token="new"), "delivered")
    assert not store.reopen(GROUP, "newer")


def test_supersede_only_pending_links(store):
    world = Approvals(store=store)
    links = world.ask()
    first = link_hash(links[ACCOUNT_TEAM[0]])
    assert store.supersede(first) and not store.supersede(first)
    assert {link.link_hash for link in store.group_links(GROUP)} == {link_hash(v) for v in links.values()}


def test_audit_is_append_only_and_in_time_order(store):
    def record(at: float, action: AuditAction = "approved") -> AuditRecord:
        return AuditRecord(
            campaign_id="cmp-1",
            client_id="C1",
            at=iso(at),
            action=action,
            who=ACCOUNT_TEAM[0],
            role="account_team",
            link_hash="ab" * 32,
        )

    assert store.append_audit(record(NOW + 5))
    assert store.append_audit(record(NOW + 1, "declined"))
    assert not store.append_audit(record(NOW + 5, "declined"))  # never overwritten
    assert [(r.at, r.action) for r in store.audit("cmp-1")] == [
        (iso(NOW + 1), "declined"),
        (iso(NOW + 5), "approved"),
    ]


def test_whole_flow_on_dynamodb(store):
    world = Approvals(store=store)
    world.callbacks = AuditFirstCallbacks(store)
    links = world.ask()
    ann, bob = ACCOUNT_TEAM
    assert world.open(links[ann]).status == 200
    assert world.answer(links[ann]).status == 200
    assert "Already approved" in world.open(links[bob], now=NOW + 130).html
    assert "Already approved" in world.answer(links[ann], csrf="resubmitted", now=NOW + 131).html
    assert len(world.callbacks.calls) == 1
    assert [r.action for r in audit_trail("cmp-1", store=store)] == ["approved"]
    link = store.get_link(link_hash(links[ann]))
    assert link is not None and link.state == "approved"


def test_closed_task_then_reminder_on_dynamodb(store):
    world = Approvals(store=store, callbacks=ClosedCallbacks())
    old = world.ask()[ACCOUNT_TEAM[0]]
    assert world.answer(old).status == 410
    world.callbacks = AuditFirstCallbacks(store)
    fresh = world.ask(approval_request(kind="reminder", attempt=1, token=TOKEN + "-2"), now=NOW + 3600)
    assert world.open(old, now=NOW + 3601).status == 410
    assert world.answer(fresh[ACCOUNT_TEAM[1]], "decline", now=NOW + 3700).status == 200
    assert [r.action for r in audit_trail("cmp-1", store=store)] == ["approved", "task_closed", "declined"]


def test_retarget_only_pending_links(store):
    world = Approvals(store=store)
    links = world.ask()
    first, second = (link_hash(links[a]) for a in ACCOUNT_TEAM[:2])
    assert store.retarget(first, "token-of-the-retry")
    assert store.get_link(first).task_token == "token-of-the-retry"
    assert store.supersede(second) and not store.retarget(second, "token-of-the-retry")
    assert store.get_link(second).task_token == TOKEN


def _record(client_id: str, role: str, at: float, action: AuditAction = "approved") -> AuditRecord:
    return AuditRecord(
        campaign_id="cmp-1",
        client_id=client_id,
        at=iso(at),
        action=action,
        who=f"{role}@{client_id.lower()}.example",
        role=role,
        link_hash=f"{client_id}{role}".ljust(64, "0"),
    )


TRAIL = [
    _record("C2", "client", NOW + 4),
    _record("C1", "account_team", NOW + 3, "declined"),
    _record("C1", "client", NOW + 1),
    _record("C1", "account_team", NOW + 2),
    _record("C1#X", "account_team", NOW + 5),  # an id that extends another's: not that client's question
]


@pytest.fixture(params=["dynamodb", "memory"])
def either_store(request, store):
    from coach.adapters.memory import MemoryApprovalStore

    return store if request.param == "dynamodb" else MemoryApprovalStore()


def test_one_questions_records_in_time_order_and_the_campaign_trail_too(either_store):
    for record in TRAIL:
        assert either_store.append_audit(record)
    assert [(r.action, r.at) for r in either_store.question_audit("cmp-1", "C1", "account_team")] == [
        ("approved", iso(NOW + 2)),
        ("declined", iso(NOW + 3)),
    ]
    assert [r.at for r in either_store.question_audit("cmp-1", "C1", "client")] == [iso(NOW + 1)]
    assert either_store.question_audit("cmp-1", "C3", "client") == []
    assert either_store.question_audit("cmp-2", "C1", "client") == []
    assert [(r.client_id, r.at) for r in either_store.audit("cmp-1")] == [
        ("C1", iso(NOW + t)) for t in (1, 2, 3)
    ] + [("C2", iso(NOW + 4)), ("C1#X", iso(NOW + 5))]


def test_a_questions_records_are_one_key_range_of_the_table(store):
    """Reading one question is a Query on its key range, not a read of the campaign's partition then a filter."""
    for record in TRAIL:
        store.append_audit(record)
    page = boto3.client("dynamodb").query(
        TableName=TABLE,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :q)",
        ExpressionAttributeValues={":pk": {"S": "audit#cmp-1"}, ":q": {"S": "client#C1#"}},
    )
    assert [item["client_id"]["S"] for item in page["Items"]] == ["C1"]
