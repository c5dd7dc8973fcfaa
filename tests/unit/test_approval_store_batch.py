"""Several questions' links and decisions read together (ApprovalStore.groups_links, .decisions): the same records
one read at a time gives, on DynamoDB and in memory, in a few batch reads instead of two reads a question (the
report's approval timeline, a client's closed waits, the letters stage's approved templates)."""

from __future__ import annotations

from collections import Counter

import boto3
import pytest
from coach.adapters.aws import client
from coach.adapters.dynamodb import DynamoApprovalStore, table_definition
from coach.adapters.memory import MemoryApprovalStore
from coach.approvals.asking import new_link
from coach.approvals.delegation import Asked
from coach.approvals.records import DecisionRecord, group_of, iso
from coach.approvals.waits import close_waits
from coach.campaign import approval_timeline

from tests.unit.approval_fakes import NOW, approval_request

TABLE = "approvals"
CLIENTS = [f"C{n:03d}" for n in range(130)]  # more questions than one BatchGetItem call reads


@pytest.fixture(params=["dynamodb", "memory"])
def store(request, mocked_aws):
    if request.param == "memory":
        return MemoryApprovalStore()
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return DynamoApprovalStore(TABLE)


@pytest.fixture
def dynamo(mocked_aws):
    boto3.client("dynamodb").create_table(**table_definition(TABLE))
    return DynamoApprovalStore(TABLE)


def ask(store, client_id: str, *, role: str = "account_team", people: int = 1, at: float = NOW) -> list[str]:
    """Links for `people` people about one client; their hashes."""
    base = approval_request(role=role)  # type: ignore[arg-type]
    request = base.model_copy(update={"client": base.client.model_copy(update={"client_id": client_id})})
    hashes = []
    for n in range(people):
        _, link = new_link(request, Asked(f"p{n}@pbm.example", "internal"), now=at, asked_at=at)
        store.put_link(link)
        hashes.append(link.link_hash)
    return hashes


def decide(store, client_id: str, link: str, *, at: float, delivery: str = "delivered") -> None:
    group = group_of("cmp-1", client_id, "account_team")
    decision = DecisionRecord(
        group=group,
        campaign_id="cmp-1",
        client_id=client_id,
        role="account_team",
        decision="approved",
        decided_by="p0@pbm.example",
        decided_at=at,
        link_hash=link,
        task_token="t",
        attempt=0,
    )
    assert store.claim_decision(decision)
    if delivery != "pending":
        assert store.set_delivery(decision, delivery)


def test_groups_links_are_each_groups_links(store):
    ask(store, "C1", people=3)
    ask(store, "C2")
    groups = [group_of("cmp-1", c, "account_team") for c in ("C1", "C2", "C3")]
    together = store.groups_links([*groups, groups[0]])  # a group named twice is read once
    assert list(together) == groups
    for group in groups:
        assert [link.link_hash for link in together[group]] == [
            link.link_hash for link in store.group_links(group)
        ]
    assert [len(together[g]) for g in groups] == [3, 1, 0]
    assert together[groups[0]][0].recipient.endswith("@pbm.example")


def test_decisions_of_many_questions_leave_out_the_undecided(store):
    for n, client_id in enumerate(CLIENTS):
        if n % 3:
            decide(store, client_id, f"h{n}", at=NOW + n)
    groups = [group_of("cmp-1", c, "account_team") for c in CLIENTS]
    decided = store.decisions(groups + groups[:5])
    assert sorted(decided) == sorted(g for n, g in enumerate(groups) if n % 3)
    assert decided[groups[4]].link_hash == "h4" and decided[groups[4]].decided_at == NOW + 4


def calls(store_client) -> Counter[str]:
    """Counts the DynamoDB operations the adapter's (cached) client makes from now on."""
    seen: Counter[str] = Counter()
    store_client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: seen.update([model.name]), unique_id="count-calls"
    )
    return seen


def test_the_report_reads_a_campaigns_questions_in_a_few_batches_not_per_question(dynamo):
    for n, client_id in enumerate(CLIENTS):
        hashes = ask(dynamo, client_id, people=2, at=NOW + n)
        decide(dynamo, client_id, hashes[0], at=NOW + n + 60)
    seen = calls(client("dynamodb"))
    rows = approval_timeline("cmp-1", CLIENTS, dynamo)
    assert len(rows) == len(CLIENTS)  # every account team asked; no client was asked
    assert rows[7] == {
        "client_id": "C007",
        "role": "account_team",
        "asked_at": iso(NOW + 7),
        "reminders": 0,
        "escalations": 0,
        "decision": "approved",
        "decided_at": iso(NOW + 67),
        "response_seconds": 60.0,
        "decline_reason": None,
        "by_delegate": False,
    }
    # a Query per question for its links, then 260 links and 130 decisions in batches of 100; no GetItem
    assert seen == {"Query": 2 * len(CLIENTS), "BatchGetItem": 3 + 2}


def test_closing_a_clients_waits_reads_both_roles_links_together(dynamo):
    ask(dynamo, "C1", people=2)
    ask(dynamo, "C1", role="client")
    seen = calls(client("dynamodb"))
    assert close_waits("cmp-1", "C1", store=dynamo) == 3
    assert seen == {"Query": 2, "BatchGetItem": 1, "UpdateItem": 3}
    assert close_waits("cmp-1", "C1", store=dynamo) == 0


def test_keys_dynamodb_leaves_unprocessed_are_asked_again(dynamo, monkeypatch):
    for n, client_id in enumerate(CLIENTS[:10]):
        decide(dynamo, client_id, f"h{n}", at=NOW)
    real = client("dynamodb")

    class Throttled:
        """Answers the first BatchGetItem for half its keys, leaving the rest unprocessed, as DynamoDB may."""

        def __init__(self) -> None:
            self.batches = 0

        def __getattr__(self, name):
            return getattr(real, name)

        def batch_get_item(self, RequestItems):
            self.batches += 1
            if self.batches > 1:
                return real.batch_get_item(RequestItems=RequestItems)
            asked = RequestItems[TABLE]
            half = len(asked["Keys"]) // 2
            answered = real.batch_get_item(RequestItems={TABLE: asked | {"Keys": asked["Keys"][:half]}})
            return answered | {"UnprocessedKeys": {TABLE: asked | {"Keys": asked["Keys"][half:]}}}

    throttled = Throttled()
    monkeypatch.setattr(DynamoApprovalStore, "_db", staticmethod(lambda: throttled))
    groups = [group_of("cmp-1", c, "account_team") for c in CLIENTS[:10]]
    assert sorted(dynamo.decisions(groups)) == sorted(groups)
    assert throttled.batches == 2
