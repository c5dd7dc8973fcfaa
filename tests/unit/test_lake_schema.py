"""One lake schema (coach.lake_schema): the generator, the test lake and the validator all agree with it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from coach.lake_schema import GLUE_TYPES, TABLES, glue_columns

from coach_local.claims.lake import SCHEMA, open_lake, read_clients
from coach_local.lakegen import generate_lake
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, prescriber, write_lake


def _columns(lake: Path, table: str) -> list[str]:
    files = sorted((lake / table).rglob("*.parquet"))
    assert files, f"no files in {table}/"
    names = {tuple(pq.read_schema(f).names) for f in files}
    assert len(names) == 1, f"{table}: files disagree on their columns"
    return list(names.pop())


def test_generated_lake_writes_the_schema_columns_in_order_and_validates(tmp_path):
    lake = tmp_path / "lake"
    generate_lake(lake, members=300, clients=4, months=3, as_of=date(2002, 11, 30))
    for name, table in TABLES.items():
        assert _columns(lake, name) == list(table.names)
    open_lake(lake).close()
    assert len(read_clients(lake)) == 4


def test_tiny_lake_writes_the_schema_columns_in_order(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "A", "B")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid", "1234567893")],
        prescribers=[prescriber("1234567893", "Dr. A")],
    )
    for name, table in TABLES.items():
        assert _columns(lake, name) == list(table.names)


def test_validator_requires_exactly_the_schema_required_columns():
    for name, table in TABLES.items():
        assert SCHEMA[name] == {c.name: c.type for c in table.columns if c.required}


def test_every_column_has_a_glue_type():
    for name, table in TABLES.items():
        assert [n for n, _ in glue_columns(name)] == list(table.names)
        assert all(c.type in GLUE_TYPES for c in table.columns)
