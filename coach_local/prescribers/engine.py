"""The prescriber query on the local lake (DuckDB): the lake's validated views, plus the optional columns the
query reads (claims.prescriber_npi, members.birth_date) and the optional prescribers/ table (empty when absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
from coach.audience.engine import AudienceParams, AudienceQueryFailed
from coach.lake_schema import PRESCRIBERS
from coach.prescribers.sql import PRESCRIBER_SQL

from coach_local.claims.lake import _cast, describe_source, open_lake, reader, table_files, typed_source

FETCH_ROWS = 10_000


def _with_optional(
    con: duckdb.DuckDBPyConnection, lake: Path, table: str, column: str, sql_type: str
) -> None:
    """Replace the view `table` with one that also carries the optional `column` (null when no file has it)."""
    files, kind = table_files(lake, table)
    source = reader(files, kind, table)
    present = column in describe_source(con, source, str(lake / table))
    if not present:
        value = f"CAST(NULL AS {sql_type})"
    elif sql_type == "DATE" and kind == "csv":
        value = f"TRY_CAST(trim({column}) AS DATE)"
    else:
        value = f"CAST({column} AS {sql_type})"
    con.execute(
        f"CREATE OR REPLACE VIEW {table} AS SELECT {_cast(table, kind)}, {value} AS {column} FROM {source}"
    )


def open_prescriber_lake(lake_dir: str | Path) -> duckdb.DuckDBPyConnection:
    lake = Path(lake_dir)
    con = open_lake(lake)
    _with_optional(con, lake, "claims", "prescriber_npi", "VARCHAR")
    _with_optional(con, lake, "members", "birth_date", "DATE")
    if (lake / PRESCRIBERS.name).is_dir():
        files, kind = table_files(lake, PRESCRIBERS.name)
        con.execute(f"CREATE VIEW prescribers AS SELECT * FROM {typed_source(files, kind, PRESCRIBERS.name)}")
    else:
        columns = ", ".join(
            f"CAST(NULL AS {'BOOLEAN' if c.type == 'bool' else 'VARCHAR'}) AS {c.name}"
            for c in PRESCRIBERS.columns
        )
        con.execute(f"CREATE VIEW prescribers AS SELECT {columns} WHERE false")
    return con


def prescriber_rows(lake_dir: str | Path, params: AudienceParams) -> Iterator[dict]:
    con = open_prescriber_lake(lake_dir)
    try:
        try:
            cursor = con.execute(PRESCRIBER_SQL, params.bindings())
        except duckdb.Error as exc:
            raise AudienceQueryFailed(f"DuckDB: {str(exc).splitlines()[0][:300]}") from exc
        names = [d[0] for d in cursor.description]
        while batch := cursor.fetchmany(FETCH_ROWS):
            for values in batch:
                yield dict(zip(names, values, strict=True))
    finally:
        con.close()
