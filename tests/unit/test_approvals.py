"""Approvals people can trust (docs/architecture.md, decision 4), with in-memory fakes."""

from __future__ import annotations

import pytest
from coach.adapters.memory import MemoryApprovalStore
from coach.approvals.pages import SECURITY_HEADERS
from coach.approvals.records import DecisionRecord, iso, link_hash
from coach.approvals.trail import audit_trail
from coach.audience.privacy import client_facing_count
from coach.models import DECLINED_ERROR

from tests.unit.approval_fakes import (
    ACCOUNT_TEAM,
    CLIENT_CONTACTS,
    ESCALATION,
    NOW,
    TOKEN,
    Approvals,
    AuditFirstCallbacks,
    ClosedCallbacks,
    approval_request,
    csrf_in,
    link_id_in,
)


def test_request_emails_one_link_per_account_team_member():
    world = Approvals()
    links = world.ask()
    assert sorted(links) == sorted(ACCOUNT_TEAM)
    email = world.mailer.sent[0]
    assert "Claritin" in email.subject and "Acme Corp" in email.subject
    assert "Decide by" in email.text and "https://approve.example.org/a/" in email.text
    assert email.idempotency_key == f"approval/cmp-1/C1/account_team/0/{email.to[0]}"


def test_only_the_hash_of_a_link_id_is_stored():
    world = Approvals()
    links = world.ask()
    assert len(set(links.values())) == len(ACCOUNT_TEAM)
    for link_id in links.values():
        assert len(link_id) >= 43  # 32 random bytes, URL-safe: 256 bits
        assert isinstance(world.store, MemoryApprovalStore)
        stored = repr(world.store.items)
        assert link_id not in stored and link_hash(link_id) in stored


def test_scanner_get_does_not_decide():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    for _ in range(3):  # Safe Links, Mimecast and Proofpoint all fetch it
        page = world.open(link_id)
        assert page.status == 200 and "Approve" in page.html and "Decline" in page.html
    assert world.callbacks.calls == []
    assert world.store.get_decision("cmp-1#C1#account_team") is None
    assert audit_trail("cmp-1", store=world.store) == []


def test_confirmation_page_says_who_what_how_many_and_when():
    world = Approvals()
    page = world.open(world.ask()[ACCOUNT_TEAM[0]])
    for fact in (
        "Clinical Programs",
        "Claritin",
        "over-the-counter",
        "January 15, 2027",
        "Acme Corp",
        "1,234",
        "1,002",
        "Decide by",
        'method="post"',
        'name="csrf_token"',
        '<label for="comment">',
        'lang="en"',
        'name="viewport"',
    ):
        assert fact in page.html, fact
    assert (
        "<script" not in page.html.lower() and "http" not in page.html.split("<body>")[1].split("</form>")[0]
    )
    assert page.headers["Cache-Control"] == "no-store" and page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Content-Security-Policy"].startswith(
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
    )
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_approve_records_audits_then_succeeds_the_task():
    world = Approvals()
    page = world.answer(world.ask()[ACCOUNT_TEAM[0]], comment="Fine by us")
    assert page.status == 200 and "you approved" in page.html
    assert world.callbacks.calls == [
        ("success", TOKEN, {"decision": "approved", "role": "account_team", "decided_at": iso(NOW + 120)})
    ]
    record = audit_trail("cmp-1", store=world.store)[0]
    assert (record.action, record.who, record.role, record.comment) == (
        "approved",
        ACCOUNT_TEAM[0],
        "account_team",
        "Fine by us",
    )
    assert (record.source_ip, record.user_agent) == ("203.0.113.9", "Mozilla/5.0 (test)")


def test_decline_fails_the_task_with_the_declined_error():
    world = Approvals()
    page = world.answer(world.ask()[ACCOUNT_TEAM[0]], "decline")
    assert page.status == 200 and "you declined" in page.html
    assert world.callbacks.calls == [
        ("failure", TOKEN, {"error": DECLINED_ERROR, "cause": "account_team declined"})
    ]


