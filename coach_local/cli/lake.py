"""`coach lake check`: every problem of a lake folder, and with an event the audience it would get (dry run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coach_local.cli.common import EXIT_BAD_INPUT, console, err
from coach_local.inputs import BadInput, load_event

lake_app = typer.Typer(help="Your claims lake: check it against the data contract.", no_args_is_help=True)


def _print_problems(problems: list) -> None:
    for problem in problems:
        colour = "red" if problem.is_error else "yellow"
        err.print(f"[{colour}]{problem.line()}[/]", highlight=False, soft_wrap=True, markup=True)


def _audience_table(clients: list) -> Table:
    table = Table(title="Audience (dry run: nothing sent)")
    for column in ("client", "election", "affected", "reachable", "by channel", "by language"):
        table.add_column(column, justify="right" if column in ("affected", "reachable") else "left")
    for c in clients:
        table.add_row(
            f"{c.client_id} {c.name}",
            c.election,
            f"{c.affected:,}",
            f"{c.reachable:,}",
            ", ".join(f"{k} {v:,}" for k, v in sorted(c.channels.items())),
            ", ".join(f"{k} {v:,}" for k, v in sorted(c.languages.items())),
        )
    table.add_section()
    table.add_row(
        "total", "", f"{sum(c.affected for c in clients):,}", f"{sum(c.reachable for c in clients):,}", "", ""
    )
    return table


@lake_app.command("check")
def check(
    lake: Annotated[Path, typer.Option(help="Claims lake folder (claims/, members/, drugs/, clients/).")],
    event: Annotated[
        Path | None,
        typer.Option(
            help="Market event JSON: also check the lake against it and show its audience (dry run)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the problems (and audience) as JSON.")
    ] = False,
) -> None:
    """Check a lake against the data contract: every problem with file, column, rows and first row (exit 2 on
    any error). With --event, a dry run: the audience per client, nothing sent."""
    from coach.intake import parse_event

    from coach_local.claims.check import check_lake
    from coach_local.claims.preview import audience_preview

    try:
        raw_event = load_event(event) if event is not None else None
    except BadInput as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    announced_on = parse_event(raw_event).detail.announced_on if raw_event is not None else None
    report = check_lake(lake, announced_on=announced_on)
    audience = audience_preview(lake, raw_event) if raw_event is not None and not report.errors else None
    if as_json:
        print(
            json.dumps(
                {
                    "lake": str(lake),
                    "errors": [p.as_dict() for p in report.errors],
                    "warnings": [p.as_dict() for p in report.warnings],
                    "audience": None if audience is None else [c.as_dict() for c in audience],
                },
                indent=2,
            )
        )
    else:
        _print_problems(report.problems)
        if audience is not None:
            console.print(_audience_table(audience))
        verdict = "[bold red]refused[/]" if report.errors else "[bold green]passes[/]"
        console.print(
            f"{lake}: {verdict} ({len(report.errors)} errors, {len(report.warnings)} warnings)",
            highlight=False,
        )
    if report.errors:
        raise typer.Exit(EXIT_BAD_INPUT)
