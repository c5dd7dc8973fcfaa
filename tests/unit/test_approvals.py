"""Approvals people can trust (DESIGN.md §4): what a scanner, a forger, a double click and a late click get."""

from __future__ import annotations

import json
import re

import pytest
from botocore.exceptions import ClientError

from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.approvals.records import link_hash
from coach.approvals.service import audit_trail, decide, request_approval, show
from coach.approvals.store import MemoryApprovalStore
from coach.models import DECLINED_ERROR, ApprovalRequest, ClientWork, MarketEvent

NOW = 1_000_000
TOKEN = "AAAA-task-token-secret-ZZZZ"
EVENT = MarketEvent.model_validate({
    "event_id": "e1", "event_type": "otc_switch", "drug": {"name": "Claritin", "ingredient": "loratadine"},
    "effective_date": "2003-01-01", "announced_on": "2002-11-27", "summary": "Loratadine goes over the counter."})


class Callbacks:
    def __init__(self, store=None, error_code=None):
        self.calls, self.store, self.error_code = [], store, error_code
        self.audit_seen_at_call = None

    def _record(self, kind, token, payload):
        if self.store is not None:
            self.audit_seen_at_call = len(self.store.audit("camp"))
        if self.error_code:
            raise ClientError({"Error": {"Code": self.error_code, "Message": "closed"}}, "SendTaskSuccess")
        self.calls.append((kind, token, payload))

    def succeed(self, token, output):
        self._record("success", token, output)

    def fail(self, token, error, cause):
        self._record("failure", token, {"error": error, "cause": cause})


def client_work(name="Acme Corp", affected=7, reachable=5):
    return ClientWork(client_id="C1", client_name=name, affected=affected, reachable=reachable, election="ask",
                      batches_key="k/b", batch_count=1, contacts_key="k/contacts.json")


@pytest.fixture
def world():
    store, mailer, objects = MemoryApprovalStore(), MemoryMailer(), MemoryObjectStore()
    objects.put("data", "k/contacts.json", json.dumps({
        "account_team_emails": ["ann@pbm.example", "bob@pbm.example"],
        "client_contact_emails": ["hr@acme.example"], "escalation_email": "vp@acme.example"}).encode())
    return store, mailer, objects


def ask(world, role="account_team", kind="ask", attempt=0, work=None, now=NOW, deadline=3600):
    store, mailer, objects = world
    request = ApprovalRequest(campaign_id="camp", client=work or client_work(), role=role, task_token=TOKEN,
                              event=EVENT, kind=kind, attempt=attempt, deadline_seconds=deadline)
    before = len(mailer.sent)
    request_approval(request, store=store, mailer=mailer, objects=objects, data_bucket="data",
                     sender="pharmacist@pbm.example", base_url="https://approve.example", now=now)
    return [re.search(r"https://approve\.example/a/([A-Za-z0-9_-]+)", e.text).group(1) for e in mailer.sent[before:]]


def csrf(page):
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.html)
    return found.group(1) if found else "no-form-on-page"


def post(store, link_id, decision="approve", token=None, callbacks=None, now=NOW + 10):
    page = show(link_id, store=store, now=now)
    form = {"decision": decision, "csrf_token": token if token is not None else csrf(page)}
    return decide(link_id, form, store=store, callbacks=callbacks or Callbacks(), now=now, source_ip="10.0.0.1",
                  user_agent="test")


def test_scanner_get_does_not_decide(world):
    store = world[0]
    link = ask(world)[0]
    for _ in range(5):
        page = show(link, store=store, now=NOW + 1)
        assert page.status == 200 and "Approve" in page.html
    assert store.get_decision("camp#C1#account_team") is None
    assert audit_trail("camp", store=store) == []


def test_one_link_per_recipient_and_only_the_hash_is_stored(world):
    store, mailer, _ = world
    links = ask(world)
    assert len(links) == 2 and len(set(links)) == 2
    assert sorted(e.to[0] for e in mailer.sent) == ["ann@pbm.example", "bob@pbm.example"]
    for link in links:
        assert len(link) >= 22  # ≥ 128 bits
        assert store.get_link(link_hash(link)) is not None
        assert not any(link in body for body in store.items.values())


def test_task_token_never_in_email_or_page(world):
    store, mailer, _ = world
    link = ask(world)[0]
    for email in mailer.sent:
        assert TOKEN not in email.text and TOKEN not in (email.html or "") and TOKEN not in email.subject
    assert TOKEN not in show(link, store=store, now=NOW).html
    assert TOKEN not in post(store, link).html


def test_forged_link_id_refused(world):
    store = world[0]
    ask(world)
    assert show("x" * 43, store=store, now=NOW).status == 404
    assert decide("x" * 43, {"decision": "approve", "csrf_token": "x"}, store=store, callbacks=Callbacks(),
                  now=NOW).status == 404


