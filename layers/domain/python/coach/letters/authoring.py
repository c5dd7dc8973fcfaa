"""Authoring letter templates: check a draft on every branch its event type can take, record an approval, preview
one letter. Problems are typed (TemplateProblem) so that callers decide by kind; their text names file and element."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from jinja2 import Environment, TemplateSyntaxError, UndefinedError

from coach.letters.branding import PBM_BRANDING, Branding
from coach.letters.render import render_letters
from coach.letters.templates import (
    LANGUAGES,
    MEMBER_SERVICES_PHONE,
    REGISTRY,
    TEMPLATES_DIR,
    TemplateNotApproved,
    content_sha256,
    default_registry,
    letter_context,
    template_environment,
)
from coach.letters.text import TAGLINE, format_date, parse_markup
from coach.models import EVENT_TYPES, MarketEvent, MemberRecord

ProblemKind = Literal[
    "no_registry",  # approvals.json is missing: nothing can be sent
    "unreadable_registry",  # approvals.json is not readable JSON: nothing else is checked
    "unknown_folder",  # a folder named after no event type
    "missing_folder",  # an event type without a template folder
    "missing_language",  # a template folder without en.j2 or es.j2
    "not_utf8",
    "syntax",
    "undefined",  # renders a variable the letter context does not have
    "render_error",  # any other failure while rendering (a filter on the wrong type, a bad call)
    "missing_element",  # a rendered letter lacks something every letter must say
    "not_approved",  # no approval recorded for this template
    "content_changed",  # the bytes differ from the approved version
]
# What an approval settles: these never stop one; every other problem of the template does.
APPROVAL_KINDS: frozenset[ProblemKind] = frozenset({"not_approved", "content_changed"})


@dataclass(frozen=True)
class TemplateProblem:
    """One problem of a templates folder. template_id None: the approvals registry itself; lang None: a folder."""

    template_id: str | None
    lang: str | None
    kind: ProblemKind
    message: str
    element: str | None = None  # missing_element: which one
    when: str | None = None  # the first sample case it showed up in, when not in every case

    @property
    def path(self) -> str:
        if self.template_id is None:
            return REGISTRY
        if self.lang is None:
            return f"{self.template_id}/"
        return f"{self.template_id}/{self.lang}.j2"

    def __str__(self) -> str:
        text = f"{self.path}: {self.message}"
        return f"{text} (when {self.when})" if self.when else text


class ApprovalRefused(ValueError):
    """An approval the registry will not record; says why."""


def approve_template(
    template_id: str, lang: str, approver: str, approved_on: date, version: str, root: Path = TEMPLATES_DIR
) -> dict[str, Any]:
    """Record that the current bytes of a template were approved. The previous approval moves to the entry's
    `history` (nothing is overwritten); a version string names one content only. Returns the new entry.
    Whether the content passes its check is the caller's to ask first (approval_blockers)."""
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
    sha = content_sha256(source.read_bytes())
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


def _check_one(env: Environment, template_id: str, lang: str, source: str) -> list[TemplateProblem]:
    try:
        template = env.from_string(source)
    except TemplateSyntaxError as exc:
        message = f"template syntax error on line {exc.lineno} ({exc.message})"
        return [TemplateProblem(template_id, lang, "syntax", message)]
    # problem → the sample cases it showed up in; reported once, with the first case when not in every case.
    found: dict[TemplateProblem, list[str]] = {}
    cases = rendered = 0
    for event in sample_events(template_id):
        for member in SAMPLE_MEMBERS:
            cases += 1
            case = _describe(event)
            try:
                text = str(template.render(**letter_context(member, event, lang)))
            except UndefinedError as exc:
                message = f"uses an undefined variable ({exc.message})"
                found.setdefault(TemplateProblem(template_id, lang, "undefined", message), []).append(case)
                continue
            except Exception as exc:  # a filter on the wrong type, a bad call: the check names it
                message = f"fails to render ({type(exc).__name__}: {exc})"
                found.setdefault(TemplateProblem(template_id, lang, "render_error", message), []).append(case)
                continue
            rendered += 1
            missing = [e for e, needle in required_elements(event, lang).items() if needle not in text]
            if not any(block.kind == "bullet" for block in parse_markup(text)):
                missing.append("what changes for the member (a list of at least one '- ' item)")
            for element in missing:
                problem = TemplateProblem(
                    template_id, lang, "missing_element", f"missing required element: {element}", element
                )
                found.setdefault(problem, []).append(case)
    return [
        problem
        if len(seen) == (rendered if problem.kind == "missing_element" else cases)
        else replace(problem, when=seen[0])
        for problem, seen in found.items()
    ]


