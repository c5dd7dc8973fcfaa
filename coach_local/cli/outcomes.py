"""`coach outcomes`: measure a finished local campaign's outcome again (after a lake refresh), without waiting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coach_local.cli.common import JsonFlag, console, fail_input, print_json
from coach_local.inputs import BadInput

app = typer.Typer()


def _percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.1f}%"


@app.command()
def outcomes(
    out: Annotated[Path, typer.Option(help="Output folder of a finished local campaign.")] = Path("out"),
    lake: Annotated[Path, typer.Option(help="Claims lake folder to measure over.")] = Path("out/lake"),
    as_json: JsonFlag = False,
) -> None:
    """Measure what lettered and held-out members did next; updates report.json and report.html in OUT."""
    from coach_local.outcomes_local import recompute

    try:
        result = recompute(out, lake)
    except BadInput as exc:
        fail_input(str(exc))
        return
    if as_json:
        print_json(result, indent=2)
        return
    window = result["window"]
    table = Table(title=f"Outcomes {window['first_day']} to {window['last_day']} (lettered vs held out)")
    for column in ("client", "lettered", "held out", "switched", "refilled", "no further fill"):
        table.add_column(column, justify="left" if column == "client" else "right")
    for entry in [*result["clients"], {"client_id": "total", "client_name": "", **result["totals"]}]:
        lettered, held = entry["lettered"], entry["held_out"]
        table.add_row(
            f"{entry['client_id']} {entry['client_name']}",
            f"{lettered['members']:,}",
            f"{held['members']:,}",
            *(
                f"{_percent(lettered['rates'][o])} vs {_percent(held['rates'][o])}"
                for o in ("switched", "refilled", "no_fill")
            ),
        )
    console.print(table)
    console.print(f"Report: {(out / 'report.html').resolve()}", highlight=False)