def test_post_without_csrf_refused(world):
    store = world[0]
    link = ask(world)[0]
    callbacks = Callbacks()
    page = decide(link, {"decision": "approve"}, store=store, callbacks=callbacks, now=NOW)
    assert page.status == 403 and not callbacks.calls
    assert store.get_decision("camp#C1#account_team") is None


def test_post_with_wrong_csrf_refused(world):
    store = world[0]
    first, second = ask(world)
    wrong = csrf(show(second, store=store, now=NOW))  # the other recipient's token
    callbacks = Callbacks()
    assert post(store, first, token=wrong, callbacks=callbacks).status == 403
    assert not callbacks.calls and store.get_decision("camp#C1#account_team") is None


def test_expired_link_refused_without_state_change(world):
    store = world[0]
    link = ask(world, deadline=60)[0]
    late = NOW + 60 + 301
    assert show(link, store=store, now=late).status == 410
    callbacks = Callbacks()
    page = decide(link, {"decision": "approve", "csrf_token": "anything"}, store=store, callbacks=callbacks, now=late)
    assert page.status == 410 and "expired" in page.html.lower()
    assert not callbacks.calls and store.get_decision("camp#C1#account_team") is None


def test_double_click_records_one_decision(world):
    store = world[0]
    link = ask(world)[0]
    callbacks = Callbacks()
    first = post(store, link, callbacks=callbacks)
    second = post(store, link, callbacks=callbacks)
    assert first.status == 200 and "you approved" in first.html
    assert second.status == 200 and "Already approved" in second.html
    assert len(callbacks.calls) == 1 and len(audit_trail("camp", store=store)) == 1


def test_first_decision_in_team_wins_others_see_who(world):
    store = world[0]
    ann, bob = ask(world)
    callbacks = Callbacks()
    post(store, ann, decision="decline", callbacks=callbacks)
    page = show(bob, store=store, now=NOW + 20)
    assert "Already declined" in page.html and "ann@pbm.example" in page.html
    assert "Already declined" in post(store, bob, callbacks=callbacks, token="irrelevant").html
    assert callbacks.calls == [("failure", TOKEN, {"error": DECLINED_ERROR, "cause": "account_team declined"})]


def test_reminder_supersedes_old_link(world):
    store = world[0]
    old = ask(world)[0]
    new = ask(world, kind="reminder", attempt=1)[0]
    page = show(old, store=store, now=NOW + 5)
    assert page.status == 410 and "replaced" in page.html
    assert post(store, new).status == 200


def test_task_timed_out_shows_clear_page(world):
    store = world[0]
    link = ask(world)[0]
    page = post(store, link, callbacks=Callbacks(error_code="TaskTimedOut"))
    assert page.status == 410 and "no longer waiting" in page.html
    assert [a.action for a in audit_trail("camp", store=store)] == ["approved", "task_closed"]
    assert show(link, store=store, now=NOW + 30).status == 410


def test_audit_written_before_callback(world):
    store = world[0]
    link = ask(world)[0]
    callbacks = Callbacks(store=store)
    post(store, link, callbacks=callbacks)
    assert callbacks.audit_seen_at_call == 1


def test_audit_trail_in_order(world):
    store = world[0]
    ask(world)
    ask(world, role="client")
    post(store, ask(world, kind="reminder", attempt=1)[0])
    post(store, ask(world, role="client", kind="reminder", attempt=1)[0], decision="decline")
    trail = audit_trail("camp", store=store)
    assert [(a.role, a.action) for a in trail] == [("account_team", "approved"), ("client", "declined")]
    assert trail[0].at < trail[1].at and trail[0].source_ip == "10.0.0.1"


def test_client_sees_fewer_than_11(world):
    store, mailer, _ = world
    link = ask(world, role="client", work=client_work(affected=7, reachable=3))[0]
    assert "fewer than 11" in mailer.sent[-1].text and "fewer than 11" in show(link, store=store, now=NOW).html
    assert " 7\n" not in mailer.sent[-1].text


def test_account_team_sees_exact_counts(world):
    _, mailer, _ = world
    ask(world, work=client_work(affected=7, reachable=3))
    assert "Members affected:  7" in mailer.sent[-1].text and "fewer than 11" not in mailer.sent[-1].text


def test_escalation_goes_to_the_escalation_contact(world):
    _, mailer, _ = world
    ask(world, kind="escalation", attempt=2)
    assert [e.to for e in mailer.sent] == [("vp@acme.example",)]
    assert mailer.sent[0].subject.startswith("Escalation")


def test_pages_escape_hostile_text(world):
    store, mailer, _ = world
    link = ask(world, work=client_work(name="<script>alert(1)</script>"))[0]
    html = show(link, store=store, now=NOW).html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<script>" not in (mailer.sent[-1].html or "")


def test_bad_decision_value_is_refused(world):
    store = world[0]
    link = ask(world)[0]
    page = decide(link, {"decision": "maybe", "csrf_token": csrf(show(link, store=store, now=NOW))}, store=store,
                  callbacks=Callbacks(), now=NOW)
    assert page.status == 400 and store.get_decision("camp#C1#account_team") is None