def check_templates(root: Path = TEMPLATES_DIR) -> list[TemplateProblem]:
    """Render every template (approved or not) against sample data for every branch its event type can take;
    report each undefined variable and missing required element naming template and element, then each template
    whose bytes are not the approved version. A draft can be checked before anyone approves it."""
    problems: list[TemplateProblem] = []
    try:
        entries: dict[str, dict[str, Any]] = json.loads((root / REGISTRY).read_text(encoding="utf-8"))
    except FileNotFoundError:
        entries = {}
        problems.append(
            TemplateProblem(None, None, "no_registry", "no approvals registry (nothing can be sent)")
        )
    except (OSError, json.JSONDecodeError) as exc:
        message = f"cannot read the approvals registry ({exc})"
        return [TemplateProblem(None, None, "unreadable_registry", message)]
    env = template_environment()
    folders = {p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))}
    problems += [
        TemplateProblem(
            name,
            None,
            "unknown_folder",
            f"no event type of that name (event types: {', '.join(EVENT_TYPES)})",
        )
        for name in sorted(folders - set(EVENT_TYPES))
    ]
    problems += [
        TemplateProblem(name, None, "missing_folder", "no template for this event type")
        for name in EVENT_TYPES
        if name not in folders
    ]
    for folder in sorted(folders & set(EVENT_TYPES)):
        for lang in LANGUAGES:
            path = root / folder / f"{lang}.j2"
            if not path.is_file():
                message = "missing (every letter needs English and Spanish)"
                problems.append(TemplateProblem(folder, lang, "missing_language", message))
                continue
            data = path.read_bytes()
            try:
                source = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(TemplateProblem(folder, lang, "not_utf8", f"not UTF-8 (byte {exc.start})"))
                continue
            problems += _check_one(env, folder, lang, source)
            entry = entries.get(f"{folder}/{lang}")
            if entry is None:
                message = f"no approval recorded in {REGISTRY}"
                problems.append(TemplateProblem(folder, lang, "not_approved", message))
            elif entry.get("sha256") != content_sha256(data):
                message = (
                    f"content differs from approved version {entry.get('version')} "
                    f"(approved by {entry.get('approver')} on {entry.get('approved_on')})"
                )
                problems.append(TemplateProblem(folder, lang, "content_changed", message))
    return problems


def approval_blockers(template_id: str, lang: str, root: Path = TEMPLATES_DIR) -> list[TemplateProblem]:
    """The problems of this template's own file that an approval would not settle: content that fails its check
    must not be approved."""
    return [
        problem
        for problem in check_templates(root)
        if (problem.template_id, problem.lang) == (template_id, lang) and problem.kind not in APPROVAL_KINDS
    ]


def preview_event(template_id: str) -> MarketEvent:
    """The sample event a preview of this template shows."""
    if template_id == "recall":
        return SAMPLE_EVENT
    return SAMPLE_EVENT.model_copy(update={"event_type": template_id, "recall_class": None})


def preview_template(
    template_id: str,
    lang: str,
    out_path: Path,
    *,
    root: Path | None = None,
    branding: Branding = PBM_BRANDING,
) -> None:
    """One sample letter as a PDF. The installed templates (root None) preview their approved version only; a
    draft folder previews what is in it, approved or not, marked DRAFT. `branding`: a client's letterhead."""
    member = SAMPLE_MEMBER.model_copy(update={"language": lang})
    event = preview_event(template_id)
    if root is None:
        pinned = default_registry().pinned(template_id, lang)
        text = default_registry().render(pinned, letter_context(member, event, lang, branding))
        mark = None
    else:
        path = Path(root) / template_id / f"{lang}.j2"
        if not path.is_file():
            raise TemplateNotApproved(f"{template_id}/{lang}.j2: no such template in {root}")
        source = path.read_text(encoding="utf-8")
        text = str(
            template_environment().from_string(source).render(**letter_context(member, event, lang, branding))
        )
        mark = "DRAFT"
    pdf, _ = render_letters([(member, text, lang)], branding=branding, mark=mark)
    Path(out_path).write_bytes(pdf)
