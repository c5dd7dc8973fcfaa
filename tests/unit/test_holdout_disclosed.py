"""The client is told, in the approval email and on the page, that a holdout is used and how large it is (client
counts follow the small-cell rule); a campaign without a holdout says nothing about one."""

from __future__ import annotations

from tests.unit.approval_fakes import CLIENT_CONTACTS, Approvals, approval_request


def held(request, count: int):
    return request.model_copy(update={"client": request.client.model_copy(update={"held_out": count})})


def test_the_client_email_and_page_say_how_many_members_are_held_out():
    world = Approvals()
    links = world.ask(held(approval_request(role="client", affected=200, reachable=150), 30))
    email = world.mailer.sent[0]
    page = world.open(links[CLIENT_CONTACTS[0]])
    assert "Held out:          30 of them get no letter: a random holdout" in email.text
    assert "30 of them get no letter" in (email.html or "") and "30 of them get no letter" in page.html


def test_a_small_holdout_reads_fewer_than_11_for_the_client():
    world = Approvals()
    world.ask(held(approval_request(role="client", affected=200, reachable=150), 4))
    assert "Held out:          fewer than 11 of them get no letter" in world.mailer.sent[0].text


def test_no_holdout_no_mention():
    world = Approvals()
    links = world.ask(approval_request(role="client", affected=200, reachable=150))
    page = world.open(links[CLIENT_CONTACTS[0]])
    assert "holdout" not in world.mailer.sent[0].text and "holdout" not in page.html
