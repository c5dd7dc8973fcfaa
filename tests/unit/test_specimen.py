"""The letter itself, on the approval page: the campaign's pinned template versions, each language the client's
letters will be written in, rendered for a fictitious member and marked SPECIMEN, with the PDF served by the
approval API; approving binds to those versions, and the letters stage refuses any other."""

from __future__ import annotations

import base64
import html
import json
import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import boto3
import pytest
from coach.adapters.memory import MemoryApprovalStore, MemoryCallbacks, MemoryMailer, MemoryObjectStore
from coach.approvals.asking import request_approval, reuse_decision
from coach.approvals.deciding import decide, show
from coach.approvals.records import group_of
from coach.approvals.specimens import (
    NotTheApprovedLetter,
    SpecimenNotFound,
    approved_templates,
    specimen_pdf,
)
from coach.intake import pin_templates
from coach.letters.authoring import approve_template
from coach.letters.branding import Branding, save_branding
from coach.letters.specimen import SpecimenNotPinned
from coach.letters.templates import TEMPLATES_DIR, TemplateRegistry, default_registry
from coach.models import ApprovalRequest

from tests.unit.approval_fakes import (
    ACCOUNT_TEAM,
    BASE_URL,
    BUCKET,
    CSRF,
    NOW,
    SENDER,
    TOKEN,
    approval_request,
    contacts_json,
    http_api_event,
    link_id_in,
)
from tests.unit.letter_batches import run_letter_batch
from tests.unit.test_approval_handlers import api, aws, call, context  # noqa: F401 (fixtures)
from tests.unit.test_letters import member

LETTERS = "letters"
BRANDED = Branding(
    plan_name="Lakeshore Health Plan",
    letterhead_name="Lakeshore Health Plan Pharmacy Services",
    return_address=("PO Box 4410", "Chicago, IL 60680"),
    member_services_phone="1-888-555-0142",
    member_services_hours="7 days a week",
    signature="The Lakeshore Pharmacy Team",
    client_id="C1",
)


def request(languages: list[str], **overrides: object) -> ApprovalRequest:
    base = approval_request()
    client = base.client.model_copy(update={"languages": languages})
    fields = {"client": client, "template_id": "otc_switch", "template_sha256": pin_templates("otc_switch")}
    return base.model_copy(update=fields | overrides)


def ask(req: ApprovalRequest, objects: MemoryObjectStore | None = None):
    store, mailer = MemoryApprovalStore(), MemoryMailer()
    objects = objects or MemoryObjectStore()
    objects.put(BUCKET, req.client.contacts_key, contacts_json())
    request_approval(
        req,
        store=store,
        mailer=mailer,
        objects=objects,
        data_bucket=BUCKET,
        sender=SENDER,
        base_url=BASE_URL,
        now=NOW,
        letters_bucket=LETTERS,
    )
    return store, objects, {m.to[0]: link_id_in(m.text) for m in mailer.sent}


def page_text(page_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page_html))


def test_the_page_shows_the_pinned_letter_in_each_language_marked_specimen():
    store, _, links = ask(request(["en", "es"]))
    page = show(links[ACCOUNT_TEAM[0]], store=store, now=NOW + 60)
    text = page_text(page.html)
    registry = default_registry()
    for lang, opening in (("en", "Claritin is now sold over the counter"), ("es", "Claritin")):
        pinned = registry.pinned("otc_switch", lang)
        assert f"otc_switch/{lang}.j2 version {pinned.version}" in text and pinned.sha256[:16] in text
        assert opening in text
    assert "January 15, 2027" in text and "15 de enero de 2027" in text  # both languages, rendered
    assert text.count("SPECIMEN") >= 2 and "Specimen Member (fictitious)" in text
    assert "Pharmacy Benefit Services" in text  # a client without branding: the PBM's letterhead


def test_only_the_languages_the_clients_letters_use_are_shown():
    store, _, links = ask(request(["es"]))
    text = page_text(show(links[ACCOUNT_TEAM[0]], store=store, now=NOW + 60).html)
    assert "otc_switch/es.j2" in text and "otc_switch/en.j2" not in text


