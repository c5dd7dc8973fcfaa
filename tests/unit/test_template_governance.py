"""Template governance: a draft is checked before anyone approves it, on every branch its event type can take;
approvals keep their history; a campaign renders only the versions it pinned at intake."""

from __future__ import annotations

import json
import re
import shutil
from datetime import date

import pytest
from coach.adapters.memory import MemoryMailer, MemoryObjectStore
from coach.intake import pin_templates, plan_campaign
from coach.letters.authoring import ApprovalRefused, approve_template, check_templates
from coach.letters.service import TemplateChanged
from coach.letters.templates import TEMPLATES_DIR, TemplateRegistry
from coach.models import MarketEvent
from typer.testing import CliRunner

from coach_local.cli import app
from tests.unit.letter_batches import run_letter_batch

APPROVED_BY = "Dr. Grace Okafor, PharmD (Clinical Communications Review)"


@pytest.fixture
def templates(tmp_path):
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, root)
    return root


def edit(root, relative, old, new):
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def check(root):
    """The problems as the user reads them."""
    return [str(problem) for problem in check_templates(root)]


def test_a_draft_is_checked_for_its_elements_before_anyone_approves_it(templates):
    edit(templates, "otc_switch/en.j2", "{{ tagline }}", "")
    assert [(p.kind, p.element) for p in check_templates(templates)] == [
        ("missing_element", "language-assistance tagline"),
        ("content_changed", None),
    ]
    problems = check(templates)
    assert "otc_switch/en.j2: missing required element: language-assistance tagline" in problems
    assert any(
        p.startswith("otc_switch/en.j2: content differs from approved version 1.0.0") for p in problems
    )
    assert all(p.startswith("otc_switch/en.j2") for p in problems)


def test_a_branch_only_some_events_reach_is_checked(templates):
    # Without covered alternatives the letter would fail at render time for every such member.
    edit(
        templates,
        "otc_switch/en.j2",
        "{% endif %}- Do not stop",
        "{% else %}- {{ no_alternatives_text }}\n{% endif %}- Do not stop",
    )
    edit(
        templates,
        "recall/es.j2",
        "{% if recall_class %} (retiro de clase {{ recall_class }}){% endif %}",
        "{% if recall_class == 'I' %} {{ urgente }}{% endif %}",
    )
    problems = check(templates)
    assert (
        "otc_switch/en.j2: uses an undefined variable ('no_alternatives_text' is undefined) "
        "(when without alternatives)"
    ) in problems
    assert any(
        p.startswith("recall/es.j2: uses an undefined variable ('urgente' is undefined) (when recall class I")
        for p in problems
    )


def test_alternatives_are_required_only_when_the_event_has_them(templates):
    edit(templates, "patent_expiry/en.j2", '{{ alternatives | join(", ") }}', "covered generics")
    problems = [str(p) for p in check_templates(templates) if p.kind != "content_changed"]
    assert problems == [
        "patent_expiry/en.j2: missing required element: covered alternative Altrazine (when with alternatives)",
        "patent_expiry/en.j2: missing required element: covered alternative Betaprofen (when with alternatives)",
    ]


def test_what_changes_must_be_listed(templates):
    path = templates / "new_drug" / "es.j2"
    path.write_text(re.sub(r"(^|%\})- ", r"\1", path.read_text(), flags=re.MULTILINE))
    problems = check(templates)
    assert (
        "new_drug/es.j2: missing required element: what changes for the member (a list of at least one '- ' item)"
        in problems
    )


def test_every_event_type_needs_its_folder_and_no_stray_folder_is_sent(templates):
    shutil.rmtree(templates / "recall")
    (templates / "otc_swtich").mkdir()
    problems = check(templates)
    assert "recall/: no template for this event type" in problems
    assert any(p.startswith("otc_swtich/: no event type of that name") for p in problems)


def test_each_problem_has_a_kind_and_its_text_names_the_file(templates):
    edit(templates, "recall/en.j2", "{{ drug_name }}", "{{ drug_name | int(1, 2, 3) }}")
    (templates / "new_drug" / "en.j2").write_text("{% if %}\n", encoding="utf-8")
    (templates / "generic_launch" / "es.j2").unlink()
    (templates / "patent_expiry" / "es.j2").write_bytes(b"\xff\xfe")
    shutil.rmtree(templates / "formulary_change")
    (templates / "stray").mkdir()
    problems = {(p.kind, str(p)) for p in check_templates(templates) if p.kind != "content_changed"}
    assert problems == {
        (
            "unknown_folder",
            "stray/: no event type of that name (event types: otc_switch, patent_expiry, "
            "generic_launch, new_drug, recall, formulary_change)",
        ),
        ("missing_folder", "formulary_change/: no template for this event type"),
        ("missing_language", "generic_launch/es.j2: missing (every letter needs English and Spanish)"),
        (
            "syntax",
            "new_drug/en.j2: template syntax error on line 1 (Expected an expression, got 'end of "
            "statement block')",
        ),
        ("not_utf8", "patent_expiry/es.j2: not UTF-8 (byte 0)"),
        (
            "render_error",
            "recall/en.j2: fails to render (TypeError: do_int() takes from 1 to 3 positional "
            "arguments but 4 were given)",
        ),
    }

    (templates / "approvals.json").unlink()
    unapproved = check_templates(templates)
    assert str(unapproved[0]) == "approvals.json: no approvals registry (nothing can be sent)"
    assert unapproved[0].kind == "no_registry"
    assert "otc_switch/en.j2: no approval recorded in approvals.json" in {
        str(p) for p in unapproved if p.kind == "not_approved"
    }

    (templates / "approvals.json").write_text("{", encoding="utf-8")
    [unreadable] = check_templates(templates)
    assert unreadable.kind == "unreadable_registry"
    assert str(unreadable).startswith("approvals.json: cannot read the approvals registry (Expecting")


