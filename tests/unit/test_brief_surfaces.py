"""Where people see the brief: the account team's email headline and page (exact), the client's email, page and
one-page PDF (small cells suppressed), served by the approval API beside the confirmation page."""

from __future__ import annotations

import base64
import io
import time
from decimal import Decimal

import boto3
import pytest
from coach.adapters.dynamodb import table_definition
from coach.brief.figures import ClientFigures
from coach.brief.pdf import client_brief_pdf
from coach.brief.projection import build_brief
from coach.brief.service import brief_key
from coach.playbooks import load_playbook
from moto import mock_aws
from pypdf import PdfReader

from coach_local.approval_server import api_event
from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env
from tests.unit.approval_fakes import BUCKET, Approvals, approval_request, market_event

AGES = {
    "0-17": 4,
    "18-44": 31,
    "45-64": 27,
    "65+": 18,
    "unknown": 0,
}  # 4 is a small cell beside a shown total


def figures(affected: int = 80, ages: dict[str, int] | None = None) -> ClientFigures:
    return ClientFigures(
        client_id="C1",
        affected=affected,
        claims=412,
        plan_paid=Decimal("23456.78"),
        plan_paid_claims=412,
        member_paid=Decimal("9876.50"),
        member_paid_claims=412,
        days_supply=16_480,
        priced_days=16_480,
        quantity=Decimal("16480"),
        supply_on_hand=0,
        days_on_hand=0,
        filled_recently=0,
        eligible=affected,
        active=affected,
        age_bands=ages or AGES,
        states={"IL": 72, "WI": 8},
        languages={"en": 80},
        channels={"email": 30, "mail": 50},
    )


def approvals_with_brief(client_figures: ClientFigures) -> Approvals:
    world = Approvals()
    brief = build_brief(
        campaign_id="cmp-1",
        client_name="Acme Corp",
        figures=client_figures,
        event=market_event(),
        policy=load_playbook("otc_switch").brief,  # type: ignore[arg-type]
        lookback_days=365,
    )
    world.objects.put(BUCKET, brief_key("cmp-1", "C1"), brief.model_dump_json().encode())
    return world


def request(role: str = "account_team"):
    req = approval_request(role=role, affected=80, reachable=70)  # type: ignore[arg-type]
    return req.model_copy(
        update={"client": req.client.model_copy(update={"brief_key": brief_key("cmp-1", "C1")})}
    )


def test_the_account_teams_email_has_the_headline_and_its_page_the_whole_brief_exactly():
    world = approvals_with_brief(figures())
    links = world.ask(request())
    email = world.mailer.sent[0]
    assert "Plan paid in the lookback:        $23,456.78" in email.text
    assert "−$23,456.78" in email.text  # the plan stops paying for an OTC drug
    assert "End coverage on the effective date" in email.text and "brief.pdf" not in email.text
    page = world.open(next(iter(links.values()))).html
    assert "The pharmacist&#39;s brief" in page or "The pharmacist's brief" in page
    assert "<svg" in page and "0-17: 4" in page and "$9,876.50" in page  # exact: inside the PBM


def test_the_client_sees_small_cells_suppressed_and_gets_a_one_page_pdf():
    world = approvals_with_brief(figures())
    links = world.ask(request("client"))
    email = world.mailer.sent[0]
    link_id = next(iter(links.values()))
    assert f"/a/{link_id}/brief.pdf" in email.text and f"/a/{link_id}/brief.pdf" in str(email.html)
    page = world.open(link_id).html
    assert "0-17: fewer than 11" in page and "0-17: 4" not in page
    assert "65+: not shown" in page  # the complementary cell: 80 − 31 − 27 − 18 would give the 4 away
    reader = PdfReader(io.BytesIO(client_brief_pdf(link_id, store=world.store) or b""))
    text = reader.pages[0].extract_text()
    assert len(reader.pages) == 1 and "Acme Corp" in text and "End coverage" in text
    assert "fewer than 11" in text and "$23,456.78" in text


def test_a_client_of_fewer_than_11_members_sees_no_sum_of_them():
    world = approvals_with_brief(figures(8, {"0-17": 0, "18-44": 5, "45-64": 3, "65+": 0, "unknown": 0}))
    links = world.ask(request("client"))
    assert (
        "$23,456.78" not in world.mailer.sent[0].text
        and "not shown (fewer than 11 members)" in world.mailer.sent[0].text
    )
    page = world.open(next(iter(links.values()))).html
    assert "$23,456.78" not in page and "$9,876.50" not in page and "Members affected" in page


def test_an_account_team_link_or_an_unknown_one_serves_no_pdf():
    world = approvals_with_brief(figures())
    links = world.ask(request())
    assert client_brief_pdf(next(iter(links.values())), store=world.store) is None
    assert client_brief_pdf("x" * 43, store=world.store) is None


@pytest.fixture
def api(monkeypatch):
    set_function_env(monkeypatch)
    with mock_aws():
        from coach import runtime

        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition("approvals"))
        module = load_handler("approval_api")
        world = approvals_with_brief(figures())
        world.store = runtime.approval_store()
        link_id = next(iter(world.ask(request("client"), now=time.time()).values()))

        def get(path: str) -> dict:
            event = api_event("GET", path, {"User-Agent": "pytest"}, b"", "192.0.2.1")
            return module.handler(event, FakeLambdaContext("coach-approval_api"))

        yield get, link_id
        runtime.reset()


def test_the_approval_api_serves_the_clients_pdf_beside_the_page(api):
    get, link_id = api
    response = get(f"/a/{link_id}/brief.pdf")
    assert response["statusCode"] == 200 and response["isBase64Encoded"]
    headers = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    headers.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
    headers = {k: (v[0] if isinstance(v, list) else v) for k, v in headers.items()}
    assert headers["content-type"] == "application/pdf" and headers["cache-control"] == "no-store"
    assert base64.b64decode(response["body"]).startswith(b"%PDF")
    assert get(f"/a/{'y' * 43}/brief.pdf")["statusCode"] == 404


def test_a_branded_clients_pdf_brief_carries_its_own_plan_name():
    from dataclasses import replace

    from coach.letters.branding import PBM_BRANDING, save_branding

    world = approvals_with_brief(figures())
    branded = replace(PBM_BRANDING, plan_name="Prairie Mutual Rx", client_id="C1")
    save_branding(world.objects, BUCKET, "cmp-1", "C1", branded)
    links = world.ask(request("client"))
    text = PdfReader(io.BytesIO(client_brief_pdf(next(iter(links.values())), store=world.store) or b""))
    first = text.pages[0].extract_text()
    assert "Prairie Mutual Rx" in first and "Acme Corp" in first  # the plan's name first, the client under it