def test_the_specimen_pdf_is_the_clients_letter_marked_specimen(tmp_path):
    objects = MemoryObjectStore()
    save_branding(objects, BUCKET, "cmp-1", "C1", BRANDED)
    store, objects, links = ask(request(["en"]), objects)
    link_id = links[ACCOUNT_TEAM[0]]
    assert "Lakeshore Health Plan Pharmacy Services" in page_text(
        show(link_id, store=store, now=NOW + 60).html
    )
    pdf = specimen_pdf(link_id, "en", store=store, objects=objects, letters_bucket=LETTERS, now=NOW + 60)
    path = tmp_path / pdf.filename
    path.write_bytes(pdf.body)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "SPECIMEN" in text and "Specimen Member (fictitious)" in text
    assert "Lakeshore Health Plan Pharmacy Services" in text and "1-888-555-0142" in text
    with pytest.raises(SpecimenNotFound):
        specimen_pdf(link_id, "es", store=store, objects=objects, letters_bucket=LETTERS, now=NOW + 60)


def test_a_deployed_template_other_than_the_pinned_one_is_never_shown_for_approval():
    pins = dict(pin_templates("otc_switch"), en="0" * 64)
    with pytest.raises(SpecimenNotPinned, match="otc_switch/en.j2: the campaign pinned sha256 0000"):
        ask(request(["en"], template_sha256=pins))


def approve(store: MemoryApprovalStore, link_id: str) -> None:
    page = show(link_id, store=store, now=NOW + 60)
    csrf = CSRF.search(page.html)
    assert csrf
    form = {"csrf_token": csrf.group(1), "decision": "approve"}
    assert decide(link_id, form, store=store, callbacks=MemoryCallbacks(), now=NOW + 90).status == 200


def test_the_decision_and_its_audit_record_keep_the_hashes_shown():
    store, _, links = ask(request(["en", "es"]))
    approve(store, links[ACCOUNT_TEAM[0]])
    pins = pin_templates("otc_switch")
    decision = store.get_decision(group_of("cmp-1", "C1", "account_team"))
    assert decision is not None and json.loads(decision.templates_shown) == pins
    (record,) = [r for r in store.audit("cmp-1") if r.action == "approved"]
    assert json.loads(record.templates_shown) == pins
    assert approved_templates(store, "cmp-1", "C1") == {"account_team": pins}


@pytest.fixture
def changed_templates(tmp_path):
    """The installed templates with otc_switch/en changed and the change approved as a new version."""
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root)
    path = root / "otc_switch" / "en.j2"
    path.write_text(path.read_text(encoding="utf-8").replace("Sincerely,", "Kind regards,"), encoding="utf-8")
    approve_template("otc_switch", "en", "Test Approver", date(2026, 12, 1), "9.0.0", root=root)
    return root


def test_a_template_changed_after_approval_is_refused_and_nothing_is_sent(changed_templates):
    store, _, links = ask(request(["en"]))
    approve(store, links[ACCOUNT_TEAM[0]])
    registry = TemplateRegistry(changed_templates)
    new_pins = {lang: registry.pinned("otc_switch", lang).sha256 for lang in ("en", "es")}
    with pytest.raises(
        NotTheApprovedLetter, match="the account team approved the letter with sha256"
    ) as refused:
        run_letter_batch(
            [member("M1", "Ada", "Lee")],
            request(["en"]).event,
            pins=new_pins,  # even a campaign pinned to the new version sends nothing the approver did not see
            registry=registry,
            approved=approved_templates(store, "cmp-1", "C1"),
        )
    assert "nothing was sent" in str(refused.value)


def test_the_approved_letter_is_sent(changed_templates):
    store, _, links = ask(request(["en"]))
    approve(store, links[ACCOUNT_TEAM[0]])
    _, _, result = run_letter_batch(
        [member("M1", "Ada", "Lee")], request(["en"]).event, approved=approved_templates(store, "cmp-1", "C1")
    )
    assert result.letters == 1