def test_forged_link_id_refused():
    world = Approvals()
    real = world.ask()[ACCOUNT_TEAM[0]]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for link_id in (forged, "x", "A" * 5000):
        assert world.open(link_id).status == 404
        assert world.post(link_id, {"csrf_token": "x", "decision": "approve"}).status == 404
    assert world.callbacks.calls == []


def test_expired_link_refused_without_state_change():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    csrf = csrf_in(world.open(link_id).html)
    late = NOW + 3600 + 301  # deadline plus grace
    assert world.open(link_id, now=late).status == 410
    page = world.post(link_id, {"csrf_token": csrf, "decision": "approve"}, now=late)
    assert page.status == 410 and "expired" in page.html
    assert world.callbacks.calls == [] and audit_trail("cmp-1", store=world.store) == []
    assert world.store.get_decision("cmp-1#C1#account_team") is None


def test_post_without_csrf_refused():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    page = world.post(link_id, {"decision": "approve"})
    assert page.status == 403
    assert world.callbacks.calls == [] and world.store.get_decision("cmp-1#C1#account_team") is None
    assert world.open(link_id).status == 200  # still usable from the real page


def test_post_with_wrong_csrf_refused():
    world = Approvals()
    links = world.ask()
    other_pages_token = csrf_in(world.open(links[ACCOUNT_TEAM[1]]).html)  # a token, but of another link
    page = world.answer(links[ACCOUNT_TEAM[0]], csrf=other_pages_token)
    assert page.status == 403
    assert world.callbacks.calls == [] and audit_trail("cmp-1", store=world.store) == []


def test_post_without_a_choice_records_nothing():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    assert world.answer(link_id, "maybe").status == 400
    assert world.answer(link_id, comment="x" * 1001).status == 400
    assert world.callbacks.calls == [] and world.store.get_decision("cmp-1#C1#account_team") is None


def test_double_click_records_one_decision():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    csrf = csrf_in(world.open(link_id).html)
    first = world.post(link_id, {"csrf_token": csrf, "decision": "approve"})
    second = world.post(link_id, {"csrf_token": csrf, "decision": "approve"}, now=NOW + 121)
    assert first.status == 200 and second.status == 200
    assert "Already approved" in second.html and ACCOUNT_TEAM[0] in second.html
    assert len(world.callbacks.calls) == 1
    assert [r.action for r in audit_trail("cmp-1", store=world.store)] == ["approved"]


class ReadBeforeTheWinner:
    """A store whose next decision read misses the decision a concurrent click records right after it."""

    def __init__(self, store, winner):
        self.store, self.winner, self.missed = store, winner, False

    def __getattr__(self, name):
        return getattr(self.store, name)

    def get_decision(self, group):
        found = self.store.get_decision(group)
        if not self.missed:
            self.missed = True
            self.store.claim_decision(self.winner)  # the other click records, and is still delivering
        return found


def team_decision(decided_by: str, at: float = NOW) -> DecisionRecord:
    return DecisionRecord(
        group="cmp-1#C1#account_team",
        campaign_id="cmp-1",
        client_id="C1",
        role="account_team",
        decision="declined",
        decided_by=decided_by,
        decided_at=at,
        link_hash="winner",
        task_token=TOKEN,
        attempt=0,
    )


def test_a_click_that_loses_the_race_to_record_sees_the_winners_decision_not_a_dead_link():
    world = Approvals()
    links = world.ask()
    ann, bob = ACCOUNT_TEAM
    csrf = csrf_in(world.open(links[ann]).html)
    world.store = ReadBeforeTheWinner(world.store, team_decision(bob))
    page = world.post(links[ann], {"csrf_token": csrf, "decision": "approve"}, now=NOW + 60)
    assert page.status == 200, page.html
    assert "Already declined" in page.html and bob in page.html
    assert world.callbacks.calls == []  # the winner passes on its own decision; the loser passes nothing on


def test_a_decision_still_being_delivered_is_shown_on_the_page_not_the_form_again():
    world = Approvals()
    links = world.ask()
    ann, bob = ACCOUNT_TEAM
    world.store.claim_decision(team_decision(bob))  # recorded, delivery still pending
    page = world.open(links[ann], now=NOW + 600)
    assert page.status == 200 and "Already declined" in page.html and 'name="csrf_token"' not in page.html


