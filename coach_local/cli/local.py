"""`coach` on the local runtime: demo, run, generate-lake, audit, report, status (no AWS account needed)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from coach_local.cli.common import EXIT_FAILED, JsonFlag, console, err, fail_input, print_json
from coach_local.inputs import BadInput, load_decisions, load_event

if TYPE_CHECKING:  # the runtime (moto, fpdf2, matplotlib) loads only when a campaign runs
    from coach_local.runner import RunResult

# the event the demo's pharmacist confirms (the feed's candidate, corrected): what members react to in the lake
DEMO_EVENT = Path(__file__).resolve().parent.parent / "events" / "claritin_otc.json"

app = typer.Typer()


def default_function_processes() -> int:
    """One function worker beside the runtime where the process may use more than one core (coach run, demo)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return 1 if cores > 1 else 0


def _check_lake_size(members: int, clients: int) -> None:
    if clients > members:
        fail_input(f"--clients {clients} is more than --members {members}: every client needs a member")


def _summary(result: RunResult) -> None:
    report = result.report or {}
    table = Table(title=f"Campaign {result.campaign_id}: {result.status.lower()} in {result.seconds:.1f} s")
    for column in (
        "client",
        "affected",
        "reachable",
        "account team",
        "client decision",
        "letters",
        "outcome",
    ):
        table.add_column(
            column, justify="right" if column in ("affected", "reachable", "letters") else "left"
        )
    for row in report.get("clients", []):
        table.add_row(
            f"{row['client_id']} {row.get('client_name', '')}",
            f"{row['affected']:,}",
            f"{row['reachable']:,}",
            row["account_team_decision"],
            row["client_decision"],
            f"{row['letters']:,}",
            row.get("outcome", ""),
        )
    totals = report.get("totals", {})
    if totals:
        table.add_section()
        table.add_row(
            "total",
            f"{totals['affected']:,}",
            f"{totals['reachable']:,}",
            "",
            "",
            f"{totals['letters']:,}",
            "",
        )
    console.print(table)
    if line := _review_line(report):
        console.print(line, highlight=False)
    console.print(
        f"Outbox: {result.out_dir / 'outbox'}   Letters: {result.out_dir / 'letters'}   "
        f"Audit: {result.out_dir / 'audit.json'}",
        highlight=False,
    )
    if prescribers := (result.report or {}).get("prescribers"):  # issue 17
        console.print(
            f"Prescriber notices: {prescribers['notified']:,} in {result.out_dir / 'prescriber-notices'}",
            highlight=False,
        )
    if (result.out_dir / "report.html").exists():
        console.print(
            f"[bold]Report:[/] {(result.out_dir / 'report.html').resolve()} (open it in a browser)",
            highlight=False,
        )
    for problem in result.watcher_errors or []:
        err.print(f"[yellow]approver:[/] {problem}", highlight=False)
    for name, error_type, message in result.function_errors or []:
        err.print(f"[yellow]function {name}:[/] {error_type}: {message}", highlight=False)


def _show_feed(start: Any, quiet: bool) -> None:
    """The feed's candidate, before its campaign runs: what the pharmacist is asked to check."""
    detail = start.envelope["detail"]
    ndcs = ", ".join(detail["drug"]["ndcs"]) or "none resolved"
    (err if quiet else console).print(
        f"Feed {start.envelope['source']}: candidate {detail['event_id']} ({detail['drug']['name']}, "
        f"{detail['event_type']}, NDCs: {ndcs}); {len(start.reasons)} notes for the clinical pharmacist",
        highlight=False,
    )


def _review_line(report: dict) -> str | None:
    review = report.get("review")
    if not review:
        return None
    who = f" by {review['by']}" if review.get("by") else ""
    notes = f": {review['notes']}" if review.get("notes") else ""
    return f"Clinical review: {review['outcome']}{who}{notes}"


def _finish(result: RunResult, as_json: bool = False) -> None:
    if as_json:
        html = result.out_dir / "report.html"
        print_json(
            {
                "status": result.status,
                "campaign_id": result.campaign_id,
                "seconds": round(result.seconds, 2),
                "error": result.error,
                "report_html": str(html.resolve()) if html.exists() else None,
                "report": result.report,
            },
            indent=2,
        )
    else:
        _summary(result)
    if result.status != "SUCCEEDED":
        err.print(f"[bold red]campaign {result.status.lower()}[/]: {result.error or ''}", highlight=False)
        raise typer.Exit(EXIT_FAILED)


def _print_link(found: object) -> None:
    err.print(
        f"[bold]Decision needed[/] ({getattr(found, 'role', '')} of {getattr(found, 'client_id', '')}): "
        f"{getattr(found, 'link', '')}",
        highlight=False,
    )


def _generate_with_progress(out: Path, quiet: bool = False, **options: Any) -> object:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from coach_local.lakegen import generate_lake

    with Progress(
        TextColumn("Generating the synthetic lake: {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=quiet,
    ) as progress:
        tasks: dict[str, object] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done)  # type: ignore[arg-type]

        return generate_lake(out, progress=report, **options)


