"""The worked example of docs/data-contract.md, run as written: its CSV files become a lake, its event a campaign,
and the audience the engine finds must be the answer the page states (member by member and client by client)."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.audience.engine import LakeError
from coach.audience.privacy import client_facing_count
from coach.audience.service import build_audience
from coach.intake import plan_campaign
from coach.lake_schema import TABLES
from coach.models import parse_member

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"
EXAMPLE = DOC.read_text(encoding="utf-8").split("## A worked example", 1)[1]
CSV_BLOCK = re.compile(r"^`(lake/[^`]+\.csv)`:\n\n```csv\n(.*?)^```$", re.M | re.S)
EVENT_BLOCK = re.compile(r"^`event\.json`[^\n]*:\n\n```json\n(.*?)^```$", re.M | re.S)


def table_rows(first_header_cell: str) -> list[list[str]]:
    """The body rows of the example's markdown table whose header starts with `first_header_cell`."""
    lines = EXAMPLE.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header_cell} |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def write_example_lake(root: Path) -> Path:
    blocks = CSV_BLOCK.findall(EXAMPLE)
    assert {path.split("/")[1] for path, _ in blocks} == {"claims", "members", "drugs", "clients"}
    for path, text in blocks:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return root / "lake"


@pytest.fixture(scope="module")
def answer(tmp_path_factory) -> tuple[dict, dict[str, str]]:
    """(clients.json by client id, channel by reachable member id) as the engine computes them."""
    lake = write_example_lake(tmp_path_factory.mktemp("example"))
    [event_text] = EVENT_BLOCK.findall(EXAMPLE)
    campaign = plan_campaign(json.loads(event_text)).campaign
    store = MemoryObjectStore()
    summary = build_audience(
        campaign, engine=DuckDbClaimsEngine(lake), store=store, data_bucket="data", batch_size=2
    )
    clients = {c["client_id"]: c for c in json.loads(store.get("data", summary.clients_key))}
    channels: dict[str, str] = {}
    for work in clients.values():
        for batch in json.loads(store.get("data", work["batches_key"])):
            for line in store.get("data", batch["batch_key"]).decode().splitlines():
                member = parse_member(line, batch["batch_key"])
                channels[member.member_id] = member.channel
    return clients, channels


def test_every_member_row_of_the_example_is_worked_out_as_the_engine_does(answer):
    clients, channels = answer
    stated = table_rows("member")
    assert {row[0] for row in stated} == {f"M{n:03d}" for n in range(1, 12)}  # every member of the lake
    for member_id, _, affected, reachable, channel in stated:
        if reachable.startswith("yes"):
            assert channels.get(member_id) == channel.split()[0], member_id
        else:
            assert member_id not in channels, member_id
    assert sum(c["affected"] for c in clients.values()) == sum(row[2] == "yes" for row in stated)


def test_the_example_answer_per_client_is_the_engines(answer):
    clients, channels = answer
    stated = table_rows("client")
    assert [row[0] for row in stated] == sorted(clients)
    for client_id, election, affected, reachable, mail, email, told in stated:
        work = clients[client_id]
        assert (work["election"], work["affected"], work["reachable"]) == (
            election,
            int(affected),
            int(reachable),
        )
        by_channel = Counter(channels[m] for m in channels if m in member_ids_of(client_id))
        assert (by_channel["mail"], by_channel["email"]) == (int(mail), int(email)), client_id
        assert told == (
            f"{client_facing_count(work['affected'])} affected, {client_facing_count(work['reachable'])} reachable"
        )


def test_the_example_totals_sentence_is_the_engines(answer):
    clients, channels = answer
    totals = re.search(r"In all: (\d+) affected, (\d+) reachable, (\d+) letters and (\d+)\s+emails", EXAMPLE)
    assert totals is not None
    counts = Counter(channels.values())
    assert tuple(int(n) for n in totals.groups()) == (
        sum(c["affected"] for c in clients.values()),
        sum(c["reachable"] for c in clients.values()),
        counts["mail"],
        counts["email"],
    )


