"""`coach`: run campaigns locally, generate lakes, check templates, read the audit trail."""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from coach.adapters.stepfunctions import execution_arn, state_machine_arn
from coach.notices import ALERT_STATUSES
from rich.console import Console
from rich.table import Table

from coach_local.runner import BadInput, RunResult, load_decisions, load_event, run_campaign

app = typer.Typer(
    help="The automated pharmacist: market-event campaigns, run locally or on AWS.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
templates_app = typer.Typer(help="Letter templates: check and preview.", no_args_is_help=True)
app.add_typer(templates_app, name="templates")
event_app = typer.Typer(help="Market events for a deployed stack.", no_args_is_help=True)
app.add_typer(event_app, name="event")
app.add_typer(
    __import__("coach_local.cli_feeds", fromlist=["feeds_app"]).feeds_app, name="feeds"
)  # coach feeds …
# Colours only on a terminal; without one (CI, pipes) a wide plain table rather than 80 cramped columns.
console = Console(width=None if sys.stdout.isatty() else 140)
err = Console(stderr=True, width=None if sys.stderr.isatty() else 140)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
DEMO_EVENT = Path(__file__).parent / "events" / "claritin_otc.json"


def _check_lake_size(members: int, clients: int) -> None:
    if clients > members:
        _fail_input(f"--clients {clients} is more than --members {members}: every client needs a member")


def _fail_input(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


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
    console.print(
        f"Outbox: {result.out_dir / 'outbox'}   Letters: {result.out_dir / 'letters'}   "
        f"Audit: {result.out_dir / 'audit.json'}",
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


def _finish(result: RunResult, as_json: bool = False) -> None:
    if as_json:
        html = result.out_dir / "report.html"
        print(
            json.dumps(
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


def _generate_with_progress(out: Path, quiet: bool = False, **options: int) -> object:
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
    """Generate a synthetic lake (if needed) and run the Claritin over-the-counter campaign end to end."""
    _check_lake_size(members, clients)
    lake_dir = lake or out / "lake"
    marker = lake_dir / ".generated.json"
    wanted = {"members": members, "clients": clients, "seed": seed}
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        stats = _generate_with_progress(lake_dir, members=members, clients=clients, seed=seed, quiet=as_json)
        marker.write_text(json.dumps(wanted))
        (err if as_json else console).print(f"Lake: {lake_dir} ({stats})", highlight=False)
    if interactive:
        err.print(
            "Approval links will appear below; open them in a browser. A playbook day lasts 1 minute here."
        )
    with _campaign_progress(quiet=as_json) as on_progress:
        result = run_campaign(
            load_event(DEMO_EVENT),
            lake_dir,
            out,
            interactive=interactive,
            on_link=_print_link,
            port=port,
            on_progress=on_progress,
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
) -> None:
    """Run a campaign for your own event and lake on the local runtime."""
    try:
        raw_event = load_event(event)
        chosen = load_decisions(decisions)
        with _campaign_progress(quiet=as_json) as on_progress:
            result = run_campaign(
                raw_event,
                lake,
                out,
                decisions=chosen,
                interactive=interactive,
                on_link=_print_link,
                port=port,
                on_progress=on_progress,
            )
    except BadInput as exc:
        _fail_input(str(exc))
        return
    _finish(result, as_json)


@app.command("generate-lake")
def generate_lake_command(
    out: Annotated[Path, typer.Option(help="Lake folder to write.")],
    members: Annotated[int, typer.Option(min=1, help="Members in the lake.")] = 20_000,
    clients: Annotated[int, typer.Option(min=1, help="Clients (health plans) the members belong to.")] = 40,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same lake.")] = 7,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Write a synthetic claims lake in the shape of the data contract."""
    _check_lake_size(members, clients)
    stats = _generate_with_progress(out, members=members, clients=clients, seed=seed, quiet=as_json)
    if as_json:
        print(json.dumps({"lake": str(out.resolve()), **dataclasses.asdict(stats)}))  # type: ignore[call-overload]
    else:
        console.print(f"Lake written to {out}: {stats}", highlight=False)


@app.command()
def audit(
    campaign_id: Annotated[
        str, typer.Argument(help="The campaign (execution name) whose decisions to list.")
    ],
    out: Annotated[Path, typer.Option(help="Output folder of the local run.")] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List every recorded approval decision of a local campaign, in time order."""
    path = out / "audit.json"
    if not path.exists():
        _fail_input(f"{path}: no audit trail here; run `coach demo` or `coach run` with --out {out} first")
    trail = json.loads(path.read_text(encoding="utf-8"))
    if trail.get("campaign_id") != campaign_id:
        _fail_input(f"{path} holds campaign {trail.get('campaign_id')!r}, not {campaign_id!r}")
    if as_json:
        print(json.dumps(trail, indent=2))
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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Write OUT_DIR/report.html: funnel, clients, approval response times, outcomes, template, stage timings."""
    from coach_local.report_html import ReportError, write_report

    try:
        target = write_report(out_dir)
    except ReportError as exc:
        _fail_input(str(exc))
        return
    if as_json:
        print(json.dumps({"report_html": str(target.resolve())}))
    else:
        console.print(f"Report written to {target.resolve()}", highlight=False)


@app.command()
def status(
    out: Annotated[
        Path, typer.Option(help="Output folder of the local run (`coach demo`/`coach run --out`).")
    ] = Path("out"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """List the campaigns of the local runtime: state, and whose decision each waits for (since when, until when)."""
    from coach_local.status import StatusError, read_status

    try:
        state = read_status(out)
    except StatusError as exc:
        _fail_input(str(exc))
        return
    if as_json:
        print(json.dumps(state, indent=2))
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
            table.add_row(
                campaign["campaign_id"] if i == 0 else "",
                campaign["state"] if i == 0 else "",
                (campaign["started"] or "") if i == 0 else "",
                f"{who} of {wait['client_id']} {wait['client_name']} ({wait['kind']})",
                wait["since"] or "",
                wait["deadline"] or "",
            )
    console.print(table)
    if state.get("day_seconds") and state["day_seconds"] != 86_400:
        console.print(
            f"A playbook day lasts {state['day_seconds']:g} s in this local runtime.", highlight=False
        )


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
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Estimate one campaign's AWS cost, and the naive design's, from the prices and measurements in one file."""
    from coach.cost import INPUTS, estimate_naive, estimate_ours, inputs

    seconds = _measured_seconds(measured) if measured else None
    ours = estimate_ours(members, clients, lake_claims, seconds_per_invocation=seconds)
    naive = estimate_naive(members, clients, lake_claims, seconds_per_invocation=seconds)
    ratio = naive.total / ours.total if ours.total else float("inf")
    prices = inputs()["prices"]
    if as_json:
        print(
            json.dumps(
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


@contextmanager
def _aws_call(what: str) -> Iterator[None]:
    """AWS configuration problems are bad input (exit 2, what to set); a refusal by AWS ends the command (exit 1)
    with AWS's error code and message; never a traceback."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    try:
        yield
    except NoRegionError:
        _fail_input(f"{what}: no AWS region: pass --region or set AWS_REGION (or a profile's region)")
    except (NoCredentialsError, PartialCredentialsError):
        _fail_input(
            f"{what}: no AWS credentials: set AWS_PROFILE (see `aws configure`) or the AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY environment variables"
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        err.print(
            f"[bold red]error:[/] {what}: AWS refused: {error.get('Code')}: {error.get('Message')}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_FAILED) from None
    except BotoCoreError as exc:
        err.print(f"[bold red]error:[/] {what}: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def redrive(
    campaign_id: Annotated[
        str, typer.Argument(help="The failed campaign (its execution name, from the alert).")
    ],
    state_machine: Annotated[
        str, typer.Option(help="Name or ARN of the deployed campaign state machine.")
    ] = "automated-pharmacist-campaign",
    region: Annotated[str | None, typer.Option(help="AWS region (default: your AWS configuration).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Redrive a failed, timed-out or stopped campaign on AWS: it resumes at the failed stage; nothing sent is sent again."""
    import boto3

    with _aws_call("redrive"):
        sfn = boto3.client("stepfunctions", region_name=region)
        if state_machine.startswith("arn:"):
            machine_arn = state_machine
        else:
            account = boto3.client("sts", region_name=region).get_caller_identity()["Account"]
            machine_arn = state_machine_arn(state_machine, region=sfn.meta.region_name, account=account)
        execution = execution_arn(machine_arn, campaign_id)
        try:
            described = sfn.describe_execution(executionArn=execution)
        except sfn.exceptions.ExecutionDoesNotExist:
            _fail_input(f"no campaign {campaign_id!r} in {machine_arn}")
        if described["status"] not in ALERT_STATUSES:
            _fail_input(
                f"campaign {campaign_id} is {described['status']}: only a failed, timed-out or stopped "
                "campaign can be redriven"
            )
        started = sfn.redrive_execution(executionArn=execution)
    result = {
        "campaign_id": campaign_id,
        "execution_arn": execution,
        "redriven_at": str(started["redriveDate"]),
        "previous_status": described["status"],
    }
    if as_json:
        print(json.dumps(result))
    else:
        console.print(
            f"Redriven: {campaign_id} resumes at its failed stage (was {described['status']}).",
            highlight=False,
        )


@event_app.command("put")
def event_put(
    file: Annotated[
        Path, typer.Option("--file", help="Market event JSON (EventBridge envelope or its detail).")
    ],
    bus: Annotated[str, typer.Option(help="Event bus name.")] = "default",
    region: Annotated[str | None, typer.Option(help="AWS region (default: your AWS configuration).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Validate an event, then send it to the deployed EventBridge bus (uses your AWS credentials)."""
    import boto3
    from coach.intake import campaign_id_for

    try:
        raw = load_event(file)
    except BadInput as exc:
        _fail_input(str(exc))
    entry = {
        "Source": raw["source"],
        "DetailType": raw["detail-type"],
        "Detail": json.dumps(raw["detail"]),
        "EventBusName": bus,
    }
    with _aws_call("event put"):
        response = boto3.client("events", region_name=region).put_events(Entries=[entry])
    failed = response.get("FailedEntryCount", 0)
    result = {
        "campaign_id": campaign_id_for(raw["detail"]["event_id"]),
        "sent": not failed,
        "event_id": (response.get("Entries") or [{}])[0].get("EventId"),
        "error": (response.get("Entries") or [{}])[0].get("ErrorMessage"),
    }
    if as_json:
        print(json.dumps(result))
    elif failed:
        err.print(f"[bold red]not sent:[/] {result['error']}", highlight=False)
    else:
        console.print(f"Sent. The campaign's execution is named {result['campaign_id']}.", highlight=False)
    if failed:
        raise typer.Exit(EXIT_FAILED)


def _templates_root(directory: Path | None) -> Path:
    from coach.letters.templates import REGISTRY, TEMPLATES_DIR

    if directory is None:
        return TEMPLATES_DIR
    if not directory.is_dir():
        _fail_input(f"{directory}: no such folder (expected one folder per event type, and {REGISTRY})")
    return directory


TemplatesDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        help="A templates folder to work on (a draft copy); default: the templates this install sends.",
    ),
]


@templates_app.command("check")
def templates_check(
    directory: TemplatesDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Render every template (approved or draft) against sample data for every branch of its event type; verify
    the required elements and that each template is the approved version."""
    from coach.letters.templates import check_templates

    problems = check_templates(_templates_root(directory))
    if as_json:
        print(json.dumps({"ok": not problems, "problems": problems}))
        if problems:
            raise typer.Exit(EXIT_FAILED)
        return
    for problem in problems:
        err.print(f"[red]✗[/] {problem}", highlight=False)
    if problems:
        raise typer.Exit(EXIT_FAILED)
    console.print("All letter templates render and contain every required element.")


@templates_app.command("approve")
def templates_approve(
    template: Annotated[str, typer.Argument(help="Template and language, e.g. otc_switch/es.")],
    approver: Annotated[str, typer.Option(help="Who approved this content (name and role).")],
    version: Annotated[str, typer.Option(help="The version this content gets, e.g. 1.1.0.")],
    directory: TemplatesDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Record an approval of a template's current content (approver, today's date, SHA-256). Refused while the
    template fails its check; the earlier approval is kept in the registry's history."""
    from coach.letters.templates import LANGUAGES, ApprovalRefused, approve_template, check_templates

    root = _templates_root(directory)
    template_id, _, lang = template.partition("/")
    if lang not in LANGUAGES:
        _fail_input(f"{template!r}: name the language too, e.g. {template_id}/en ({', '.join(LANGUAGES)})")
    relative = f"{template_id}/{lang}.j2"
    blocking = [
        p for p in check_templates(root) if p.startswith(f"{relative}:") and "approved version" not in p
    ]
    blocking = [p for p in blocking if "no approval recorded" not in p]
    if blocking:
        _fail_input("not approved, the template fails its check: " + "; ".join(blocking))
    try:
        entry = approve_template(template_id, lang, approver, datetime.now(UTC).date(), version, root=root)
    except ApprovalRefused as exc:
        _fail_input(str(exc))
    if as_json:
        print(json.dumps({"template": relative, **{k: v for k, v in entry.items() if k != "history"}}))
    else:
        console.print(
            f"Approved {relative} version {entry['version']} (sha256 {entry['sha256'][:16]}…) "
            f"by {entry['approver']} on {entry['approved_on']}.",
            highlight=False,
        )


@templates_app.command("preview")
def templates_preview(
    template: Annotated[str, typer.Argument(help="Template id, e.g. otc_switch (or otc_switch/es).")],
    out: Annotated[Path, typer.Option(help="PDF file to write.")] = Path("preview.pdf"),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Render one letter with sample data to a PDF for a person to read."""
    from coach.letters.templates import LANGUAGES, TEMPLATES_DIR, TemplateNotApproved, preview_template

    template_id, _, lang = template.partition("/")
    lang = lang or "en"
    known = ", ".join(sorted(p.name for p in TEMPLATES_DIR.iterdir() if p.is_dir()))
    if lang not in LANGUAGES:
        _fail_input(f"{template!r}: no {lang!r} version (languages: {', '.join(LANGUAGES)})")
    if not out.parent.is_dir():
        _fail_input(f"--out {out}: the folder {out.parent} does not exist")
    try:
        preview_template(template_id, lang, out)
    except TemplateNotApproved as exc:
        _fail_input(f"{exc} (templates: {known})")
    if as_json:
        print(json.dumps({"template": f"{template_id}/{lang}", "pdf": str(out.resolve())}))
    else:
        console.print(f"Preview written to {out}")


def main() -> None:
    try:
        app()
    except BadInput as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    main()
