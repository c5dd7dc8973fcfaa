"""Template governance at run time: a template version renders only when its exact bytes were approved (approver,
date, SHA-256 in templates/approvals.json). Every manifest row pins the version and hash used. Authoring tools
(check, approve, preview) are in coach.letters.authoring: a Lambda never loads them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined

from coach.letters.branding import DEFAULT_PHONE, PBM_BRANDING, Branding
from coach.letters.text import TAGLINE, format_date
from coach.models import MarketEvent, MemberRecord

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REGISTRY = "approvals.json"
LANGUAGES = ("en", "es")
MEMBER_SERVICES_PHONE = DEFAULT_PHONE  # the PBM's; a client's own is its branding's


class TemplateNotApproved(RuntimeError):
    """A template whose bytes are not the approved version; names the file."""


@dataclass(frozen=True)
class PinnedTemplate:
    template_id: str
    lang: str
    version: str
    sha256: str
    source: str
    path: str


def content_sha256(data: bytes) -> str:
    """The hash an approval records and a campaign pins."""
    return hashlib.sha256(data).hexdigest()


def template_environment() -> Environment:
    """How letters render; the authoring check renders drafts the same way. Plain text for the PDF renderer (not
    HTML): the email HTML part is escaped where it is built."""
    return Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701


class TemplateRegistry:
    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        self.root = Path(root)
        self._entries: dict[str, dict[str, str]] = json.loads(
            (self.root / REGISTRY).read_text(encoding="utf-8")
        )
        self._env = template_environment()
        self._compiled: dict[str, Any] = {}

    def pinned(self, template_id: str, lang: str) -> PinnedTemplate:
        lang = lang if lang in LANGUAGES else "en"
        path = self.root / template_id / f"{lang}.j2"
        relative = f"{template_id}/{lang}.j2"
        if not path.is_file():
            raise TemplateNotApproved(f"{relative}: no such template")
        entry = self._entries.get(f"{template_id}/{lang}")
        data = path.read_bytes()
        if entry is None:
            raise TemplateNotApproved(f"{relative}: no approval recorded in {REGISTRY}")
        if entry["sha256"] != content_sha256(data):
            raise TemplateNotApproved(
                f"{relative}: content differs from approved version {entry['version']} "
                f"(approved by {entry['approver']} on {entry['approved_on']})"
            )
        return PinnedTemplate(
            template_id, lang, entry["version"], entry["sha256"], data.decode("utf-8"), relative
        )

    def render(self, pinned: PinnedTemplate, context: dict[str, Any]) -> str:
        template = self._compiled.get(pinned.sha256)
        if template is None:
            template = self._compiled[pinned.sha256] = self._env.from_string(pinned.source)
        return str(template.render(**context))


@cache
def default_registry() -> TemplateRegistry:
    return TemplateRegistry()


def letter_language(lang: str | None) -> str:
    """The language a member's letter is written in: theirs when a template exists for it, else English."""
    return lang if lang in LANGUAGES else "en"


def letter_context(
    member: MemberRecord, event: MarketEvent, lang: str, branding: Branding = PBM_BRANDING
) -> dict[str, Any]:
    """Every variable a template can use (docs/templates.md lists them; a test keeps the two in step)."""
    return {
        "member": member,
        "drug_name": event.drug.name,
        "effective_date": format_date(event.effective_date, lang),
        "announced_on": format_date(event.announced_on, lang),
        "summary": event.summary,
        "alternatives": list(event.alternatives),
        "recall_class": event.recall_class,
        "tagline": TAGLINE,
        **branding.variables(),  # plan_name, return_address, member_services_phone and _hours, signature
    }
