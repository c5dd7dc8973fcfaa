"""`coach prescribers import`: the lake's prescribers/ table from the NPPES dissemination file (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coach_local.cli.common import JsonFlag, console, print_json

prescribers_app = typer.Typer(help="Prescribers: the lake's prescribers/ table.", no_args_is_help=True)


@prescribers_app.command("import")
def import_command(
    nppes: Annotated[
        Path,
        typer.Option(help="The NPPES dissemination CSV (npidata_pfile_*.csv), streamed.", metavar="<path>"),
    ],
    out: Annotated[
        Path, typer.Option(help="Lake folder: prescribers/ is written (replaced) in it.", metavar="<path>")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Build prescribers/ (NPI, name, practice address, fax, accepts fax/mail) from the public NPPES file."""
    from coach_local.prescribers.nppes import import_nppes

    stats = import_nppes(nppes, out)
    if as_json:
        print_json({"rows": stats.rows, "written": stats.written, "skipped": stats.skipped})
        return
    console.print(f"{out / 'prescribers'}: {stats}", highlight=False)
