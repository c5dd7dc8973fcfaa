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


class ApprovalRefused(ValueError):
    """An approval the registry will not record; says why."""


def approve_template(
    template_id: str, lang: str, approver: str, approved_on: date, version: str, root: Path = TEMPLATES_DIR
) -> dict[str, Any]:
    """Record that the current bytes of a template were approved. The previous approval moves to the entry's
    `history` (nothing is overwritten); a version string names one content only. Returns the new entry."""
    relative = f"{template_id}/{lang}.j2"
    if not approver.strip():
        raise ApprovalRefused(f"{relative}: the approver's name is required")
    if not version.strip():
        raise ApprovalRefused(f"{relative}: a version is required")
    source = root / template_id / f"{lang}.j2"
    if not source.is_file():
        raise ApprovalRefused(f"{relative}: no such template")
    registry_path = root / REGISTRY
    entries = json.loads(registry_path.read_text(encoding="utf-8")) if registry_path.exists() else {}
    sha = _sha(source.read_bytes())
    current = entries.get(f"{template_id}/{lang}")
    history: list[dict[str, str]] = []
    if current is not None:
        history = list(current.get("history", []))
        earlier = [{k: v for k, v in current.items() if k != "history"}, *history]
        for approved in earlier:
            if approved["version"] == version and approved["sha256"] != sha:
                raise ApprovalRefused(
                    f"{relative}: version {version} was approved for other content; give this content a new version"
                )
        if current["sha256"] == sha:
            raise ApprovalRefused(
                f"{relative}: this content is already approved as version {current['version']}"
            )
        history = [{k: v for k, v in current.items() if k != "history"}, *history]
    entry: dict[str, Any] = {
        "version": version,
        "sha256": sha,
        "approver": approver.strip(),
        "approved_on": approved_on.isoformat(),
    }
    if history:
        entry["history"] = history
    entries[f"{template_id}/{lang}"] = entry
    registry_path.write_text(json.dumps(dict(sorted(entries.items())), indent=2) + "\n", encoding="utf-8")
    return entry


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


def sample_events(event_type: str) -> list[MarketEvent]:
    """Every branch a template can take for its event type: with and without covered alternatives, and each
    recall class (a branch that only some events reach must not fail a member's letter instead of this check)."""
    classes: list[str | None] = ["I", "II", "III"] if event_type == "recall" else [None]
    return [
        SAMPLE_EVENT.model_copy(
            update={"event_type": event_type, "recall_class": recall_class, "alternatives": alternatives}
        )
        for recall_class in classes
        for alternatives in (list(SAMPLE_EVENT.alternatives), [])
    ]


SAMPLE_MEMBERS = (
    SAMPLE_MEMBER,
    SAMPLE_MEMBER.model_copy(update={"address_line2": "Apt 4", "confidential_address": True}),
)


def _describe(event: MarketEvent) -> str:
    parts = [f"recall class {event.recall_class}"] if event.recall_class else []
    parts.append("with alternatives" if event.alternatives else "without alternatives")
    return ", ".join(parts)


def required_elements(text_event: MarketEvent, lang: str) -> dict[str, str]:
    """What every letter must say (element → the sample text that proves it)."""
    required = {
        "member's name": f"{SAMPLE_MEMBER.first_name} {SAMPLE_MEMBER.last_name}",
        "drug name": text_event.drug.name,
        "effective date": format_date(text_event.effective_date, lang),
        "member services phone (how to ask for an exception)": MEMBER_SERVICES_PHONE,
        "exception wording": "exception" if lang == "en" else "excepción",
        "language-assistance tagline": TAGLINE,
    }
    required.update({f"covered alternative {alt}": alt for alt in text_event.alternatives})
    return required


def _check_one(env: Environment, relative: str, source: str, event_type: str, lang: str) -> list[str]:
    from coach.letters.text import parse_markup

    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        return [f"{relative}: template syntax error on line {exc.lineno} ({exc.message})"]
    # problem → the sample cases it showed up in; reported once, with the first case when not in every case.
    found: dict[str, list[str]] = {}
    cases = rendered = 0
    for event in sample_events(event_type):
        for member in SAMPLE_MEMBERS:
            cases += 1
            case = _describe(event)
            try:
                text = str(template.render(**letter_context(member, event, lang)))
            except UndefinedError as exc:
                found.setdefault(f"{relative}: uses an undefined variable ({exc.message})", []).append(case)
                continue
            except Exception as exc:  # a filter on the wrong type, a bad call: the check names it
                found.setdefault(f"{relative}: fails to render ({type(exc).__name__}: {exc})", []).append(
                    case
                )
                continue
            rendered += 1
            missing = [e for e, needle in required_elements(event, lang).items() if needle not in text]
            if not any(block.kind == "bullet" for block in parse_markup(text)):
                missing.append("what changes for the member (a list of at least one '- ' item)")
            for element in missing:
                found.setdefault(f"{relative}: missing required element: {element}", []).append(case)
    return [
        problem
        if len(seen) == (rendered if "missing required element" in problem else cases)
        else f"{problem} (when {seen[0]})"
        for problem, seen in found.items()
    ]


def check_templates(root: Path = TEMPLATES_DIR) -> list[str]:
    """Render every template (approved or not) against sample data for every branch its event type can take;
    report each undefined variable and missing required element naming template and element, then each template
    whose bytes are not the approved version. A draft can be checked before anyone approves it."""
    from coach.models import EVENT_TYPES

    problems: list[str] = []
    try:
        entries: dict[str, dict[str, Any]] = json.loads((root / REGISTRY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        entries = {}
        problems.append(f"{REGISTRY}: no approvals registry (nothing can be sent)")
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{REGISTRY}: cannot read the approvals registry ({exc})"]
    env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)  # noqa: S701
    folders = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    problems += [
        f"{name}/: no event type of that name (event types: {', '.join(EVENT_TYPES)})"
        for name in sorted(folders - set(EVENT_TYPES))
    ]
    problems += [f"{name}/: no template for this event type" for name in EVENT_TYPES if name not in folders]
    for folder in sorted(folders & set(EVENT_TYPES)):
        for lang in LANGUAGES:
            relative = f"{folder}/{lang}.j2"
            path = root / folder / f"{lang}.j2"
            if not path.is_file():
                problems.append(f"{relative}: missing (every letter needs English and Spanish)")
                continue
            data = path.read_bytes()
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"{relative}: not UTF-8 (byte {exc.start})")
                continue
            problems += _check_one(env, relative, source, folder, lang)
            entry = entries.get(f"{folder}/{lang}")
            if entry is None:
                problems.append(f"{relative}: no approval recorded in {REGISTRY}")
            elif entry.get("sha256") != _sha(data):
                problems.append(
                    f"{relative}: content differs from approved version {entry.get('version')} "
                    f"(approved by {entry.get('approver')} on {entry.get('approved_on')})"
                )
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
