"""The worked example of docs/data-contract.md, run as written: its CSV files become a lake, its event a campaign,
and the audience the engine finds must be the answer the page states (member by member and client by client)."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.audience.privacy import client_facing_count
from coach.audience.service import build_audience
from coach.intake import plan_campaign
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
    channels = {}
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