def test_first_decision_in_team_wins_others_see_who():
    world = Approvals()
    links = world.ask()
    ann, bob = ACCOUNT_TEAM
    bob_csrf = csrf_in(world.open(links[bob]).html)  # Bob opened the page before Ann decided
    assert world.answer(links[ann], "decline").status == 200
    late = world.post(links[bob], {"csrf_token": bob_csrf, "decision": "approve"}, now=NOW + 200)
    assert late.status == 200 and "Already declined" in late.html and ann in late.html
    assert world.open(links[bob], now=NOW + 300).html.count(ann) >= 1
    assert world.callbacks.calls == [
        ("failure", TOKEN, {"error": DECLINED_ERROR, "cause": "account_team declined"})
    ]


def test_reminder_supersedes_old_link():
    world = Approvals()
    old = world.ask()[ACCOUNT_TEAM[0]]
    new = world.ask(approval_request(kind="reminder", attempt=1, token=TOKEN + "-2"), now=NOW + 3600)
    page = world.open(old, now=NOW + 3700)
    assert page.status == 410 and "replaced by a newer email" in page.html
    assert world.answer(old, now=NOW + 3700, csrf="anything").status == 410
    assert "Reminder" in world.mailer.sent[-1].subject
    assert world.answer(new[ACCOUNT_TEAM[0]], now=NOW + 3700).status == 200
    assert world.callbacks.calls[0][1] == TOKEN + "-2"


def test_escalation_asks_the_escalation_contact_with_client_counts():
    world = Approvals()
    links = world.ask(approval_request(kind="escalation", attempt=2, affected=7, reachable=5))
    assert set(links) == {*ACCOUNT_TEAM, ESCALATION}
    escalation_email = next(e for e in world.mailer.sent if e.to == (ESCALATION,))
    assert escalation_email.subject.startswith("Escalation") and "escalation contact" in escalation_email.text
    assert "fewer than 11" in escalation_email.text and " 7\n" not in escalation_email.text
    page = world.open(links[ESCALATION])
    assert "You are the escalation contact" in page.html


def test_task_timed_out_shows_clear_page():
    world = Approvals(callbacks=ClosedCallbacks("TaskTimedOut"))
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    page = world.answer(link_id)
    assert page.status == 410 and "no longer waiting" in page.html
    assert [r.action for r in audit_trail("cmp-1", store=world.store)] == ["approved", "task_closed"]
    again = world.open(link_id, now=NOW + 130)
    assert again.status == 410 and "no longer waiting" in again.html


@pytest.mark.parametrize("code", ["TaskDoesNotExist", "InvalidToken"])
def test_closed_task_codes_show_the_same_page(code):
    world = Approvals(callbacks=ClosedCallbacks(code))
    assert world.answer(world.ask()[ACCOUNT_TEAM[0]]).status == 410


def test_a_reminder_can_be_answered_after_a_too_late_click():
    world = Approvals(callbacks=ClosedCallbacks())
    world.answer(world.ask()[ACCOUNT_TEAM[0]])  # the wait had already timed out
    world.callbacks = AuditFirstCallbacks(world.store)
    fresh = world.ask(approval_request(kind="reminder", attempt=1, token=TOKEN + "-2"), now=NOW + 3600)
    assert world.answer(fresh[ACCOUNT_TEAM[1]], now=NOW + 3700).status == 200
    assert world.callbacks.calls[0][:2] == ("success", TOKEN + "-2")


def test_audit_written_before_callback():
    world = Approvals()
    world.callbacks = AuditFirstCallbacks(world.store)
    assert world.answer(world.ask()[ACCOUNT_TEAM[0]]).status == 200
    assert world.callbacks.audit_seen == [1]


def test_audit_trail_in_order():
    world = Approvals()
    team_link = world.ask()[ACCOUNT_TEAM[0]]
    client_link = world.ask(approval_request(role="client"), now=NOW + 10)[CLIENT_CONTACTS[0]]
    world.answer(team_link, now=NOW + 500)
    world.answer(client_link, "decline", now=NOW + 100.5)  # written later, happened earlier: sorts first
    world.post(client_link, {"csrf_token": "stale", "decision": "approve"}, now=NOW + 900)  # records nothing
    trail = audit_trail("cmp-1", store=world.store)
    assert [(r.role, r.action) for r in trail] == [("client", "declined"), ("account_team", "approved")]
    assert [r.at for r in trail] == sorted(r.at for r in trail)