@contextmanager
def _campaign_progress(quiet: bool = False) -> Iterator[Callable[[dict[str, tuple[int, int]]], None]]:
    """Progress bars for the campaign's long stages (on a terminal; plain output elsewhere shows none)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    labels = {
        "audience": "Finding the audience",
        "clients": "Clients finished (approvals, letters)",
        "letter batches": "Letter batches written",
    }
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err if quiet else console,
        transient=True,
        disable=quiet,
    ) as progress:
        tasks = {name: progress.add_task(label, total=None) for name, label in labels.items()}

        def update(state: dict[str, tuple[int, int]]) -> None:
            for name, (done, total) in state.items():
                if name in tasks:
                    progress.update(tasks[name], completed=done, total=total or None)

        yield update


@app.command()
def demo(
    members: Annotated[int, typer.Option(min=1, help="Members in the generated lake.")] = 20_000,
    clients: Annotated[int, typer.Option(min=1, help="Clients in the generated lake.")] = 40,
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    lake: Annotated[Path | None, typer.Option(help="Lake folder (generated if missing).")] = None,
    interactive: Annotated[
        bool, typer.Option(help="Print the approval links and wait for you to click.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=0, max=65_535, help="Port of the local approval server (0 = any free port).")
    ] = 0,
    seed: Annotated[int, typer.Option(help="Seed of the generated lake.")] = 7,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (no table, no progress).")
    ] = False,
) -> None:
    """Generate a synthetic lake (if needed), poll the recorded Drugs@FDA excerpt into the Claritin candidate, and
    run its campaign end to end: the clinical pharmacist's review first, then as any campaign."""
    _check_lake_size(members, clients)
    lake_dir = lake or out / "lake"
    marker = lake_dir / ".generated.json"
    from coach_local.outcomes_local import DEMO_MEASUREMENT, DEMO_RATES, demo_behaviour

    wanted = {"members": members, "clients": clients, "seed": seed, "behaviour": DEMO_RATES}
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        stats = _generate_with_progress(
            lake_dir,
            members=members,
            clients=clients,
            seed=seed,
            quiet=as_json,
            behaviour=demo_behaviour(
                load_event(DEMO_EVENT)
            ),  # what members do after the event (the outcomes)
        )
        marker.write_text(json.dumps(wanted))
        (err if as_json else console).print(f"Lake: {lake_dir} ({stats})", highlight=False)
    if interactive:
        err.print(
            "Approval links will appear below; open them in a browser. A playbook day lasts 1 minute here."
        )
    from coach_local.feed_demo import demo_candidate, demo_review

    start = demo_candidate()
    _show_feed(start, quiet=as_json)
    with _campaign_progress(quiet=as_json) as on_progress:
        from coach_local.runner import run_campaign

        result = run_campaign(
            start.envelope,
            lake_dir,
            out,
            decisions=demo_review(),
            interactive=interactive,
            on_link=_print_link,
            port=port,
            on_progress=on_progress,
            measurement_overrides=DEMO_MEASUREMENT,
            function_processes=default_function_processes(),
        )
    _finish(result, as_json)


@app.command()
def run(
    event: Annotated[Path, typer.Option(help="Market event JSON (EventBridge envelope or its detail).")],
    lake: Annotated[Path, typer.Option(help="Claims lake folder (claims/, members/, drugs/, clients/).")],
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out"),
    decisions: Annotated[
        Path | None, typer.Option(help="client_id → {account_team, client}: approve|decline|none.")
    ] = None,
    interactive: Annotated[
        bool, typer.Option(help="Print the approval links and wait for you to click.")
    ] = False,
    port: Annotated[
        int, typer.Option(min=0, max=65_535, help="Port of the local approval server (0 = any free port).")
    ] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the result as JSON (no table, no progress).")
    ] = False,
    render_processes: Annotated[
        int, typer.Option(min=0, max=64, help="Worker processes rendering letter PDFs (0: in this process).")
    ] = 0,
    function_processes: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=16,
            help="Worker processes running the functions' handlers beside moto "
            "(default: 1 on a machine with more than one core, else 0: all in this process).",
        ),
    ] = None,
) -> None:
    """Run a campaign for your own event and lake on the local runtime."""
    try:
        raw_event = load_event(event)
        chosen = load_decisions(decisions)
        with _campaign_progress(quiet=as_json) as on_progress:
            from coach_local.runner import run_campaign

            result = run_campaign(
                raw_event,
                lake,
                out,
                decisions=chosen,
                interactive=interactive,
                on_link=_print_link,
                port=port,
                on_progress=on_progress,
                render_processes=render_processes,
                function_processes=default_function_processes()
                if function_processes is None
                else function_processes,
            )
    except BadInput as exc:
        fail_input(str(exc))
        return
    _finish(result, as_json)


