"""`coach`: run campaigns locally, generate lakes, check templates, read the audit trail.

One module per concern, each with its own Typer app, assembled here in the order `coach --help` lists them:
local.py (the local runtime), cost.py, aws.py (a deployed stack), templates.py (letter templates), lake.py (the
lake check), feeds.py (the market feeds); common.py holds
what they share (consoles, exit codes, bad-input exit, JSON output)."""

from __future__ import annotations

import sys

import typer

from coach_local.cli import approvers, aws, cost, feeds, lake, local, outcomes, prescribers, templates
from coach_local.cli.common import EXIT_BAD_INPUT, err
from coach_local.inputs import BadInput

app = typer.Typer(
    help="The automated pharmacist: market-event campaigns, run locally or on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Top-level commands: a Typer added without a name merges its commands into `coach`.
app.add_typer(local.app)
app.add_typer(outcomes.app)  # coach outcomes
app.add_typer(cost.app)
app.add_typer(aws.app)
# Command groups (`coach templates …`): a new group is one module with its own Typer, added here.
app.add_typer(templates.app, name="templates")
app.add_typer(aws.event_app, name="event")
app.add_typer(lake.lake_app, name="lake")
app.add_typer(feeds.feeds_app, name="feeds")
app.add_typer(approvers.approvers_app, name="approvers")
app.add_typer(prescribers.prescribers_app, name="prescribers")


def main() -> None:
    try:
        app()
    except BadInput as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
