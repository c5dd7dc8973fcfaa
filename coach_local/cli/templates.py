"""`coach templates`: check, approve and preview letter templates (coach.letters.authoring)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from coach_local.cli.common import EXIT_FAILED, JsonFlag, console, err, fail_input, print_json

if TYPE_CHECKING:
    from coach.letters.branding import Branding

app = typer.Typer(help="Letter templates: check and preview.", no_args_is_help=True)


def _templates_root(directory: Path | None) -> Path:
    from coach.letters.templates import REGISTRY, TEMPLATES_DIR

    if directory is None:
        return TEMPLATES_DIR
    if not directory.is_dir():
        fail_input(f"{directory}: no such folder (expected one folder per event type, and {REGISTRY})")
    return directory


TemplatesDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="A templates folder to work on (a draft copy); default: the templates this install sends.",
    ),
]


@app.command("check")
def check(
    directory: TemplatesDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Render every template (approved or draft) against sample data for every branch of its event type; verify
    the required elements and that each template is the approved version."""
    from coach.letters.authoring import check_templates

    problems = check_templates(_templates_root(directory))
    if as_json:
        print_json({"ok": not problems, "problems": [str(problem) for problem in problems]})
        if problems:
            raise typer.Exit(EXIT_FAILED)
        return
    for problem in problems:
        err.print(f"[red]✗[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(EXIT_FAILED)
    console.print("All letter templates render and contain every required element.")


@app.command("approve")
def approve(
    template: Annotated[str, typer.Argument(help="Template and language, e.g. otc_switch/es.")],
    approver: Annotated[str, typer.Option(help="Who approved this content (name and role).")],
    version: Annotated[str, typer.Option(help="The version this content gets, e.g. 1.1.0.")],
    directory: TemplatesDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Record an approval of a template's current content (approver, today's date, SHA-256). Refused while the
    template fails its check; the earlier approval is kept in the registry's history."""
    from coach.letters.authoring import ApprovalRefused, approval_blockers, approve_template
    from coach.letters.templates import LANGUAGES

    root = _templates_root(directory)
    template_id, _, lang = template.partition("/")
    if lang not in LANGUAGES:
        fail_input(f"{template!r}: name the language too, e.g. {template_id}/en ({', '.join(LANGUAGES)})")
    relative = f"{template_id}/{lang}.j2"
    blocking = approval_blockers(template_id, lang, root)
    if blocking:
        fail_input("not approved, the template fails its check: " + "; ".join(map(str, blocking)))
    try:
        entry = approve_template(template_id, lang, approver, datetime.now(UTC).date(), version, root=root)
    except ApprovalRefused as exc:
        fail_input(str(exc))
    if as_json:
        print_json({"template": relative, **{k: v for k, v in entry.items() if k != "history"}})
    else:
        console.print(
            f"Approved {relative} version {entry['version']} (sha256 {entry['sha256'][:16]}…) "
            f"by {entry['approver']} on {entry['approved_on']}.",
            highlight=False,
        )


@app.command("preview")
def preview(
    template: Annotated[str, typer.Argument(help="Template id, e.g. otc_switch (or otc_switch/es).")],
    out: Annotated[Path, typer.Option(help="PDF file to write.")] = Path("preview.pdf"),
    client: Annotated[
        str | None,
        typer.Option(
            help="A client of --lake: the letter in its own letterhead (plan name, address, logo…)."
        ),
    ] = None,
    lake: Annotated[
        Path | None, typer.Option(help="Claims lake folder whose clients/ table names --client.")
    ] = None,
    directory: TemplatesDir = None,
    as_json: JsonFlag = False,
) -> None:
    """Render one letter with sample data to a PDF for a person to read: the approved version, or with --dir a
    draft (marked DRAFT); with --client, in that client's letterhead."""
    from coach.letters.authoring import preview_template
    from coach.letters.templates import LANGUAGES, TemplateNotApproved

    root = _templates_root(directory) if directory is not None else None
    template_id, _, lang = template.partition("/")
    lang = lang or "en"
    folder = root or _templates_root(None)
    known = ", ".join(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    if lang not in LANGUAGES:
        fail_input(f"{template!r}: no {lang!r} version (languages: {', '.join(LANGUAGES)})")
    if not out.parent.is_dir():
        fail_input(f"--out {out}: the folder {out.parent} does not exist")
    branding = _client_branding(client, lake)
    try:
        preview_template(template_id, lang, out, root=root, branding=branding)
    except TemplateNotApproved as exc:
        fail_input(f"{exc} (templates: {known})")
    if as_json:
        print_json({"template": f"{template_id}/{lang}", "client": client, "pdf": str(out.resolve())})
    else:
        console.print(f"Preview written to {out}")


def _client_branding(client: str | None, lake: Path | None) -> Branding:
    """The letterhead of --client in --lake (the PBM's without --client); a bad one is an input error naming it."""
    from coach.letters.branding import PBM_BRANDING

    if client is None:
        if lake is not None:
            fail_input("--lake is only used with --client")
        return PBM_BRANDING
    if lake is None:
        fail_input("--client needs --lake, the lake folder whose clients/ table lists it")
    from coach.audience.engine import LakeError

    from coach_local.claims.branding import client_branding
    from coach_local.claims.lake import load_clients

    try:
        rows, _ = load_clients(lake)
    except LakeError as exc:
        fail_input(str(exc))
    row = next((r for r in rows if r["client_id"] == client), None)
    if row is None:
        fail_input(f"--client {client}: no such client in {lake / 'clients'}")
    try:
        return client_branding(lake, row)
    except LakeError as exc:
        fail_input(f"{lake / 'clients'}: {exc}")
