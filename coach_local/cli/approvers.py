"""`coach approvers …`: who decides for an approver who is away (docs/architecture.md, "Delegates")."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from coach_local.cli.common import JsonFlag, console, fail_input, print_json

approvers_app = typer.Typer(help="Approvers: name a delegate while someone is away.", no_args_is_help=True)


@approvers_app.command("delegate")
def delegate(
    approver: Annotated[str, typer.Argument(help="the approver who is away (an email address)")],
    to: Annotated[
        str, typer.Option("--to", help="the delegate who decides in their place (an email address)")
    ],
    start: Annotated[str, typer.Option("--from", help="first day away, YYYY-MM-DD (UTC)")],
    end: Annotated[str, typer.Option("--until", help="last day away, YYYY-MM-DD (UTC), included")],
    lake: Annotated[Path, typer.Option(help="the lake folder whose runs use this delegation")] = Path("lake"),
    as_json: JsonFlag = False,
) -> None:
    """Asks to APPROVER between the two days go to the delegate instead; the email and the page say on whose
    behalf, and the audit trail names both."""
    from coach.approvals.delegation import Delegation, parse_day
    from pydantic import ValidationError

    from coach_local.delegations import add_delegation

    if not lake.is_dir():
        fail_input(f"{lake}: no such lake folder")
    try:
        delegation = Delegation(
            approver=approver.strip().lower(),
            delegate=to.strip().lower(),
            starts=parse_day(start),
            ends=parse_day(end, end=True),
        )
    except ValueError as exc:  # a malformed day, or a delegation that makes no sense
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        fail_input(f"delegation of {approver}: {reason}")
    path = add_delegation(lake, delegation)
    until = datetime.fromtimestamp(delegation.ends, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if as_json:
        print_json({**delegation.model_dump(), "file": str(path)})
        return
    console.print(
        f"{delegation.approver} → {delegation.delegate} until {until} (kept in {path})", highlight=False
    )
