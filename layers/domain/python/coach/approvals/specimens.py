"""Approving binds to the letter shown (docs/templates.md): each link's page shows the specimen of the campaign's
pinned template versions; the decision and its audit record keep the SHA-256 of each version shown; an approval
never carries over to other content (a re-run asks again), and the letters stage refuses to send a version other
than the approved one."""

from __future__ import annotations

import json
from dataclasses import dataclass

from coach.approvals.errors import (
    ApprovalProblem,
    LinkExpired,
    LinkNotFound,
    LinkSuperseded,
    TaskNoLongerWaiting,
)
from coach.approvals.pages import Page, page_for, result_page
from coach.approvals.records import DecisionRecord, LinkRecord, group_of, link_hash
from coach.letters.branding import Branding
from coach.letters.specimen import Specimen, make_specimens, specimens_of
from coach.models import ApprovalRequest
from coach.ports import ApprovalStore, ObjectStore

ROLES = ("account_team", "client")


def request_specimens(
    request: ApprovalRequest, *, branding: Branding, objects: ObjectStore, letters_bucket: str
) -> list[Specimen]:
    """The specimens this request's pages show: the pinned versions, in the client's letterhead (its campaign
    snapshot, coach.letters.branding.load_branding) and languages."""
    return make_specimens(
        campaign_id=request.campaign_id,
        client_id=request.client.client_id,
        template_id=request.template_id or request.event.event_type,
        pins=request.template_sha256,
        event=request.event,
        branding=branding,
        languages=request.client.languages,
        store=objects,
        letters_bucket=letters_bucket,
    )


def templates_shown(link: LinkRecord) -> str:
    """The JSON a decision and its audit record keep: language → SHA-256 of each template version shown."""
    shown = {s.lang: s.sha256 for s in specimens_of(link.specimens)}
    return json.dumps(shown, sort_keys=True) if shown else ""


def _shown(decision: DecisionRecord) -> dict[str, str]:
    return dict(json.loads(decision.templates_shown)) if decision.templates_shown else {}


def approval_carries_over(decision: DecisionRecord, pins: dict[str, str] | None) -> bool:
    """Whether a recorded decision answers a new ask (a redrive or re-run) about a letter with these pins: only
    when it was made on a page that showed no other version of any of those languages."""
    shown = _shown(decision)
    if not shown or not pins:
        return True  # asked before pages showed the letter, or this ask names no versions: nothing to compare
    return all(pins.get(lang) == sha for lang, sha in shown.items())


class NotTheApprovedLetter(RuntimeError):
    """The letters stage was asked to send a template version nobody approved for this client; says which."""


def approved_templates(store: ApprovalStore, campaign_id: str, client_id: str) -> dict[str, dict[str, str]]:
    """role → (language → SHA-256) of the letters each role approved for this client (roles that approved on a
    page that showed the letter)."""
    approved: dict[str, dict[str, str]] = {}
    decided = store.decisions([group_of(campaign_id, client_id, role) for role in ROLES])  # one batch read
    for role in ROLES:
        decision = decided.get(group_of(campaign_id, client_id, role))
        if decision is not None and decision.decision == "approved" and decision.templates_shown:
            approved[role] = _shown(decision)
    return approved


def refuse_unapproved(
    template_path: str, lang: str, sha256: str, approved: dict[str, dict[str, str]]
) -> None:
    """NotTheApprovedLetter when a role approved a page that showed another version of this language's letter."""
    for role, shown in approved.items():
        if lang in shown and shown[lang] != sha256:
            who = "the account team" if role == "account_team" else "the client"
            raise NotTheApprovedLetter(
                f"{template_path}: {who} approved the letter with sha256 {shown[lang][:16]}… but this batch would "
                f"send sha256 {sha256[:16]}…; nothing was sent (the approval does not carry over to other "
                "content: deploy the approved version again, or start a new campaign and ask again)"
            )


@dataclass(frozen=True)
class SpecimenPdf:
    """A specimen PDF as the approval API serves it."""

    body: bytes
    filename: str


class SpecimenNotFound(ApprovalProblem):
    """No such specimen for this link (an unknown language, or a link whose page shows none)."""


@page_for.register
def _(problem: SpecimenNotFound) -> Page:
    return result_page(
        404, "No such specimen letter", "Open the link from your email and use the page's link."
    )


def specimen_lang(file: str) -> str:
    """The language of a specimen PDF's file name (`en.pdf` → `en`); SpecimenNotFound for any other name."""
    lang, dot, extension = file.partition(".")
    if not dot or extension != "pdf":
        raise SpecimenNotFound()
    return lang


def specimen_pdf(
    link_id: str, lang: str, *, store: ApprovalStore, objects: ObjectStore, letters_bucket: str, now: float
) -> SpecimenPdf:
    """GET of a link's specimen PDF: only while the link itself may be shown (the same refusals as its page), and
    only the specimen its page names (never another key of the letters bucket)."""
    link = store.get_link(link_hash(link_id)) if 20 <= len(link_id) <= 100 else None
    if link is None:
        raise LinkNotFound()
    return link_specimen_pdf(link, lang, objects=objects, letters_bucket=letters_bucket, now=now)


def link_specimen_pdf(
    link: LinkRecord, lang: str, *, objects: ObjectStore, letters_bucket: str, now: float
) -> SpecimenPdf:
    """specimen_pdf for a link already found (its own URL, or a row of a digest: coach.approvals.digest_service)."""
    if link.state == "superseded":
        raise LinkSuperseded()
    if link.state == "closed":
        raise TaskNoLongerWaiting()
    if now > link.expires_at:
        raise LinkExpired()
    specimen = next((s for s in specimens_of(link.specimens) if s.lang == lang), None)
    if specimen is None:
        raise SpecimenNotFound()
    return SpecimenPdf(objects.get(letters_bucket, specimen.pdf_key), f"specimen-{link.client_id}-{lang}.pdf")
