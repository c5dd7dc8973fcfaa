"""One account team asked about four clients gets one email and one page: it sees every client the email lists,
approves three together and declines one with a reason; opening the page (GET, HEAD, a scanner) decides nothing,
each decision reaches its own client's branch, and the report and the audit trail show each one."""

from __future__ import annotations

import json
import threading
import urllib.request
from urllib.parse import urljoin

import pytest

from coach_local.approver import DigestEmail
from coach_local.browser import browser
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from coach_local.runtime import digests
from tests.browser.test_approval_in_browser import FILL, ROOT, wait_for
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.browser
TEAM = "pat.morgan@pbm.example"
CLIENTS = {"C1": "Alder Health", "C2": "Birch Benefits", "C3": "Cedar Care", "C4": "Dogwood Plan"}


def shared_team(client_id: str, name: str) -> dict:
    row = client(client_id, name)
    row["account_team_emails"] = [TEAM]  # one account manager looks after every client
    return row


@pytest.fixture(scope="module")
def digest_campaign(tmp_path_factory):
    base = tmp_path_factory.mktemp("digest")
    members, fills = [], []
    for n, client_id in enumerate(CLIENTS):
        for m in range(2):
            member_id = f"M{n}{m}"
            members.append(member(member_id, client_id, "Grace", f"Hopper{n}{m}"))
            fills.append((member_id, CLARITIN_NDC, FILL, "paid"))
    lake = write_lake(base / "lake", [shared_team(c, name) for c, name in CLIENTS.items()], members, fills)
    links: list = []
    result: dict = {}
    patch = pytest.MonkeyPatch()
    # a person clicking: asks made within 2 s of each other share one email (never held back more than 20 s)
    patch.setattr(digests, "DEFAULT_QUIET_SECONDS", 2.0)
    patch.setattr(digests, "DEFAULT_MAX_SECONDS", 20.0)

    def go():
        result["run"] = run_campaign(
            load_event(ROOT / "coach_local/events/claritin_otc.json"),
            lake,
            base / "out",
            interactive=True,
            on_link=links.append,
            time_scale=1 / 600,
            timeout=300,
        )

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    yield links, result, thread
    thread.join(timeout=120)
    patch.undo()


def test_one_page_decides_every_client_each_on_its_own(digest_campaign):
    links, result, thread = digest_campaign
    digest = wait_for(lambda: next((l for l in links if isinstance(l, DigestEmail)), None))
    listed = {client_id for _, client_id, _, _ in digest.questions}
    assert listed == set(CLIENTS), "the account team's four asks arrive together and share one email"
    declined = sorted(listed)[1]
    with urllib.request.urlopen(urllib.request.Request(digest.link, method="HEAD"), timeout=30) as head:
        assert head.status == 200
    with browser() as context:
        scanner = context.new_page()
        scanner.goto(digest.link)  # a link scanner runs the page: nothing may be decided
        scanner.close()
        page = context.new_page()
        page.goto(digest.link)
        for client_id in listed:
            assert f"({client_id})" in page.content()
            section = page.locator(f'section[data-client="{client_id}"]')
            assert section.get_by_label("Approve", exact=True).is_checked(), "still open after GET and HEAD"
        assert "Hopper" not in page.content()
        name = CLIENTS[declined]
        # one client on its own page: the letter its members would get, and its PDF (GETs that decide nothing)
        page.get_by_role("link", name=f"Open {name}").click()
        page.wait_for_load_state()
        href = page.locator("section.specimen").first.get_by_role("link").get_attribute("href")
        assert href is not None and href.endswith(".pdf")
        pdf = page.request.get(urljoin(page.url, href))
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        assert pdf.body().startswith(b"%PDF")
        page.goto(digest.link)
        section = page.locator(f'section[data-client="{declined}"]')
        section.get_by_label("Decline", exact=True).check()
        page.get_by_role("button", name="Approve all, except those marked").click()
        page.wait_for_load_state()
        assert "Please choose why you decline" in page.content(), "a decline without a reason is refused"
        page.go_back()
        page.goto(digest.link)
        section = page.locator(f'section[data-client="{declined}"]')
        section.get_by_label("Decline", exact=True).check()
        section.get_by_label("If you decline, why:").select_option("timing")
        section.get_by_label(f"Comment for {name}").fill("Open enrolment mailing goes out the same week")
        page.get_by_role("button", name="Approve all, except those marked").click()
        page.wait_for_load_state()
        done = page.content()
        assert f"{name} ({declined})</strong>: declined (Bad timing" in done
        for client_id in listed - {declined}:
            assert f"{CLIENTS[client_id]} ({client_id})</strong>: approved" in done
        page.goto(digest.link)  # the page now shows who decided each client, and offers no choice
        assert page.locator("input[type=radio]").count() == 0
        assert page.content().count(f"by {TEAM}") == len(listed)
        # each approved client's branch moves on by itself: its benefits contact is asked next
        for client_id in sorted(listed - {declined}):
            ask = wait_for(
                lambda c=client_id: next((l for l in links if getattr(l, "client_id", "") == c), None)
            )
            page.goto(ask.link)
            page.get_by_role("button", name="Approve").click()
            page.wait_for_load_state()
            assert "Letters for the members we can reach" in page.content()
    thread.join(timeout=180)
    run = result["run"]
    assert run.status == "SUCCEEDED", run.error
    rows = {row["client_id"]: row for row in run.report["clients"]}
    assert rows[declined]["account_team_decision"] == "declined" and rows[declined]["letters"] == 0
    for client_id in listed - {declined}:
        assert rows[client_id]["account_team_decision"] == "approved"
        assert rows[client_id]["client_decision"] == "approved" and rows[client_id]["letters"] == 2
    audit = json.loads((run.out_dir / "audit.json").read_text())["decisions"]
    team = {
        r["client_id"]: r
        for r in audit
        if r["role"] == "account_team" and r["action"] in ("approved", "declined")
    }
    assert team[declined]["action"] == "declined" and team[declined]["reason"] == "timing"
    assert team[declined]["comment"] == "Open enrolment mailing goes out the same week"
    assert {c for c, r in team.items() if r["action"] == "approved"} == listed - {declined}
    assert all(r["who"] == TEAM for r in team.values())
    html = (run.out_dir / "report.html").read_text()
    assert "Bad timing" in html, "the report shows why the client was declined"
