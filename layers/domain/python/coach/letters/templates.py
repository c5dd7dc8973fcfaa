"""Template governance: a template version renders only when its exact bytes were approved (approver, date, SHA-256
in templates/approvals.json). Every manifest row pins the version and hash used."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, StrictUndefined, TemplateSyntaxError, UndefinedError

from coach.letters.text import TAGLINE
from coach.models import MarketEvent, MemberRecord

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
REGISTRY = "approvals.json"
LANGUAGES = ("en", "es")
MEMBER_SERVICES_PHONE = "1-800-555-0199"
_MONTHS_ES = (
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
)


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


def format_date(value: date, lang: str) -> str:
    if lang == "es":
        return f"{value.day} de {_MONTHS_ES[value.month - 1]} de {value.year}"
    return f"{value:%B} {value.day}, {value.year}"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class TemplateRegistry:
    def __init__(self, root: Path = TEMPLATES_DIR) -> None:
        self.root = Path(root)
        self._entries: dict[str, dict[str, str]] = json.loads(
            (self.root / REGISTRY).read_text(encoding="utf-8")
        )
        # Plain text for the PDF renderer (not HTML): the email HTML part is escaped where it is built.
        self._env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701
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
        if entry["sha256"] != _sha(data):
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


def letter_context(member: MemberRecord, event: MarketEvent, lang: str) -> dict[str, Any]:
    return {
        "member": member,
        "drug_name": event.drug.name,
        "effective_date": format_date(event.effective_date, lang),
        "alternatives": list(event.alternatives),
        "recall_class": event.recall_class,
        "member_services_phone": MEMBER_SERVICES_PHONE,
        "tagline": TAGLINE,
    }


def approve_template(
    template_id: str, lang: str, approver: str, approved_on: date, version: str, root: Path = TEMPLATES_DIR
) -> None:
    """For maintainers: record that the current bytes of a template were approved."""
    registry_path = root / REGISTRY
    entries = json.loads(registry_path.read_text(encoding="utf-8")) if registry_path.exists() else {}
    entries[f"{template_id}/{lang}"] = {
        "version": version,
        "sha256": _sha((root / template_id / f"{lang}.j2").read_bytes()),
        "approver": approver,
        "approved_on": approved_on.isoformat(),
    }
    registry_path.write_text(json.dumps(dict(sorted(entries.items())), indent=2) + "\n", encoding="utf-8")


SAMPLE_MEMBER = MemberRecord(
    member_id="SAMPLE",
    client_id="SAMPLE",
    first_name="Maria",
    last_name="O'Brien-Núñez",
    address_line1="100 Main St",
    city="Springfield",
    state="IL",
    postal_code="62701",
    drug_name="Sample",
    last_fill_date=date(2002, 10, 1),
)
SAMPLE_EVENT = MarketEvent.model_validate(
    {
        "event_id": "sample",
        "event_type": "recall",
        "recall_class": "II",
        "drug": {"name": "Samplezol", "ingredient": "samplezole"},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "Sample event.",
        "alternatives": ["Altrazine", "Betaprofen"],
    }
)


def check_templates(root: Path = TEMPLATES_DIR) -> list[str]:
    """Render every template with sample data; report each missing required element, naming template and element."""
    problems: list[str] = []
    try:
        registry = TemplateRegistry(root)
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{REGISTRY}: cannot read the approvals registry ({exc})"]
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        for lang in LANGUAGES:
            relative = f"{folder.name}/{lang}.j2"
            if not (folder / f"{lang}.j2").exists():
                problems.append(f"{relative}: missing (every letter needs English and Spanish)")
                continue
            try:
                pinned = registry.pinned(folder.name, lang)
                text = registry.render(pinned, letter_context(SAMPLE_MEMBER, SAMPLE_EVENT, lang))
            except TemplateNotApproved as exc:
                problems.append(str(exc))
                continue
            except UndefinedError as exc:
                problems.append(f"{relative}: uses an undefined variable ({exc.message})")
                continue
            except TemplateSyntaxError as exc:
                problems.append(f"{relative}: template syntax error on line {exc.lineno} ({exc.message})")
                continue
            required = {
                "member's name": f"{SAMPLE_MEMBER.first_name} {SAMPLE_MEMBER.last_name}",
                "drug name": SAMPLE_EVENT.drug.name,
                "effective date": format_date(SAMPLE_EVENT.effective_date, lang),
                "member services phone (how to ask for an exception)": MEMBER_SERVICES_PHONE,
                "exception wording": "exception" if lang == "en" else "excepción",
                "language-assistance tagline": TAGLINE,
            }
            required.update({f"alternative {alt}": alt for alt in SAMPLE_EVENT.alternatives})
            problems += [
                f"{relative}: missing required element: {element}"
                for element, needle in required.items()
                if needle not in text
            ]
    return problems


def preview_template(template_id: str, lang: str, out_path: Path) -> None:
    from coach.letters.render import render_letters

    pinned = default_registry().pinned(template_id, lang)
    member = SAMPLE_MEMBER.model_copy(update={"language": lang})
    event = (
        SAMPLE_EVENT
        if template_id == "recall"
        else SAMPLE_EVENT.model_copy(update={"event_type": template_id, "recall_class": None})
    )
    text = default_registry().render(pinned, letter_context(member, event, lang))
    pdf, _ = render_letters([(member, text, lang)])
    Path(out_path).write_bytes(pdf)
