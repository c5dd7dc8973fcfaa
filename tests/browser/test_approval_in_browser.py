"""A person opens the emailed link in a real browser (system Chromium), reads the page, clicks Approve, and the
campaign moves on. A browser that runs the page (like a link scanner) decides nothing by opening it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from coach_local.browser import browser
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
FILL = __import__("datetime").date(2002, 10, 15)


@pytest.fixture(scope="module")
def live_campaign(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    lake = write_lake(
        base / "lake",
        [client("C1", "Browser Test Health Plan")],
        [member("M1", "C1", "Ada", "Lovelace"), member("M2", "C1", "Alan", "Turing")],
        [("M1", CLARITIN_NDC, FILL, "paid"), ("M2", CLARITIN_NDC, FILL, "paid")],
    )
    links: list = []
    result: dict = {}

    def go():
        result["run"] = run_campaign(
            load_event(ROOT / "coach_local/events/claritin_otc.json"),
            lake,
            base / "out",
            interactive=True,
            on_link=links.append,
            time_scale=1 / 600,
            timeout=240,
        )

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return links, result, thread


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_person_approves_in_the_browser_and_the_campaign_advances(live_campaign):
    links, result, thread = live_campaign
    team_link = wait_for(lambda: next((l for l in links if l.role == "account_team"), None))
    with browser() as context:
        scanner = context.new_page()
        scanner.goto(team_link.link)  # runs the page like a scanner would: must not decide
        scanner.close()
        page = context.new_page()
        page.goto(team_link.link)
        assert "Browser Test Health Plan" in page.content()
        assert page.get_by_role("button", name="Approve").is_visible()
        assert page.get_by_label("Comment (optional)").is_visible()
        assert "Lovelace" not in page.content()
        assert not [l for l in links if l.role == "client"], "opening the page must not approve"
        page.get_by_label("Comment (optional)").fill("Go ahead")
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        assert "approved" in page.content().lower()
        client_link = wait_for(lambda: next((l for l in links if l.role == "client"), None))
        page.goto(client_link.link)
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
    thread.join(timeout=120)
    run = result["run"]
    assert run.status == "SUCCEEDED"
    row = run.report["clients"][0]
    assert (row["account_team_decision"], row["client_decision"], row["letters"]) == (
        "approved",
        "approved",
        2,
    )