def test_an_approval_does_not_carry_over_to_a_rerun_pinned_to_other_content():
    store, _, links = ask(request(["en"]))
    approve(store, links[ACCOUNT_TEAM[0]])
    decision = store.get_decision(group_of("cmp-1", "C1", "account_team"))
    assert decision is not None
    store.set_delivery(decision, "delivered")
    other = dict(pin_templates("otc_switch"), en="f" * 64)
    callbacks = MemoryCallbacks()
    rerun = request(["en"], template_sha256=other, task_token=TOKEN + "-rerun")
    assert reuse_decision(rerun, store=store, callbacks=callbacks) is False and callbacks.calls == []
    same = request(["en"], task_token=TOKEN + "-redrive")
    assert reuse_decision(same, store=store, callbacks=callbacks) is True


def test_the_api_serves_the_specimen_pdf_and_nothing_for_a_forged_link(api, aws):  # noqa: F811
    from tests.unit.test_approval_handlers import ask as ask_through_lambda

    link_id = ask_through_lambda(aws)[ACCOUNT_TEAM[0]]
    page = call(api, http_api_event("GET", f"/a/{link_id}"))["body"]
    href = re.search(r'href="([^"]+\.pdf)"', page)
    assert href and href.group(1) == f"{link_id}/specimen/en.pdf"
    response = call(api, http_api_event("GET", f"/a/{link_id}/specimen/en.pdf"))
    assert response["statusCode"] == 200 and response["headers"]["Content-Type"] == "application/pdf"
    assert response["isBase64Encoded"] and base64.b64decode(response["body"]).startswith(b"%PDF")
    forged = call(api, http_api_event("GET", "/a/" + "x" * 43 + "/specimen/en.pdf"))
    assert forged["statusCode"] == 404 and "%PDF" not in forged["body"]
    other = call(api, http_api_event("GET", f"/a/{link_id}/specimen/..%2F..%2Fmanifest.csv"))
    assert other["statusCode"] == 404


def test_docs_say_why_the_preview_is_html_with_a_pdf_link():
    doc = (Path(__file__).parents[2] / "docs" / "templates.md").read_text(encoding="utf-8")
    assert "## The letter on the approval page" in doc and "pdftoppm" in doc


def test_the_letters_lambda_refuses_a_batch_whose_letter_nobody_approved(monkeypatch):
    from coach import runtime
    from coach.adapters.dynamodb import DynamoApprovalStore, table_definition
    from coach.approvals.records import DecisionRecord
    from moto import mock_aws

    from tests.conftest import load_handler, set_function_env

    set_function_env(monkeypatch)
    with mock_aws():
        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition("approvals"))
        s3 = boto3.client("s3")
        for bucket in ("data", "letters"):
            s3.create_bucket(Bucket=bucket)
        s3.put_object(
            Bucket="data", Key="b/batch-00000.jsonl", Body=member("M1", "Ada", "Lee").model_dump_json()
        )
        seen = {"en": "0" * 64}  # the page showed another version of the English letter than the one deployed
        DynamoApprovalStore("approvals").claim_decision(
            DecisionRecord(
                group=group_of("cmp-1", "C1", "client"),
                campaign_id="cmp-1",
                client_id="C1",
                role="client",
                decision="approved",
                decided_by="benefits@acme.example",
                decided_at=NOW,
                link_hash="h" * 64,
                task_token=TOKEN,
                attempt=0,
                templates_shown=json.dumps(seen),
            )
        )
        batch = {
            "campaign_id": "cmp-1",
            "client_id": "C1",
            "batch_key": "b/batch-00000.jsonl",
            "batch_index": 0,
            "event": request(["en"]).event.model_dump(mode="json"),
            "template_id": "otc_switch",
            "template_sha256": pin_templates("otc_switch"),
        }
        with pytest.raises(NotTheApprovedLetter, match="the client approved the letter with sha256 0000"):
            load_handler("letters").handler({"batch": batch}, context("letters"))
        assert s3.list_objects_v2(Bucket="letters").get("KeyCount", 0) == 0  # nothing rendered or written
        runtime.reset()