def test_the_cli_refuses_to_approve_a_template_that_is_missing_or_unreadable(templates):
    (templates / "patent_expiry" / "es.j2").write_bytes(b"\xff\xfe")
    refused = CliRunner().invoke(
        app,
        [
            "templates",
            "approve",
            "patent_expiry/es",
            "--approver",
            "QA",
            "--version",
            "2.0.0",
            "--dir",
            str(templates),
        ],
    )
    assert refused.exit_code == 2
    assert (
        "not approved, the template fails its check: patent_expiry/es.j2: not UTF-8 (byte 0)"
        in refused.output
    )
    assert json.loads((templates / "approvals.json").read_text())["patent_expiry/es"]["version"] == "1.0.0"


def test_approval_keeps_the_previous_approval_and_one_version_names_one_content(templates):
    edit(templates, "generic_launch/en.j2", "Sincerely,", "With best regards,")
    with pytest.raises(ApprovalRefused, match="version 1.0.0 was approved for other content"):
        approve_template("generic_launch", "en", "QA Lead", date(2026, 11, 23), "1.0.0", root=templates)
    entry = approve_template("generic_launch", "en", "QA Lead", date(2026, 11, 23), "1.1.0", root=templates)
    assert entry["version"] == "1.1.0" and entry["approver"] == "QA Lead"
    assert [h["version"] for h in entry["history"]] == ["1.0.0"]
    assert entry["history"][0]["approver"] == APPROVED_BY
    with pytest.raises(ApprovalRefused, match="already approved as version 1.1.0"):
        approve_template("generic_launch", "en", "QA Lead", date(2026, 11, 24), "1.2.0", root=templates)
    stored = json.loads((templates / "approvals.json").read_text())["generic_launch/en"]
    assert stored == entry
    assert TemplateRegistry(templates).pinned("generic_launch", "en").version == "1.1.0"
    assert check_templates(templates) == []


def test_the_cli_refuses_to_approve_a_template_that_fails_its_check(templates):
    runner = CliRunner()
    edit(templates, "otc_switch/es.j2", "{{ tagline }}", "")
    refused = runner.invoke(
        app,
        [
            "templates",
            "approve",
            "otc_switch/es",
            "--approver",
            "QA",
            "--version",
            "2.0.0",
            "--dir",
            str(templates),
        ],
    )
    assert refused.exit_code == 2
    assert "language-assistance tagline" in refused.output
    failing = runner.invoke(app, ["templates", "check", "--dir", str(templates), "--json"])
    assert failing.exit_code == 1 and not json.loads(failing.stdout)["ok"]

    edit(templates, "otc_switch/es.j2", "Atentamente,", "Atentamente,\n\n{{ tagline }}")
    approved = runner.invoke(
        app,
        [
            "templates",
            "approve",
            "otc_switch/es",
            "--approver",
            "QA",
            "--version",
            "2.0.0",
            "--dir",
            str(templates),
            "--json",
        ],
    )
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.stdout)["version"] == "2.0.0"
    assert runner.invoke(app, ["templates", "check", "--dir", str(templates)]).exit_code == 0


CLARITIN = {
    "source": "coach.market-feed",
    "detail-type": "Drug Market Event",
    "detail": {
        "event_id": "pin-test",
        "event_type": "otc_switch",
        "drug": {"name": "Claritin", "ingredient": "loratadine", "ndcs": ["11523716001"]},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "Loratadine approved for over-the-counter sale.",
        "alternatives": ["cetirizine"],
    },
}


def test_intake_pins_the_approved_version_of_every_language():
    campaign = plan_campaign(CLARITIN).campaign
    entries = json.loads((TEMPLATES_DIR / "approvals.json").read_text())
    assert campaign.template_sha256 == {
        "en": entries["otc_switch/en"]["sha256"],
        "es": entries["otc_switch/es"]["sha256"],
    }


def test_a_batch_never_renders_a_version_the_campaign_did_not_pin(templates):
    pins = pin_templates("otc_switch")
    edit(templates, "otc_switch/en.j2", "Sincerely,", "Kind regards,")
    approve_template("otc_switch", "en", "QA Lead", date(2026, 11, 23), "1.1.0", root=templates)
    store, mailer = MemoryObjectStore(), MemoryMailer()
    member = {
        "member_id": "M1",
        "client_id": "C1",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "address_line1": "1 Elm St",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "drug_name": "Claritin",
        "last_fill_date": "2002-10-01",
    }
    with pytest.raises(
        TemplateChanged, match=r"otc_switch/en.j2: the campaign pinned sha256 .* version 1.1.0"
    ):
        run_letter_batch(
            [member],
            MarketEvent.model_validate(CLARITIN["detail"]),
            store=store,
            mailer=mailer,
            pins=pins,
            registry=TemplateRegistry(templates),
            today=None,
        )
    assert list(store.list_keys("letters", "")) == [] and mailer.sent == []