def test_task_token_never_in_email_or_page():
    world = Approvals()
    links = world.ask()
    pages = [
        world.open(links[ACCOUNT_TEAM[0]]),
        world.answer(links[ACCOUNT_TEAM[0]]),
        world.open(links[ACCOUNT_TEAM[1]]),
    ]
    texts = [e.text + (e.html or "") + e.subject + repr(e.tags) for e in world.mailer.sent]
    texts += [p.html + repr(p.headers) for p in pages]
    assert all(TOKEN not in text and TOKEN[:20] not in text for text in texts)


def test_client_sees_fewer_than_11():
    world = Approvals()
    links = world.ask(approval_request(role="client", affected=9, reachable=3))
    assert set(links) == set(CLIENT_CONTACTS)
    email = world.mailer.sent[0]
    page = world.open(links[CLIENT_CONTACTS[0]])
    for text in (email.text, email.html or "", page.html):
        assert "fewer than 11" in text
        assert ">9<" not in text and ">3<" not in text and ": 9\n" not in text


def test_account_team_sees_exact_counts():
    world = Approvals()
    links = world.ask(approval_request(affected=9, reachable=3))
    page = world.open(links[ACCOUNT_TEAM[0]])
    assert "<dd>9</dd>" in page.html and "<dd>3</dd>" in page.html and "fewer than" not in page.html
    assert "Members affected:  9\n" in world.mailer.sent[0].text


@pytest.mark.parametrize(
    ("count", "shown"), [(0, "0"), (1, "fewer than 11"), (10, "fewer than 11"), (11, "11"), (12345, "12,345")]
)
def test_client_facing_count(count, shown):
    assert client_facing_count(count) == shown


def test_pages_escape_hostile_text():
    world = Approvals()
    hostile = '<script>alert("x")</script> & Co'
    links = world.ask(approval_request(client_name=hostile))
    page = world.open(links[ACCOUNT_TEAM[0]])
    assert "<script>" not in page.html and "&lt;script&gt;" in page.html
    assert "<script>" not in (world.mailer.sent[0].html or "")
    answered = world.answer(links[ACCOUNT_TEAM[0]], comment='"><img src=x onerror=alert(1)>')
    assert "<img" not in answered.html


def test_every_page_sends_the_security_headers():
    world = Approvals()
    link_id = world.ask()[ACCOUNT_TEAM[0]]
    for page in (world.open(link_id), world.open("nope" * 10), world.post(link_id, {})):
        assert {k: page.headers[k] for k in SECURITY_HEADERS} == SECURITY_HEADERS


def test_a_retried_ask_after_a_throttle_keeps_the_links_already_emailed_working():
    """Step Functions gives the retried attempt a new task token; the recipient emailed before the throttle keeps
    the link from that email (the ledger does not send it again), and that link must reach the new wait."""
    from coach.adapters.mail import Throttling
    from coach.adapters.memory import MemoryMailer

    class ThrottlesOnce(MemoryMailer):
        def __init__(self) -> None:
            super().__init__()
            self.throttled = False

        def send(self, email):
            if len(self.sent) == 1 and not self.throttled:
                self.throttled = True
                raise Throttling("Maximum sending rate exceeded.")
            return super().send(email)

    world = Approvals(mailer=ThrottlesOnce())
    with pytest.raises(Throttling):
        world.ask(approval_request(token="token-attempt-1"))
    [first_email] = world.mailer.sent
    kept_link = link_id_in(first_email.text)

    world.ask(approval_request(token="token-attempt-2"))  # the Retry: same step, same attempt, new token
    assert [e.to[0] for e in world.mailer.sent].count(first_email.to[0]) == 1  # not emailed twice
    assert sorted(e.to[0] for e in world.mailer.sent) == sorted(ACCOUNT_TEAM)

    assert world.answer(kept_link).status == 200
    assert [(kind, token) for kind, token, _ in world.callbacks.calls] == [("success", "token-attempt-2")]
