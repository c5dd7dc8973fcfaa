"""In a real browser (system Chromium), the account team's page of a branded client shows the letter members will
receive, in the client's letterhead and marked SPECIMEN, and its PDF link serves the specimen PDF; approving on
both pages sends the letter that was shown, with the client's letterhead."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

import pytest

from coach_local.browser import browser
from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.browser.test_approval_in_browser import FILL, ROOT, wait_for
from tests.unit.test_branding import BRAND, image
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.browser


def test_the_page_shows_the_branded_specimen_and_the_letters_sent_match_it(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "Lakeshore Employers Trust") | BRAND],
        [member("M1", "C1", "Ada", "Lovelace", language="es"), member("M2", "C1", "Alan", "Turing")],
        [("M1", CLARITIN_NDC, FILL, "paid"), ("M2", CLARITIN_NDC, FILL, "paid")],
    )
    (lake / "logos").mkdir()
    (lake / "logos" / "lakeshore.png").write_bytes(image())
    links: list = []
    result: dict = {}

    def go() -> None:
        result["run"] = run_campaign(
            load_event(ROOT / "coach_local/events/claritin_otc.json"),
            lake,
            tmp_path / "out",
            interactive=True,
            on_link=links.append,
            time_scale=1 / 600,
            timeout=240,
        )

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    team_link = wait_for(lambda: next((link for link in links if link.role == "account_team"), None))
    with browser() as context:
        page = context.new_page()
        page.goto(team_link.link)
        specimens = page.locator("section.specimen")
        assert specimens.count() == 2  # the client's members get English and Spanish letters
        text = specimens.first.inner_text()
        assert (
            "SPECIMEN" in text and "Lakeshore Health Plan" in text and "Specimen Member (fictitious)" in text
        )
        assert "1-888-555-0142" in text and "Claritin" in text
        assert "Lovelace" not in page.content() and "Turing" not in page.content()  # never a real member
        href = specimens.nth(1).get_by_role("link").get_attribute("href")
        assert href is not None and href.endswith("/specimen/es.pdf")
        response = page.request.get(team_link.link.rsplit("/", 1)[0] + "/" + href)
        assert response.status == 200 and response.headers["content-type"] == "application/pdf"
        pdf = tmp_path / "specimen-es.pdf"
        pdf.write_bytes(response.body())
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        client_link = wait_for(lambda: next((link for link in links if link.role == "client"), None))
        page.goto(client_link.link)
        assert page.locator("section.specimen").count() == 2  # the client sees the same letter
        page.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
    specimen_text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "SPECIMEN" in specimen_text and "Lakeshore Health Plan" in specimen_text
    thread.join(timeout=180)
    run = result["run"]
    assert run.status == "SUCCEEDED" and run.report["clients"][0]["letters"] == 2
    letters = sorted(Path(run.out_dir).rglob("*.pdf"))
    sent = subprocess.run(
        ["pdftotext", str(letters[0]), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Lakeshore Health Plan" in sent and "SPECIMEN" not in sent and "Ada Lovelace" in sent