def member_ids_of(client_id: str) -> set[str]:
    """The member ids the example's members.csv places in `client_id`."""
    [(_, text)] = [block for block in CSV_BLOCK.findall(EXAMPLE) if block[0].endswith("members.csv")]
    return {line.split(",")[0] for line in text.splitlines()[1:] if line.split(",")[1] == client_id}


def documented_columns(table: str) -> dict[str, str]:
    """Column → its 'values' cell, from the table of `table` in the page's lake section."""
    section = DOC.read_text(encoding="utf-8").split(f"### `{table}/`", 1)[1].split("\n#", 1)[0]
    columns = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if line.startswith("| `") and len(cells) == 4:
            for name in re.findall(r"`([a-z_0-9]+)`", cells[0]):
                columns[name] = cells[3]
    return columns


REQUIRED = [
    (table, column)
    for table in ("claims", "members", "drugs", "clients")
    for column, values in documented_columns(table).items()
    if "optional column" not in values
]


def test_the_page_documents_every_table_and_marks_the_npis_optional():
    assert {t for t, _ in REQUIRED} == {"claims", "members", "drugs", "clients"}
    assert len(REQUIRED) == 6 + 17 + 4 + 6
    assert "prescriber_npi" in documented_columns("claims") and ("claims", "prescriber_npi") not in REQUIRED


def documented_nullable(table: str) -> dict[str, str]:
    """Column → its 'nullable' cell, from the table of `table` in the page's lake section."""
    section = DOC.read_text(encoding="utf-8").split(f"### `{table}/`", 1)[1].split("\n#", 1)[0]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()]
    return {
        name: row[2]
        for row in cells
        if row[0].startswith("`")
        for name in re.findall(r"`([a-z_0-9]+)`", row[0])
    }


# not clients/: its rows are checked in Python (client_problems), which reads an empty name or list, never refuses it
@pytest.mark.parametrize("table", ["claims", "members", "drugs"])
def test_the_pages_columns_are_the_schemas_with_its_nullability_and_optional_columns(table):
    schema = TABLES[table]
    assert documented_nullable(table) == {c.name: "yes" if c.nullable else "no" for c in schema.columns}
    assert {c for t, c in REQUIRED if t == table} == {c.name for c in schema.required}


def without_column(lake: Path, table: str, column: str) -> Path:
    for path in (lake / table).rglob("*.csv"):
        rows = list(csv.DictReader(path.open(encoding="utf-8", newline="")))
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=[name for name in rows[0] if name != column])
            writer.writeheader()
            writer.writerows({k: v for k, v in row.items() if k != column} for row in rows)
    return lake


def example_audience(lake: Path):
    [event_text] = EVENT_BLOCK.findall(EXAMPLE)
    campaign = plan_campaign(json.loads(event_text)).campaign
    return build_audience(
        campaign, engine=DuckDbClaimsEngine(lake), store=MemoryObjectStore(), data_bucket="data", batch_size=2
    )


@pytest.mark.parametrize(("table", "column"), REQUIRED)
def test_a_lake_without_a_documented_column_is_refused_naming_it(tmp_path, table, column):
    lake = without_column(write_example_lake(tmp_path), table, column)
    with pytest.raises(LakeError, match=f"'{column}'"):
        example_audience(lake)


@pytest.mark.parametrize("column", ["prescriber_npi", "pharmacy_npi"])
def test_a_lake_without_an_optional_column_still_gives_the_pages_answer(tmp_path, column):
    summary = example_audience(without_column(write_example_lake(tmp_path), "claims", column))
    stated = re.search(r"In all: (\d+) affected, (\d+) reachable", EXAMPLE)
    assert stated is not None
    assert (summary.affected, summary.reachable) == (int(stated.group(1)), int(stated.group(2)))
