"""Open a lake folder (Parquet, or CSV with a header) for DuckDB, checking it against the data contract first.

Every problem is a `LakeError` naming the file (or table folder) and the column: a lake that does not match
the contract must never produce a crash or a silently empty audience.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import duckdb
from coach.addresses import contact_problems
from coach.audience.engine import LakeError
from coach.lake_rules import Problem, client_problems, normalise_elections
from coach.lake_schema import (
    BOOL,
    CLIENT_ID_PATTERN,
    DATE,
    DECIMAL,
    INT,
    LIST_OF_STRINGS,
    MAP_OF_STRINGS,
    MONTH_PATTERN,
    STRING,
    TABLES,
)

from coach_local.claims.branding import branding_cells, branding_problems

# The contract's required columns and their types, from the one schema (optional columns are checked when present).
SCHEMA: dict[str, dict[str, str]] = {
    name: {c.name: c.type for c in table.required} for name, table in TABLES.items()
}
CLIENT_ID = re.compile(f"^{CLIENT_ID_PATTERN}$")
_ACCEPTS = {
    STRING: ("VARCHAR",),
    DATE: ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S"),
    INT: (
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "HUGEINT",
    ),
    BOOL: ("BOOLEAN",),
    DECIMAL: ("DOUBLE", "FLOAT", "DECIMAL"),
    LIST_OF_STRINGS: ("VARCHAR[]",),
    MAP_OF_STRINGS: ("MAP(VARCHAR, VARCHAR)",),
}


def quiet_connect(con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """A connection (or `con`, a cursor) without DuckDB's progress bar: it draws on stdout, the CLI's output."""
    con = con or duckdb.connect()
    # a statement like every other the engine sends: with its bindings (none)
    con.execute("SET enable_progress_bar = false", [])
    return con


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def table_files(lake: Path, table: str) -> tuple[list[Path], str]:
    """The files of a table and their format; a table mixing Parquet and CSV is refused (never half read)."""
    folder = lake / table
    if not folder.is_dir():
        raise LakeError(f"{folder}: missing table folder {table}/")
    pattern = "**/*" if table == "claims" else "*"
    found = {
        kind: sorted(p for p in folder.glob(f"{pattern}.{kind}") if p.is_file())
        for kind in ("parquet", "csv")
    }
    if found["parquet"] and found["csv"]:
        raise LakeError(
            f"{folder}: table {table}/ mixes {len(found['parquet'])} Parquet and {len(found['csv'])} CSV files; "
            "write the whole table in one format"
        )
    for kind, files in found.items():
        if files:
            return files, kind
    if table == "clients" and (folder / "clients.json").is_file():
        return [folder / "clients.json"], "json"
    raise LakeError(f"{folder}: no .parquet or .csv files in table {table}/")


def partition_errors(lake: Path, files: list[Path]) -> list[str]:
    """Claims partition folders must be fill_month=YYYY-MM, and either every claims file is in one or none is."""
    month = re.compile(f"^fill_month=({MONTH_PATTERN})$")
    errors, outside = [], []
    for folder in sorted({p.parent for p in files}):
        parts = folder.relative_to(lake / "claims").parts
        named = [part for part in parts if part.startswith("fill_month=")]
        if not named:
            outside.append(folder)
        for part in named:
            if not month.match(part):
                errors.append(
                    f"{folder}: column 'fill_month': partition folder {part!r} is not a month; "
                    "expected fill_month=YYYY-MM (e.g. fill_month=2026-05)"
                )
    if outside and len(outside) < len({p.parent for p in files}):
        errors.append(
            f"{outside[0]}: column 'fill_month': claims files outside the fill_month=YYYY-MM partition folders; "
            "expected every claims file in one"
        )
    return errors


def is_hive(files: list[Path]) -> bool:
    return any(part.startswith("fill_month=") for p in files for part in p.parts)


def reader(files: list[Path], kind: str, table: str) -> str:
    paths = "[" + ", ".join(_quote(p) for p in files) + "]"
    hive = ""
    if table == "claims":
        hive = (
            ", hive_partitioning = true, hive_types = {'fill_month': VARCHAR}"
            if is_hive(files)
            else ", hive_partitioning = false"
        )
    if kind == "parquet":
        return f"read_parquet({paths}, union_by_name = true{hive})"
    if kind == "csv":
        return f"read_csv({paths}, header = true, all_varchar = true, union_by_name = true{hive})"
    return f"read_json({paths}, format = 'array')"


def describe_source(con: duckdb.DuckDBPyConnection, source: str, where: str) -> dict[str, str]:
    try:
        return {row[0]: row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    except duckdb.Error as exc:
        raise LakeError(f"{where}: unreadable ({str(exc).splitlines()[0][:200]})") from exc


def check_types(table: str, kind: str, columns: dict[str, str], where: str) -> None:
    for column in SCHEMA[table]:
        if column not in columns:
            raise LakeError(f"{where}: missing required column {column!r} of table {table}")
    optional = {c.name: c.type for c in TABLES[table].columns if not c.required and c.name in columns}
    for column, family in {**SCHEMA[table], **optional}.items():
        if kind == "csv" and family in (STRING, DATE, INT, BOOL):
            continue  # text in a CSV; the cast in the view reports a bad value
        if kind == "csv" or kind == "json":
            continue
        actual = columns[column]
        if actual in ('"NULL"', "NULL"):
            continue  # a column that is entirely null
        if (
            actual not in _ACCEPTS[family]
            and not (family == MAP_OF_STRINGS and actual.startswith("MAP("))
            and not (family == LIST_OF_STRINGS and actual.endswith("[]"))
            and not (family == DECIMAL and actual.startswith("DECIMAL"))
        ):
            raise LakeError(f"{where}: column {column!r} has type {actual}, expected {family}")


TRUE_FORMS, FALSE_FORMS = ("true", "t", "1", "yes", "y"), ("false", "f", "0", "no", "n")


def quoted_list(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


# Optional columns absent from every file read as typed nulls, so one SQL text serves lakes with and without them
DUCK_TYPES = {STRING: "VARCHAR", DATE: "DATE", INT: "INTEGER", BOOL: "BOOLEAN", DECIMAL: "DECIMAL(18,2)"}


def present_columns(source: str) -> set[str]:
    """The columns a reader over some files yields (the union of the files' columns)."""
    con = quiet_connect()
    try:
        return {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
    finally:
        con.close()


def _cast(table: str, kind: str, present: Collection[str] = ()) -> str:
    """The typed view of a table: CSV text parsed in the accepted forms (docs/data-contract.md), enums lower-cased."""
    parts = []
    for column in TABLES[table].columns:
        name, family = column.name, column.type
        if not column.required and name not in present:
            parts.append(f"CAST(NULL AS {DUCK_TYPES[family]}) AS {name}")
            continue
        if family == DECIMAL:  # text or any number; the lake check names a cell that is no amount
            expr = f"TRY_CAST({f'trim({name})' if kind == 'csv' else name} AS DECIMAL(18,2))"
        elif family == DATE:
            expr = f"TRY_CAST(trim({name}) AS DATE)" if kind == "csv" else f"CAST({name} AS DATE)"
        elif family == BOOL and kind == "csv":
            expr = (
                f"CASE WHEN lower(trim({name})) IN ({quoted_list(TRUE_FORMS)}) THEN true "
                f"WHEN lower(trim({name})) IN ({quoted_list(FALSE_FORMS)}) THEN false END"
            )
        elif family == INT and kind == "csv":
            expr = f"TRY_CAST(trim({name}) AS INTEGER)"
        elif family == STRING and column.values:
            expr = f"lower(trim(CAST({name} AS VARCHAR)))"
        elif family == STRING:
            expr = f"CAST({name} AS VARCHAR)"
        else:
            expr = name
        parts.append(f"{expr} AS {name}")
    if table == "claims":
        parts.append("CAST(fill_month AS VARCHAR) AS fill_month")
    return ", ".join(parts)


def typed_source(files: list[Path], kind: str, table: str, present: Collection[str] | None = None) -> str:
    """A relation of the table's files with the contract's types (what the audience query and the rules read);
    `present`: the files' columns, when the caller has described them already."""
    source = reader(files, kind, table)
    columns = present_columns(source) if present is None else present
    return f"(SELECT {_cast(table, kind, columns)} FROM {source})"


def open_lake(lake_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with views claims, members, drugs over the lake; raises LakeError on any problem."""
    lake = Path(lake_dir)
    if not lake.is_dir():
        raise LakeError(f"{lake}: no such lake folder")
    con = quiet_connect()
    where = lake
    try:
        for table in ("claims", "members", "drugs"):
            where = lake / table
            files, kind = table_files(lake, table)
            present: set[str] = set()
            for path in files:  # every file: one bad partition must not hide behind a good first one
                columns = describe_source(con, reader([path], kind, table), str(path))
                check_types(table, kind, columns, str(path))
                present |= set(columns)
                if table == "claims" and not is_hive(files) and "fill_month" not in columns:
                    raise LakeError(
                        f"{path}: claims need fill_month=YYYY-MM partition folders or a 'fill_month' column"
                    )
            if table == "claims" and (partitions := partition_errors(lake, files)):
                raise LakeError(partitions[0])
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM {typed_source(files, kind, table, present)}")
            if table != "claims" and con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0:  # type: ignore[index]
                raise LakeError(f"{lake / table}: table {table} is empty")
        _check_values(con, lake)
    except LakeError:
        con.close()
        raise
    except duckdb.Error as exc:  # data the per-file checks could not see (a damaged page inside a file)
        con.close()
        raise LakeError(f"{where}: unreadable ({str(exc).splitlines()[0][:200]})") from exc
    return con


def _first(con: duckdb.DuckDBPyConnection, sql: str, where: Path) -> tuple | None:
    try:
        return con.execute(sql).fetchone()
    except duckdb.Error as exc:  # a damaged page inside a file whose footer the per-file checks could read
        raise LakeError(f"{where}: unreadable ({str(exc).splitlines()[0][:200]})") from exc


def _check_values(con: duckdb.DuckDBPyConnection, lake: Path) -> None:
    bad = _first(
        con,
        "SELECT ndc FROM drugs WHERE ndc IS NULL OR NOT regexp_full_match(ndc, '[0-9]{11}') LIMIT 1",
        lake / "drugs",
    )
    if bad is not None:
        raise LakeError(
            f"{lake / 'drugs'}: column 'ndc' holds {str(bad[0])[:20]!r}; NDCs must be 11 digits, no hyphens"
        )
    bad = _first(
        con,
        "SELECT client_id FROM members WHERE client_id IS NULL OR NOT regexp_full_match(client_id, "
        "'[A-Za-z0-9_.-]{1,64}') LIMIT 1",
        lake / "members",
    )
    if bad is not None:
        raise LakeError(
            f"{lake / 'members'}: column 'client_id' holds an id that is not 1–64 letters, digits, . _ -"
        )
    if _first(con, "SELECT 1 FROM members WHERE member_id IS NULL LIMIT 1", lake / "members") is not None:
        raise LakeError(f"{lake / 'members'}: column 'member_id' has empty values")


def check_claims_partitions(
    con: duckdb.DuckDBPyConnection, lake: Path, first_month: str, last_month: str
) -> None:
    """The claims the query will read must have well-formed NDCs and dates (checked on those partitions only)."""
    try:
        row = con.execute(
            "SELECT ndc, fill_date FROM claims WHERE fill_month BETWEEN ? AND ? AND (ndc IS NULL OR fill_date IS NULL "
            "OR NOT regexp_full_match(ndc, '[0-9]{11}')) LIMIT 1",
            [first_month, last_month],
        ).fetchone()
    except duckdb.Error as exc:  # a damaged page inside a claims file
        raise LakeError(f"{lake / 'claims'}: unreadable ({str(exc).splitlines()[0][:200]})") from exc
    if row is not None:
        column = "ndc" if row[1] is not None else "fill_date"
        raise LakeError(
            f"{lake / 'claims'}: column {column!r} has a value that is not "
            f"{'an 11-digit NDC' if column == 'ndc' else 'a date'} (in fill_month {first_month}..{last_month})"
        )


def read_clients(lake_dir: str | Path) -> list[dict]:
    """The clients directory as plain dicts, refused (LakeError) when it breaks a rule of coach.lake_rules."""
    rows, problems = load_clients(lake_dir)
    errors = [p for p in problems if p.is_error]
    if errors:
        raise LakeError(errors[0].line().removeprefix("error: "))
    return rows


def load_clients(lake_dir: str | Path) -> tuple[list[dict], list[Problem]]:
    """The clients directory as plain dicts and the problems of its rows (client_problems); lists and elections
    may be JSON text or ';'-separated lists in a CSV. A cell that cannot be read at all raises LakeError."""
    lake = Path(lake_dir)
    files, kind = table_files(lake, "clients")
    con = quiet_connect()
    try:
        rows: list[dict] = []
        for path in files:
            source = reader([path], kind, "clients")
            columns = describe_source(con, source, str(path))
            check_types("clients", kind, columns, str(path))
            try:
                cursor = con.execute(f"SELECT * FROM {source}")
                names = [d[0] for d in cursor.description]
                rows += [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
            except duckdb.Error as exc:  # a damaged page inside the file
                raise LakeError(f"{path}: unreadable ({str(exc).splitlines()[0][:200]})") from exc
    finally:
        con.close()
    if not rows:
        raise LakeError(f"{lake / 'clients'}: table clients is empty")
    clients = [_normalise_client(row, lake) for row in rows]
    return clients, client_problems(clients, str(lake / "clients")) + branding_problems(lake, clients)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return [str(v) for v in json.loads(text)]
        return [part.strip() for part in text.split(";") if part.strip()]
    return [str(v) for v in value]  # type: ignore[attr-defined]


def _as_map(value: object) -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, str):
        return {str(k): str(v) for k, v in json.loads(value or "{}").items()} if value.strip() else {}
    if isinstance(value, dict):
        if set(value) == {"key", "value"} and isinstance(value["key"], list):
            return dict(zip(value["key"], value["value"], strict=True))
        return {str(k): str(v) for k, v in value.items()}
    return {str(k): str(v) for k, v in value}  # type: ignore[attr-defined]


def _parsed(parse: Callable[[object], Any], row: dict, column: str, client_id: str, lake: Path) -> Any:
    """A list or map column read with `parse`; text that is not JSON, or JSON of the wrong shape, is a LakeError."""
    try:
        return parse(row.get(column))
    except (ValueError, TypeError, AttributeError) as exc:
        shape = "a map of event type to always/ask/never" if parse is _as_map else "a list of email addresses"
        raise LakeError(
            f"{lake / 'clients'}: column {column!r} of client {client_id} is not {shape}"
        ) from exc


def _normalise_client(row: dict, lake: Path) -> dict:
    client_id = str(row.get("client_id") or "")
    if not CLIENT_ID.match(client_id):
        raise LakeError(
            f"{lake / 'clients'}: column 'client_id' holds an id that is not 1–64 letters, digits, . _ -"
        )
    elections = normalise_elections(_parsed(_as_map, row, "elections", client_id, lake))
    return {
        "client_id": client_id,
        "name": str(row.get("name") or client_id),
        "account_team_emails": _parsed(_as_list, row, "account_team_emails", client_id, lake),
        "client_contact_emails": _parsed(_as_list, row, "client_contact_emails", client_id, lake),
        "elections": elections,
        "escalation_email": row.get("escalation_email") or None,
        "branding": branding_cells(row),
    }


def check_clients(lake_dir: str | Path) -> None:
    """Every client's name and contact addresses can be used (coach.addresses): checked before a campaign starts,
    so a bad value is a LakeError naming the file, the column and the client, and nobody has been emailed yet."""
    lake = Path(lake_dir)
    for row in read_clients(lake):
        problems = contact_problems(row["name"], row)
        if problems:
            raise LakeError(f"{lake / 'clients'}: client {row['client_id']}: " + "; ".join(problems))
