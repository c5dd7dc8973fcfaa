"""`coach feeds poll SOURCE`: read one public FDA source (or a recording of it) into candidate market events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from coach.feeds import SOURCES
from rich.table import Table

from coach_local.cli.common import console, err

if (
    TYPE_CHECKING
):  # the feeds' modules (and the domain's models) load when a feed is polled, not with every command
    from coach.feeds.candidate import PollResult
    from coach.feeds.recalls import EnforcementSource
    from coach.feeds.tables import Bundle

feeds_app = typer.Typer(
    help="Market feeds: the public FDA sources read into candidate events.", no_args_is_help=True
)


class RecordedEnforcement:
    """openFDA enforcement pages as the API returned them: one JSON file, or a folder of them read in name order."""

    def __init__(self, path: Path) -> None:
        from coach.feeds.candidate import FeedDataError

        files = sorted(path.glob("*.json")) if path.is_dir() else [path]
        if not files or not all(f.is_file() for f in files):
            raise FeedDataError(f"{path}: no JSON page to read")
        self.pages: list[tuple[str, Any]] = []
        for file in files:
            try:
                self.pages.append((str(file), json.loads(file.read_text(encoding="utf-8"))))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise FeedDataError(f"{file}: not a JSON page ({exc})") from None

    def last_updated(self) -> str:
        """The pages' own meta.last_updated; without one, their content (a different recording is new data)."""
        from coach.feeds.candidate import content_hash

        meta = self.pages[0][1].get("meta", {}) if isinstance(self.pages[0][1], dict) else {}
        stamp = meta.get("last_updated") if isinstance(meta, dict) else None
        return f"{stamp} {content_hash([body for _, body in self.pages])[:12]}"

    def records(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        from coach.adapters.openfda import page_results

        for where, body in self.pages:
            if isinstance(body, dict) and body.get("error", {}).get("code") == "NOT_FOUND":
                continue  # a recorded 404 "No matches found!"
            yield from page_results(body, where)


def _bundle(source: str, path: Path | None) -> Bundle:
    from coach.adapters.fda_files import ARCHIVES, download
    from coach.feeds.tables import Bundle

    if path is not None:
        return Bundle.from_path(path)
    return Bundle.from_zip(download(ARCHIVES[source]), ARCHIVES[source])


def run_poll(source: str, path: Path | None, state_dir: Path, today: date) -> PollResult:
    from coach.adapters.openfda import OpenFdaClient
    from coach.feeds.service import poll_source

    from coach_local.feed_state import FolderFeedState

    def enforcement() -> EnforcementSource:
        return RecordedEnforcement(path) if path is not None else OpenFdaClient()

    return poll_source(
        source,
        FolderFeedState(state_dir),
        today,
        archive=lambda: _bundle(source, path),
        enforcement=enforcement,
    )


def _show(result: PollResult) -> None:
    if result.skipped:
        console.print(f"{result.source}: nothing new ({result.skipped})", highlight=False)
        return
    table = Table(title=f"{result.source}: {len(result.candidates)} candidates, {result.unchanged} unchanged")
    for column in ("event_id", "type", "drug", "NDCs", "effective", "to review"):
        table.add_column(column)
    for candidate in result.candidates:
        d = candidate.detail
        table.add_row(
            d["event_id"],
            d["event_type"] + (f" class {d['recall_class']}" if d.get("recall_class") else ""),
            d["drug"]["name"],
            "needs NDCs" if candidate.missing else str(len(d["drug"]["ndcs"])),
            d["effective_date"],
            str(len(candidate.reasons)),
        )
    console.print(table)
    if result.indexed is not None:
        console.print(f"NDC directory: {result.indexed:,} index entries written", highlight=False)
    for warning in result.warnings:
        err.print(f"[yellow]warning:[/] {warning}", highlight=False)


@feeds_app.command("poll")
def poll(
    source: Annotated[str, typer.Argument(help=f"The feed: {', '.join(SOURCES)}.", show_default=False)],
    from_path: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="Read a recording instead of the network: for fda-recalls a JSON page as the API returns it, or "
            "a folder of pages; for the others the zip as FDA publishes it, or its extracted folder.",
        ),
    ] = None,
    state: Annotated[
        Path, typer.Option("--state", help="Folder holding each feed's watermark and content hashes.")
    ] = Path(".coach"),
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"source", "candidates", "unchanged"} as JSON.')
    ] = False,
) -> None:
    """Poll one feed: print the candidate events that are new since the last poll (a second poll of the same
    input prints none). Nothing starts: a clinical pharmacist confirms each candidate first."""
    if source not in SOURCES:
        err.print(f"[bold red]error:[/] SOURCE must be one of {', '.join(SOURCES)}, not {source[:40]!r}")
        raise typer.Exit(2)
    if from_path is not None and not from_path.exists():
        err.print(f"[bold red]error:[/] --from {from_path}: no such file or folder", highlight=False)
        raise typer.Exit(2)
    from coach.adapters.fda_files import DownloadFailed
    from coach.adapters.openfda import OpenFdaUnavailable
    from coach.feeds.candidate import FeedDataError

    try:
        result = run_poll(source, from_path, state, date.today())
    except (FeedDataError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (OpenFdaUnavailable, DownloadFailed) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    if as_json:
        print(json.dumps(result.as_json(), indent=2))
    else:
        _show(result)
