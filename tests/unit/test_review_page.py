"""The clinical review page (coach.review.service): GET never decides, POST needs the page's CSRF token, the first
decision wins, a correction is validated like a hand-written event, and the audit names the pharmacist and the
changes. Memory fakes with DynamoDB's semantics; the workflow is the MemoryCallbacks recording what it would hear."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Literal

import pytest
from coach.adapters.memory import MemoryApprovalStore, MemoryCallbacks, MemoryMailer
from coach.models import Drug, MarketEvent
from coach.review.models import DISMISSED_ERROR, ReviewBlock, ReviewRequest
from coach.review.service import decide_review, request_review, show_review

NOW = 1_800_000_000.0
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAR-review-task-token-0001"
REVIEWERS = "rph.one@pbm.example, rph.two@pbm.example"
ESCALATION = "chief.rph@pbm.example"
LINK = re.compile(r"/r/([A-Za-z0-9_-]{20,})")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def candidate(**changes) -> MarketEvent:
    fields = {
        "event_id": "drugs-at-fda-NDA019658-SUPPL-26-otc-switch",
        "event_type": "otc_switch",
        "drug": Drug(name="Claritin", ingredient="loratadine"),
        "effective_date": date(2002, 11, 27),
        "announced_on": date(2002, 11, 27),
        "summary": "Loratadine (Claritin) approved for over-the-counter sale (NDA019658 SUPPL-26).",
        "source_url": "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo=019658",
    }
    return MarketEvent(**{**fields, **changes})


def block(missing: list[str] | None = None) -> ReviewBlock:
    return ReviewBlock(
        source="coach.feed.drugs-at-fda",
        reasons=[
            "effective_date is the approval date: set the day the change reaches members if it differs."
        ],
        missing=missing or [],
        deadline_seconds=3600,
        reminders=1,
        escalate=True,
    )


class Asked:
    def __init__(
        self,
        missing: list[str] | None = None,
        kind: Literal["ask", "reminder", "escalation"] = "ask",
        attempt: int = 0,
    ) -> None:
        self.store, self.mailer, self.callbacks = MemoryApprovalStore(), MemoryMailer(), MemoryCallbacks()
        self.event = candidate()
        self.ask(missing, kind, attempt)

    def ask(
        self,
        missing: list[str] | None = None,
        kind: Literal["ask", "reminder", "escalation"] = "ask",
        attempt: int = 0,
    ) -> None:
        request = ReviewRequest(
            campaign_id="cmp-1",
            task_token=TOKEN,
            event=self.event,
            review=block(missing),
            kind=kind,
            attempt=attempt,
        )
        request_review(
            request,
            store=self.store,
            mailer=self.mailer,
            sender="clinical@pbm.example",
            base_url="https://approve.example.org",
            reviewers=REVIEWERS,
            escalation=ESCALATION,
            now=NOW,
        )

    def link(self, index: int = 0) -> str:
        return LINK.findall(self.mailer.sent[index].text)[0]

    def page(self, link_id: str | None = None):
        return show_review(link_id or self.link(), store=self.store, now=NOW + 10)

    def form(self, link_id: str | None = None, **fields: str) -> dict[str, str]:
        html = self.page(link_id).html
        values = {
            "csrf_token": CSRF.search(html).group(1),  # type: ignore[union-attr]
            "ndcs": "",
            "effective_date": "2002-11-27",
            "alternatives": "",
            "summary": self.event.summary,
            "decision": "confirm",
        }
        return {**values, **fields}

    def post(self, form: dict[str, str], link_id: str | None = None, at: float = NOW + 20):
        return decide_review(
            link_id or self.link(),
            form,
            store=self.store,
            callbacks=self.callbacks,
            now=at,
            source_ip="10.0.0.9",
        )


def test_each_pharmacist_gets_a_review_email_with_a_link_of_their_own():
    asked = Asked()
    assert sorted(m.to[0] for m in asked.mailer.sent) == ["rph.one@pbm.example", "rph.two@pbm.example"]
    assert asked.link(0) != asked.link(1)
    email = asked.mailer.sent[0]
    assert email.subject.startswith("Clinical review needed: Claritin")
    assert "Drugs@FDA data files" in email.text and "/r/" in email.text


def test_the_page_shows_the_source_record_what_was_matched_and_why_it_needs_review():
    asked = Asked(missing=["drug.ndcs"])
    page = asked.page()
    assert page.status == 200
    text = page.html
    assert "Drugs@FDA data files" in text and "drugs-at-fda-NDA019658-SUPPL-26-otc-switch" in text
    assert "loratadine" in text and "none: the feed could not determine them" in text
    assert "effective_date is the approval date" in text
    assert "Missing:</strong> NDCs" in text and "Confirm is refused until you supply it" in text


def test_opening_the_page_again_and_again_never_decides():
    asked = Asked()
    for _ in range(3):
        assert asked.page().status == 200
    assert asked.callbacks.calls == []
    assert asked.store.get_decision("cmp-1#clinical-review#clinical_reviewer") is None
    assert asked.store.audit("cmp-1") == []


def test_a_post_without_the_pages_csrf_token_records_nothing():
    asked = Asked()
    page = asked.post({**asked.form(), "csrf_token": "forged"})
    assert page.status == 403
    assert asked.callbacks.calls == [] and asked.store.audit("cmp-1") == []


def test_confirm_passes_the_candidate_on_unchanged_and_the_audit_names_the_pharmacist():
    asked = Asked()
    page = asked.post(asked.form())
    assert page.status == 200 and "you confirmed this market event" in page.html
    [(kind, token, output)] = asked.callbacks.calls
    assert (kind, token) == ("success", TOKEN)
    assert MarketEvent.model_validate(output) == asked.event
    [record] = asked.store.audit("cmp-1")
    assert (record.action, record.who, record.role) == (
        "confirmed",
        "rph.one@pbm.example",
        "clinical_reviewer",
    )


def test_a_correction_is_what_the_workflow_hears_and_the_audit_lists_every_change():
    asked = Asked(missing=["drug.ndcs"])
    form = asked.form(
        ndcs="11523-7160-01\n11523716002",
        effective_date="2003-01-01",
        alternatives="cetirizine\nfexofenadine",
        summary="Claritin is sold over the counter from January 1, 2003.",
        comment="NDCs from our formulary file.",
    )
    page = asked.post(form)
    assert page.status == 200 and "corrected and confirmed" in page.html
    [(kind, _, output)] = asked.callbacks.calls
    corrected = MarketEvent.model_validate(output)
    assert corrected.drug.ndcs == ["11523716001", "11523716002"]  # hyphenated 5-4-2 normalised as intake does
    assert corrected.effective_date == date(2003, 1, 1)
    assert corrected.alternatives == ["cetirizine", "fexofenadine"]
    assert corrected.event_id == asked.event.event_id and corrected.drug.ingredient == "loratadine"
    [record] = asked.store.audit("cmp-1")
    assert record.action == "corrected" and record.who == "rph.one@pbm.example"
    assert "drug.ndcs: (none) → 11523716001, 11523716002" in record.comment
    assert "effective_date: 2002-11-27 → 2003-01-01" in record.comment
    assert "alternatives: (none) → cetirizine, fexofenadine" in record.comment
    assert "summary: rewritten" in record.comment and "NDCs from our formulary file." in record.comment


def test_confirm_is_refused_while_the_ndcs_are_missing_and_the_form_keeps_what_was_typed():
    asked = Asked(missing=["drug.ndcs"])
    page = asked.post(asked.form(alternatives="cetirizine", comment="checked the label"))
    assert page.status == 422
    assert "enter the NDCs before confirming" in page.html
    assert ">cetirizine</textarea>" in page.html and ">checked the label</textarea>" in page.html
    assert asked.callbacks.calls == [] and asked.store.audit("cmp-1") == []
    # the same page, fixed, is then accepted
    assert asked.post(asked.form(ndcs="11523716001")).status == 200
    assert [c[0] for c in asked.callbacks.calls] == ["success"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("effective_date", "27/11/2002", "Effective date:"),
        ("ndcs", "1152371600", "NDCs:"),
        ("summary", "   ", "Summary:"),
        ("alternatives", "cetirizine\u202e", "Alternatives:"),
    ],
)
def test_a_bad_correction_re_shows_the_form_naming_the_field_and_records_nothing(field, value, message):
    asked = Asked()
    page = asked.post(asked.form(**{field: value}))
    assert page.status == 422
    assert message in page.html and "Nothing was recorded yet" in page.html
    assert asked.callbacks.calls == [] and asked.store.audit("cmp-1") == []
    assert asked.store.get_decision("cmp-1#clinical-review#clinical_reviewer") is None


def test_dismiss_fails_the_wait_with_the_dismissal_the_asl_catches():
    asked = Asked(missing=["drug.ndcs"])  # a dismissal needs no NDCs
    page = asked.post(asked.form(decision="dismiss", comment="duplicate of last week's notice"))
    assert page.status == 200 and "dismissed" in page.html
    [(kind, token, output)] = asked.callbacks.calls
    assert (kind, token) == ("failure", TOKEN) and output["error"] == DISMISSED_ERROR  # type: ignore[index]
    [record] = asked.store.audit("cmp-1")
    assert record.action == "dismissed" and record.comment == "duplicate of last week's notice"


def test_the_first_decision_wins_and_a_colleague_sees_it():
    asked = Asked()
    colleagues_form = asked.form(asked.link(1), ndcs="11523716001")  # both have the page open
    first = asked.post(asked.form(asked.link(0), decision="dismiss"), link_id=asked.link(0))
    colleague = asked.post(colleagues_form, link_id=asked.link(1))
    assert first.status == 200
    assert colleague.status == 200 and "Already dismissed" in colleague.html
    assert "Already dismissed" in asked.page(asked.link(1)).html
    assert len(asked.callbacks.calls) == 1 and len(asked.store.audit("cmp-1")) == 1


def test_a_reminder_supersedes_the_first_links_and_escalation_adds_the_chief_pharmacist():
    asked = Asked()
    first = asked.link(0)
    asked.ask(kind="reminder", attempt=1)
    assert "replaced by a newer email" in asked.page(first).html
    asked.ask(kind="escalation", attempt=2)
    escalation = [m for m in asked.mailer.sent if m.subject.startswith("Escalation")]
    assert [m.to[0] for m in escalation] == [ESCALATION]
    assert "You are the escalation contact" in escalation[0].text


def test_an_approval_link_is_no_review_link_and_a_review_link_no_approval_link():
    from coach.approvals.deciding import show

    asked = Asked()
    assert show(asked.link(), store=asked.store, now=NOW).status == 404
    assert show_review("x" * 43, store=asked.store, now=NOW).status == 404


def test_the_review_link_context_holds_the_event_and_notes_only():
    asked = Asked(missing=["drug.ndcs"])
    links = asked.store.group_links("cmp-1#clinical-review#clinical_reviewer")
    assert len(links) == 2
    for link in links:
        context = json.loads(link.context or "{}")
        assert set(context) == {"event", "review"}
        assert context["review"]["missing"] == ["drug.ndcs"]


def test_an_answer_after_the_review_closed_changes_nothing_and_is_kept_as_a_late_click():
    from coach.review.service import close_review_links

    asked = Asked()
    form = asked.form()  # the page was open when the campaign stopped waiting
    assert close_review_links("cmp-1", store=asked.store) == 2
    page = asked.post(form)
    assert page.status == 410 and "no longer waiting" in page.html
    assert asked.callbacks.calls == []
    [record] = asked.store.audit("cmp-1")
    assert record.action == "late_click" and record.comment == "attempted to confirm after the wait closed"
    assert asked.store.get_decision("cmp-1#clinical-review#clinical_reviewer") is None
