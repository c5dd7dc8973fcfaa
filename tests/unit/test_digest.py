"""One email per person: asks collected by the timing rule, one page deciding each client by its own link, a reason
for every decline, delegates, and a thank-you page that says what truly happens next."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import urljoin, urlsplit

from coach.adapters.memory import (
    MemoryApprovalStore,
    MemoryCallbacks,
    MemoryDigestScheduler,
    MemoryDigestStore,
    MemoryMailer,
    MemoryObjectStore,
)
from coach.approvals.deciding import decide
from coach.approvals.delegation import Delegation
from coach.approvals.digest import Timing, queue_request, send_due
from coach.approvals.digest_records import person_key
from coach.approvals.digest_service import decide_digest, show_digest, show_row
from coach.approvals.records import group_of
from coach.models import ApprovalRequest

from tests.unit.approval_fakes import BASE_URL, BUCKET, CSRF, NOW, SENDER, approval_request, http_api_event
from tests.unit.test_approval_handlers import api, aws, call  # noqa: F401 (fixtures)

TEAM = "pat@pbm.example"
DIGEST = re.compile(r"/d/([A-Za-z0-9_-]{20,})")
SINGLE = re.compile(r"/a/([A-Za-z0-9_-]{20,})")
TIMING = Timing(quiet=60, max_delay=300)
LETTERS = "letters"  # the letters bucket the approval API reads (LETTERS_BUCKET in tests/conftest.py)


class World:
    def __init__(self) -> None:
        self.store = MemoryApprovalStore()
        self.digests = MemoryDigestStore()
        self.scheduler = MemoryDigestScheduler()
        self.mailer = MemoryMailer()
        self.objects = MemoryObjectStore()
        self.callbacks = MemoryCallbacks()

    def request(
        self, client_id: str, *, attempt: int = 0, kind: str = "ask", **contacts: object
    ) -> ApprovalRequest:
        base = approval_request(token=f"token-{client_id}-{attempt}", attempt=attempt, kind=kind)  # type: ignore[arg-type]
        key = f"campaigns/cmp-1/audience/{client_id}/contacts.json"
        people = {"account_team_emails": [TEAM], "client_contact_emails": ["b@x.example"], **contacts}
        self.objects.put(BUCKET, key, json.dumps(people).encode())
        client = base.client.model_copy(
            update={"client_id": client_id, "client_name": f"Plan {client_id}", "contacts_key": key}
        )
        return base.model_copy(update={"client": client, "ask_client": True})

    def ask(self, request: ApprovalRequest, now: float, letters_bucket: str | None = None) -> list[str]:
        return queue_request(
            request,
            store=self.store,
            digests=self.digests,
            scheduler=self.scheduler,
            objects=self.objects,
            data_bucket=BUCKET,
            timing=TIMING,
            now=now,
            letters_bucket=letters_bucket,
        )

    def wake(self, recipient: str, now: float):
        return send_due(
            person_key(recipient, "cmp-1"),
            store=self.store,
            digests=self.digests,
            mailer=self.mailer,
            sender=SENDER,
            base_url=BASE_URL,
            timing=TIMING,
            now=now,
        )

    def post(self, digest_id: str, form: dict[str, str], now: float):
        return decide_digest(
            digest_id, form, store=self.store, digests=self.digests, callbacks=self.callbacks, now=now
        )


def asked_together(world: World, clients=("C1", "C2", "C3"), letters_bucket: str | None = None) -> str:
    for n, client_id in enumerate(clients):
        world.ask(world.request(client_id), NOW + n, letters_bucket)
    world.wake(TEAM, NOW + len(clients) + TIMING.quiet)
    (email,) = world.mailer.sent
    match = DIGEST.search(email.text)
    assert match
    return match.group(1)


def test_asks_arriving_together_are_one_email_listing_every_client():
    world = World()
    for n, client_id in enumerate(("C1", "C2", "C3")):
        world.ask(world.request(client_id), NOW + n * 10)
    assert [delay for _, delay, _ in world.scheduler.wakeups] == [60, 60, 60]
    # the first ask's wake-up comes while others still arrive: nothing is sent yet
    assert world.wake(TEAM, NOW + 60).waiting and not world.mailer.sent
    sent = world.wake(TEAM, NOW + 20 + 60)
    assert sent.emails == 1 and len(world.mailer.sent) == 1
    email = world.mailer.sent[0]
    assert email.to == (TEAM,) and email.subject == "Decisions needed: 3 clients"
    for client_id in ("C1", "C2", "C3"):
        assert f"Plan {client_id} ({client_id})" in email.text
    assert "Members affected: 1,234; reachable: 1,002" in email.text
    assert world.wake(TEAM, NOW + 200).emails == 0, "sent once: the queue is empty now"


def test_asks_that_keep_coming_are_sent_at_the_max_delay():
    world = World()
    for n in range(7):  # one every 50 s: never quiet for 60 s
        world.ask(world.request(f"C{n}"), NOW + n * 50)
    assert world.wake(TEAM, NOW + 299).waiting
    assert world.wake(TEAM, NOW + 300).emails == 1
    assert world.mailer.sent[0].subject == "Decisions needed: 7 clients"


def test_a_single_ask_is_the_clients_own_email():
    world = World()
    world.ask(world.request("C1"), NOW)
    world.wake(TEAM, NOW + 60)
    (email,) = world.mailer.sent
    assert SINGLE.search(email.text) and not DIGEST.search(email.text)
    assert "Plan C1" in email.subject


def test_a_reminder_replaces_its_queued_ask():
    world = World()
    world.ask(world.request("C1"), NOW)
    world.ask(world.request("C2"), NOW)
    world.ask(world.request("C1", attempt=1, kind="reminder"), NOW + 5)
    world.wake(TEAM, NOW + 65)
    (email,) = world.mailer.sent
    assert email.subject == "Reminder: decisions needed: 2 clients"
    assert email.text.count("Plan C1 (C1)") == 1


def test_the_page_lists_every_client_and_opening_it_decides_nothing():
    world = World()
    digest_id = asked_together(world)
    page = show_digest(digest_id, store=world.store, digests=world.digests, now=NOW + 100)
    assert page.status == 200
    for client_id in ("C1", "C2", "C3"):
        assert f"Plan {client_id} ({client_id})" in page.html
        assert f'href="/d/{digest_id}/' in page.html
    one = show_row(digest_id, "1", store=world.store, digests=world.digests, now=NOW + 100)
    assert one.status == 200 and "Plan C2" in one.html
    assert not world.callbacks.calls and not world.store.audit("cmp-1")


def test_approve_all_but_one_decides_each_client_by_its_own_token_and_audit():
    world = World()
    digest_id = asked_together(world)
    page = show_digest(digest_id, store=world.store, digests=world.digests, now=NOW + 100)
    csrf = CSRF.search(page.html).group(1)  # type: ignore[union-attr]
    form = {
        "csrf_token": csrf,
        "c0-decision": "approve",
        "c1-decision": "decline",
        "c1-reason": "timing",
        "c1-comment": "Open enrolment",
        "c2-decision": "approve",
    }
    answer = world.post(digest_id, form, NOW + 120)
    assert answer.page.status == 200 and len(answer.decided) == 3
    assert "Plan C2 (C2)</strong>: declined (Bad timing" in answer.page.html
    calls = {token: kind for kind, token, _ in world.callbacks.calls}
    assert calls == {"token-C1-0": "success", "token-C2-0": "failure", "token-C3-0": "success"}
    audit = {r.client_id: r for r in world.store.audit("cmp-1")}
    assert (audit["C2"].action, audit["C2"].reason, audit["C2"].comment) == (
        "declined",
        "timing",
        "Open enrolment",
    )
    assert audit["C1"].action == audit["C3"].action == "approved" and audit["C1"].who == TEAM
    again = world.post(digest_id, form, NOW + 130)  # a second submit: the first decisions stand
    assert "already approved" in again.page.html and len(world.callbacks.calls) == 3


def test_a_decline_without_a_reason_or_a_forged_form_decides_nothing():
    world = World()
    digest_id = asked_together(world)
    csrf = CSRF.search(
        show_digest(digest_id, store=world.store, digests=world.digests, now=NOW + 100).html
    ).group(1)  # type: ignore[union-attr]
    no_reason = world.post(
        digest_id, {"csrf_token": csrf, "c0-decision": "approve", "c1-decision": "decline"}, NOW + 120
    )
    assert (
        no_reason.page.status == 400 and "Plan C2 (C2): Please choose why you decline" in no_reason.page.html
    )
    forged = world.post(digest_id, {"csrf_token": "x" * 43, "c0-decision": "approve"}, NOW + 120)
    assert forged.page.status == 403
    assert not world.callbacks.calls and not world.store.audit("cmp-1")


def test_a_teammates_earlier_answer_for_one_client_wins():
    world = World()
    world.ask(world.request("C1", account_team_emails=[TEAM, "sam@pbm.example"]), NOW)
    world.ask(world.request("C2"), NOW + 1)
    world.wake("sam@pbm.example", NOW + 61)
    world.wake(TEAM, NOW + 61)
    sam_link = SINGLE.search(world.mailer.sent[0].text).group(1)  # type: ignore[union-attr]
    digest_id = DIGEST.search(world.mailer.sent[1].text).group(1)  # type: ignore[union-attr]
    from coach.approvals.deciding import show

    sam_csrf = CSRF.search(show(sam_link, store=world.store, now=NOW + 70).html).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": sam_csrf, "decision": "decline", "reason": "not_relevant"}
    assert decide(sam_link, form, store=world.store, callbacks=world.callbacks, now=NOW + 80).status == 200
    page = show_digest(digest_id, store=world.store, digests=world.digests, now=NOW + 90)
    assert "Declined (Not relevant for this client&#39;s members) by sam@pbm.example" in page.html
    csrf = CSRF.search(page.html).group(1)  # type: ignore[union-attr]
    answer = world.post(
        digest_id, {"csrf_token": csrf, "c0-decision": "approve", "c1-decision": "approve"}, NOW + 95
    )
    assert "Plan C2 (C2)</strong>: approved" in answer.page.html
    assert [kind for kind, _, _ in world.callbacks.calls] == ["failure", "success"]


def test_an_ask_to_an_approver_away_reaches_the_delegate_and_the_audit_names_both():
    world = World()
    world.digests.put_delegation(
        Delegation(approver=TEAM, delegate="kim@pbm.example", starts=NOW - 10, ends=NOW + 86_400)
    )
    world.ask(world.request("C1"), NOW)
    world.wake("kim@pbm.example", NOW + 60)
    (email,) = world.mailer.sent
    assert email.to == ("kim@pbm.example",) and f"on behalf of {TEAM}" in email.text
    link_id = SINGLE.search(email.text).group(1)  # type: ignore[union-attr]
    from coach.approvals.deciding import show

    page = show(link_id, store=world.store, now=NOW + 70)
    assert f"on behalf of {TEAM}" in page.html
    csrf = CSRF.search(page.html).group(1)  # type: ignore[union-attr]
    done = decide(
        link_id,
        {"csrf_token": csrf, "decision": "approve"},
        store=world.store,
        callbacks=world.callbacks,
        now=NOW + 80,
    )
    assert done.status == 200
    (record,) = world.store.audit("cmp-1")
    assert (record.who, record.on_behalf_of) == ("kim@pbm.example", TEAM)


def test_a_delegation_outside_its_period_changes_nothing():
    world = World()
    world.digests.put_delegation(
        Delegation(approver=TEAM, delegate="kim@pbm.example", starts=NOW + 3600, ends=NOW + 7200)
    )
    world.ask(world.request("C1"), NOW)
    world.wake(TEAM, NOW + 60)
    assert world.mailer.sent[0].to == (TEAM,)


def test_the_account_teams_thank_you_page_says_the_client_decides_next():
    world = World()
    world.ask(world.request("C1"), NOW)
    world.wake(TEAM, NOW + 60)
    link_id = SINGLE.search(world.mailer.sent[0].text).group(1)  # type: ignore[union-attr]
    from coach.approvals.deciding import show

    csrf = CSRF.search(show(link_id, store=world.store, now=NOW + 70).html).group(1)  # type: ignore[union-attr]
    page = decide(
        link_id,
        {"csrf_token": csrf, "decision": "approve"},
        store=world.store,
        callbacks=world.callbacks,
        now=NOW + 80,
    )
    assert "Plan C1&#39;s benefits contact is asked next" in page.html
    assert "Nothing has been sent yet" in page.html and "go ahead as planned" not in page.html


def serving(handler, monkeypatch, world: World):
    """The approval API's handler reading this world's stores (the digest, its links and the letters bucket)."""
    monkeypatch.setattr(handler, "approval_store", lambda: world.store)
    monkeypatch.setattr(handler, "digest_store", lambda: world.digests)
    monkeypatch.setattr(handler, "objects", lambda: world.objects)
    return lambda method, path: call(handler, http_api_event(method, path))


def test_a_clients_page_in_a_digest_links_its_specimen_pdf_and_getting_it_decides_nothing(
    api,  # noqa: F811
    aws,  # noqa: F811
    monkeypatch,
):
    world = World()
    digest_id = asked_together(world, letters_bucket=LETTERS)
    get = serving(api, monkeypatch, world)
    page = get("GET", f"/d/{digest_id}/1")
    assert page["statusCode"] == 200 and "Plan C2" in page["body"] and "SPECIMEN" in page["body"]
    href = re.search(r'href="([^"]+\.pdf)"', page["body"])
    assert href, "the client's page has no link to its specimen PDF"
    pdf_url = urljoin(f"https://approve.example.org/d/{digest_id}/1", href.group(1))
    assert pdf_url == f"https://approve.example.org/d/{digest_id}/1/specimen/en.pdf"
    response = get("GET", urlsplit(pdf_url).path)
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"] == "application/pdf"
    assert 'filename="specimen-C2-en.pdf"' in response["headers"]["Content-Disposition"]  # this row's client
    assert response["isBase64Encoded"] and base64.b64decode(response["body"]).startswith(b"%PDF")
    assert get("HEAD", f"/d/{digest_id}/1/specimen/en.pdf")["statusCode"] == 404  # GET only, as on /a/
    assert not world.callbacks.calls and not api.fake_callbacks.calls
    assert not world.store.audit("cmp-1")
    for client_id in ("C1", "C2", "C3"):
        assert world.store.get_decision(group_of("cmp-1", client_id, "account_team")) is None


def test_a_digest_specimen_of_an_unknown_digest_client_or_file_is_a_clear_404(api, aws, monkeypatch):  # noqa: F811
    world = World()
    digest_id = asked_together(world, letters_bucket=LETTERS)
    get = serving(api, monkeypatch, world)
    unknown_link, unknown_letter = "Link not recognised", "No such specimen letter"
    for path, title in (
        (f"/d/{'x' * 43}/1/specimen/en.pdf", unknown_link),  # no such digest
        (f"/d/{digest_id}/3/specimen/en.pdf", unknown_link),  # the digest lists three clients: 0, 1, 2
        (f"/d/{digest_id}/one/specimen/en.pdf", unknown_link),
        (f"/d/{digest_id}/1/specimen/fr.pdf", unknown_letter),  # a language the client's letters do not use
        (f"/d/{digest_id}/1/specimen/en.txt", unknown_letter),
        (f"/d/{digest_id}/1/specimen/..%2F..%2Fmanifest.csv", unknown_letter),
    ):
        response = get("GET", path)
        assert response["statusCode"] == 404, path
        assert response["headers"]["Content-Type"].startswith("text/html") and "%PDF" not in response["body"]
        assert f"<h1>{title}</h1>" in response["body"], path