@app.command("generate-lake")
def generate_lake_command(
    out: Annotated[Path, typer.Option(help="Lake folder to write.")],
    members: Annotated[int, typer.Option(min=1, help="Members in the lake.")] = 20_000,
    clients: Annotated[int, typer.Option(min=1, help="Clients (health plans) the members belong to.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same lake.")] = 7,
    as_json: JsonFlag = False,
) -> None:
    """Write a synthetic claims lake in the shape of the data contract."""
    _check_lake_size(members, clients)
    stats = _generate_with_progress(out, members=members, clients=clients, seed=seed, quiet=as_json)
    if as_json:
        print_json({"lake": str(out.resolve()), **dataclasses.asdict(stats)})  # type: ignore[call-overload]
    else:
        console.print(f"Lake written to {out}: {stats}", highlight=False)


@app.command()
def audit(
    campaign_id: Annotated[
        str, typer.Argument(help="The campaign (execution name) whose decisions to list.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder of the local run.")] = Path("out"),
    as_json: JsonFlag = False,
) -> None:
    """List every recorded approval decision of a local campaign, in time order."""
    path = out / "audit.json"
    if not path.exists():
        fail_input(f"{path}: no audit trail here; run `coach demo` or `coach run` with --out {out} first")
    trail = json.loads(path.read_text(encoding="utf-8"))
    if trail.get("campaign_id") != campaign_id:
        fail_input(f"{path} holds campaign {trail.get('campaign_id')!r}, not {campaign_id!r}")
    if as_json:
        print_json(trail, indent=2)
        return
    table = Table(title=f"Decisions of {campaign_id}")
    for column in ("when (UTC)", "client", "role", "decision", "who", "from", "comment"):
        table.add_column(column)
    for row in trail["decisions"]:
        table.add_row(
            str(row.get("at", "")),
            str(row.get("client_id", "")),
            str(row.get("role", "")),
            str(row.get("action", row.get("decision", ""))),
            str(row.get("who", "")),
            str(row.get("source_ip", "")),
            str(row.get("comment", "")),
        )
    console.print(table)


@app.command()
def report(
    out_dir: Annotated[Path, typer.Argument(help="Output folder of a run (holds report.json).")] = Path(
        "out"
    ),
    as_json: JsonFlag = False,
) -> None:
    """Write OUT_DIR/report.html: funnel, clients, approval response times, outcomes, template, stage timings."""
    from coach_local.report_html import ReportError, write_report

    try:
        target = write_report(out_dir)
    except ReportError as exc:
        fail_input(str(exc))
        return
    if as_json:
        print_json({"report_html": str(target.resolve())})
    else:
        console.print(f"Report written to {target.resolve()}", highlight=False)


@app.command()
def status(
    out: Annotated[
        Path, typer.Option(help="Output folder of the local run (`coach demo`/`coach run --out`).")
    ] = Path("out"),
    as_json: JsonFlag = False,
) -> None:
    """List the campaigns of the local runtime: state, and whose decision each waits for (since when, until when)."""
    from coach_local.status import StatusError, read_status

    try:
        state = read_status(out)
    except StatusError as exc:
        fail_input(str(exc))
        return
    if as_json:
        print_json(state, indent=2)
        return
    written = datetime.fromtimestamp(float(state["written_at"]), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    where = "running now" if state["live"] else "finished (last status)"
    table = Table(title=f"Local runtime in {out}: {where}, as of {written}")
    # The campaign id is what `coach audit`/`coach redrive` take: never cut short; the other columns wrap.
    table.add_column(
        "campaign",
        no_wrap=True,
        overflow="fold",
        min_width=max((len(c["campaign_id"]) for c in state["campaigns"]), default=8),
    )
    for column in ("state", "started (UTC)", "waiting for", "since (UTC)", "deadline (UTC)"):
        table.add_column(column, overflow="fold")
    for campaign in state["campaigns"]:
        waits = campaign["waiting_for"]
        if not waits:
            doing = "" if campaign["state"] != "RUNNING" else "the workflow (audience, letters or summary)"
            table.add_row(
                campaign["campaign_id"], campaign["state"], campaign["started"] or "", doing, "", ""
            )
            continue
        for i, wait in enumerate(waits):
            who = "account team" if wait["role"] == "account_team" else "client"
            whom = f"{who} of {wait['client_id']} {wait['client_name']}"
            if wait["role"] == "clinical_reviewer":  # the review of a feed's candidate (coach.review)
                whom = "clinical pharmacist (review of the feed's candidate)"
            table.add_row(
                campaign["campaign_id"] if i == 0 else "",
                campaign["state"] if i == 0 else "",
                (campaign["started"] or "") if i == 0 else "",
                f"{whom} ({wait['kind']})",
                wait["since"] or "",
                wait["deadline"] or "",
            )
    console.print(table)
    if state.get("day_seconds") and state["day_seconds"] != 86_400:
        console.print(
            f"A playbook day lasts {state['day_seconds']:g} s in this local runtime.", highlight=False
        )
