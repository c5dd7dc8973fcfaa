"""`coach cost`: one campaign's AWS cost against the naive design's, optionally from a local run's timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from coach_local.cli.common import JsonFlag, console, print_json
from coach_local.inputs import BadInput

app = typer.Typer()


def _measured_seconds(out_dir: Path) -> dict[str, float]:
    """Seconds per invocation of each function, as a local run measured them (report.json local_run.stages)."""
    path = out_dir / "report.json"
    try:
        stages = json.loads(path.read_text(encoding="utf-8"))["local_run"]["stages"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadInput(
            f"{path}: no stage timings here; run `coach demo` or `coach run --out {out_dir}` first"
        ) from exc
    return {
        s["function"]: s["busy_seconds"] / s["invocations"]
        for s in stages
        if s["invocations"] and s["function"] not in ("audience", "letters")
    }


@app.command()
def cost(
    members: Annotated[int, typer.Option(min=0, help="Members who get a letter or email.")] = 9_000_000,
    clients: Annotated[int, typer.Option(min=1, help="Clients with affected members.")] = 400,
    lake_claims: Annotated[
        int | None, typer.Option(min=0, help="Claims in the lake (default: inputs.json).")
    ] = None,
    measured: Annotated[
        Path | None, typer.Option(help="Use the function durations a local run measured (its OUT).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Estimate one campaign's AWS cost, and the naive design's, from the prices and measurements in one file."""
    from coach.cost import INPUTS, estimate_naive, estimate_ours, inputs

    seconds = _measured_seconds(measured) if measured else None
    ours = estimate_ours(members, clients, lake_claims, seconds_per_invocation=seconds)
    naive = estimate_naive(members, clients, lake_claims, seconds_per_invocation=seconds)
    ratio = naive.total / ours.total if ours.total else float("inf")
    prices = inputs()["prices"]
    if as_json:
        print_json(
            {
                "members": members,
                "clients": clients,
                "prices_as_of": prices["as_of"],
                "inputs": str(INPUTS),
                "ours": ours.as_dict(),
                "naive": naive.as_dict(),
                "ratio": round(ratio, 2),
            },
            indent=2,
        )
        return
    table = Table(title=f"One campaign on AWS: {members:,} members, {clients:,} clients")
    table.add_column("service")
    table.add_column(ours.design, justify="right")
    table.add_column(naive.design, justify="right")
    for service in sorted(set(ours.lines) | set(naive.lines)):
        table.add_row(service, f"${ours.lines.get(service, 0):,.2f}", f"${naive.lines.get(service, 0):,.2f}")
    table.add_section()
    table.add_row("total", f"${ours.total:,.2f}", f"${naive.total:,.2f}")
    table.add_row(
        "machine time (people's waits excluded)",
        f"{ours.wall_clock_seconds / 60:,.1f} min",
        f"{naive.wall_clock_seconds / 3600:,.1f} h",
    )
    console.print(table)
    console.print(
        f"The naive design costs {ratio:,.1f}× as much: one Map item, one Lambda invocation and one S3 "
        "object per member in a Standard workflow, claims read from unpartitioned CSV. "
        f"Prices: {prices['source']}; "
        f"inputs in {INPUTS}." + (f" Function durations measured in {measured}." if measured else ""),
        highlight=False,
    )
