"""After a POST, the follow-up (the decision counted, the question's trail archived) knows the question from the
page the POST returned: the link is read once per POST, and the archive holds the same records as before."""

from __future__ import annotations

from coach.adapters.memory import MemoryApprovalStore
from coach.approvals.records import link_hash
from coach.approvals.trail import after_decision

from tests.unit.approval_fakes import ACCOUNT_TEAM, NOW, Approvals, csrf_in


class CountingStore(MemoryApprovalStore):
    def __init__(self) -> None:
        super().__init__()
        self.link_reads: list[str] = []

    def get_link(self, link_hash: str):
        self.link_reads.append(link_hash)
        return super().get_link(link_hash)


class RecordingArchive:
    def __init__(self) -> None:
        self.records: list = []

    def archive_records(self, records):
        self.records += list(records)
        return [r.sort_key for r in records]

    def archive_campaign(self, records, campaign_id):
        raise AssertionError("a POST archives its question, never the campaign")


def test_a_posts_follow_up_archives_its_question_without_reading_the_link_again():
    store = CountingStore()
    world = Approvals(store=store)
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    page = world.post(link_id, {"csrf_token": _csrf(world, link_id), "decision": "approve"})
    assert page.status == 200 and page.question == ("cmp-1", "C1", "account_team")
    store.link_reads.clear()
    archive = RecordingArchive()
    follow_up = after_decision(
        link_id, store=store, archive=archive, now=NOW + 120, answered=True, question=page.question
    )
    assert follow_up.decided == ["approved"] and not follow_up.archive_failed
    assert [(r.action, r.who) for r in archive.records] == [("approved", ACCOUNT_TEAM[0])]
    assert store.link_reads == []


def test_without_the_question_the_follow_up_reads_the_link_and_archives_the_same():
    store = CountingStore()
    world = Approvals(store=store)
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    world.post(link_id, {"csrf_token": _csrf(world, link_id), "decision": "approve"})
    store.link_reads.clear()
    archive = RecordingArchive()
    follow_up = after_decision(link_id, store=store, archive=archive, now=NOW + 120, answered=True)
    assert follow_up.decided == ["approved"]
    assert [(r.action, r.who) for r in archive.records] == [("approved", ACCOUNT_TEAM[0])]
    assert store.link_reads == [link_hash(link_id)]


def test_a_post_to_an_unknown_link_names_no_question():
    world = Approvals()
    world.ask()
    page = world.post("x" * 43, {"csrf_token": "t", "decision": "approve"})
    assert page.status == 404 and page.question is None


def _csrf(world: Approvals, link_id: str) -> str:
    return csrf_in(world.open(link_id).html)
