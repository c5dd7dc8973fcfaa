"""A closed wait closes its links: once a client's branch has ended, a click is told the request no longer waits,
is never taken as a decision, and never calls the workflow back (issue: a late click was thanked)."""

from __future__ import annotations

from coach.approvals.records import DecisionRecord
from coach.approvals.trail import audit_trail
from coach.approvals.waits import close_waits
from coach.campaign import approval_timeline

from tests.unit.approval_fakes import (
    ACCOUNT_TEAM,
    CLIENT_CONTACTS,
    Approvals,
    ClosedCallbacks,
    approval_request,
)

GROUP = "cmp-1#C1#account_team"


def asked_then_closed() -> tuple[Approvals, dict[str, str], str]:
    world = Approvals()
    links = world.ask()
    csrf_page = world.open(links[ACCOUNT_TEAM[0]])  # the form was open in a browser before the wait closed
    assert close_waits("cmp-1", "C1", store=world.store) == len(ACCOUNT_TEAM)
    return world, links, csrf_page.html


def test_a_closed_link_shows_no_longer_waiting_and_no_form():
    world, links, _ = asked_then_closed()
    page = world.open(links[ACCOUNT_TEAM[0]])
    assert page.status == 410
    assert "This request is no longer waiting for an answer" in page.html
    assert 'name="csrf_token"' not in page.html and "Approve" not in page.html


def test_a_click_on_a_closed_link_is_refused_recorded_as_late_and_never_a_decision():
    from tests.unit.approval_fakes import csrf_in

    world, links, html = asked_then_closed()
    form = {"csrf_token": csrf_in(html), "decision": "approve", "comment": "sorry, was away"}
    page = world.post(links[ACCOUNT_TEAM[0]], form)
    assert page.status == 410 and "no longer waiting" in page.html and "Thank you" not in page.html
    assert world.store.get_decision(GROUP) is None
    assert world.callbacks.calls == []
    trail = audit_trail("cmp-1", store=world.store)
    assert [(r.action, r.who) for r in trail] == [("late_click", ACCOUNT_TEAM[0])]
    assert "attempted to approve" in trail[0].comment and "sorry, was away" in trail[0].comment


def test_a_forged_post_on_a_closed_link_records_nothing():
    world, links, _ = asked_then_closed()
    page = world.post(links[ACCOUNT_TEAM[0]], {"csrf_token": "forged", "decision": "approve"})
    assert page.status == 410
    assert audit_trail("cmp-1", store=world.store) == [] and world.callbacks.calls == []


def test_closing_leaves_answered_groups_showing_their_decision():
    world = Approvals()
    links = world.ask()
    assert world.answer(links[ACCOUNT_TEAM[0]]).status == 200
    close_waits("cmp-1", "C1", store=world.store)  # the teammate's link was still pending
    page = world.open(links[ACCOUNT_TEAM[1]])
    assert "Already approved" in page.html
    assert close_waits("cmp-1", "C1", store=world.store) == 0  # nothing left pending


def test_closing_covers_both_roles_and_only_this_client():
    world = Approvals()
    world.ask()
    client_links = world.ask(approval_request(role="client", token="client-token"))
    assert sorted(client_links) == CLIENT_CONTACTS
    assert close_waits("cmp-1", "C2", store=world.store) == 0
    assert close_waits("cmp-1", "C1", store=world.store) == len(ACCOUNT_TEAM) + len(CLIENT_CONTACTS)
    assert world.store.open_links() == []


def test_a_decision_the_workflow_never_took_does_not_count_in_the_report():
    world = Approvals(callbacks=ClosedCallbacks("TaskTimedOut"))
    links = world.ask()
    assert world.answer(links[ACCOUNT_TEAM[0]]).status == 410  # the race: clicked as the wait timed out
    decision = world.store.get_decision(GROUP)
    assert isinstance(decision, DecisionRecord) and decision.delivery == "closed"
    rows = approval_timeline("cmp-1", ["C1"], world.store)
    assert [(r["role"], r["decision"], r["decided_at"]) for r in rows] == [
        ("account_team", "no_response", None)
    ]
