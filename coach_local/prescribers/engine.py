"""The prescriber query on the local lake (DuckDB): the lake's validated views (optional columns read as typed nulls
when absent) and the optional prescribers/ table (empty when absent)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
from coach.audience.engine import AudienceParams, AudienceQueryFailed
from coach.lake_schema import PRESCRIBERS
from coach.prescribers.sql import PRESCRIBER_SQL

from coach_local.claims.lake import open_lake, table_files, typed_source

FETCH_ROWS = 10_000


def open_prescriber_lake(lake_dir: str | Path) -> duckdb.DuckDBPyConnection:
    lake = Path(lake_dir)
    con = open_lake(lake)  # its views carry the optional columns (claims.prescriber_npi, members.birth_date)
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
