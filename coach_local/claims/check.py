"""`coach lake check`: every rule of the data contract over a local lake folder, with DuckDB, counts only.

Structure first (folders, formats, columns and types, partition folder names), then the CSV cells in their text
form (dates, booleans, integers), then the SQL rules of coach.lake_rules on the typed views (the same rules Athena
runs on AWS), then the clients directory. A problem names the file or table folder, the column, how many rows and
the first row; never a value of the lake. Accepted forms: docs/data-contract.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
from coach.audience.engine import LakeError
from coach.lake_rules import Problem, Rule, lake_rules
from coach.lake_schema import BOOL, DATE, DECIMAL, INT, TABLES

from coach_local.claims.lake import (
    FALSE_FORMS,
    TRUE_FORMS,
    check_types,
    describe_source,
    is_hive,
    load_clients,
    partition_errors,
    quiet_connect,
    quoted_list,
    reader,
    table_files,
    typed_source,
)
from coach_local.prescribers.check import check_prescribers

ROW_TABLES = ("claims", "members", "drugs")
ISO_DATE = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
WHOLE = "^[+-]?[0-9]+$"  # DuckDB would round 30.5 to 31: a whole number is digits only
TEXT_FORMS = {
    DATE: ("not a date in the form YYYY-MM-DD", "dates written YYYY-MM-DD (2026-05-05, not 05/05/2026)"),
    BOOL: ("not a boolean", "true/false, t/f, yes/no, y/n or 1/0 (any case)"),
    INT: ("not a whole number", "a whole number (e.g. 30)"),
    DECIMAL: ("not an amount", "a number with up to 2 decimals, no currency sign (e.g. 12.50)"),
}
AMOUNT = "^[+-]?([0-9]+([.][0-9]{0,2})?|[.][0-9]{1,2})$"


@dataclass
class LakeReport:
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def summary_line(self) -> str:
        """One line for `coach run`: the first error, and how many more there are."""
        first = self.errors[0].line().removeprefix("error: ")
        more = len(self.errors) - 1
        return first + (f" (and {more} more: run `coach lake check`)" if more else "")


def _error(exc: LakeError) -> Problem:
    """A structural error (raised by coach_local.claims.lake as 'where: message') as a problem."""
    where, _, message = str(exc).partition(": ")
    column = re.search(r"column '([^']+)'", message or "")
    return Problem("error", where, column.group(1) if column else "", message or str(exc))


def _text_condition(name: str, family: str) -> str:
    present = f"{name} IS NOT NULL AND trim({name}) <> ''"
    if family == DATE:
        return f"{present} AND (NOT regexp_matches(trim({name}), '{ISO_DATE}') OR TRY_CAST(trim({name}) AS DATE) IS NULL)"
    if family == BOOL:
        return f"{present} AND lower(trim({name})) NOT IN ({quoted_list(TRUE_FORMS + FALSE_FORMS)})"
    if family == DECIMAL:
        return f"{present} AND (NOT regexp_matches(trim({name}), '{AMOUNT}') OR TRY_CAST(trim({name}) AS DECIMAL(18,2)) IS NULL)"
    return f"{present} AND (NOT regexp_matches(trim({name}), '{WHOLE}') OR TRY_CAST(trim({name}) AS INTEGER) IS NULL)"


class _Checker:
    def __init__(self, lake: Path, announced_on: date | None) -> None:
        self.lake, self.announced_on = lake, announced_on
        self.con = quiet_connect()
        self.tables: dict[str, tuple[list[Path], str]] = {}
        self.present: dict[str, set[str]] = {}  # the columns the files of a table hold
        self.report = LakeReport()
        self.unparsed: set[tuple[str, str]] = (
            set()
        )  # (table, column) with text-form errors: no "empty" repeat

    def count(self, sql: str, parameters: list[str] | None = None) -> int:
        return int(self.con.execute(sql, parameters or []).fetchone()[0])  # type: ignore[index]

    def first_row(
        self, table: str, condition: str, parameters: list[str], typed: bool
    ) -> tuple[str, int | None]:
        """The first file holding a row that matches `condition`, and that row's number in it (1 = first row)."""
        files, kind = self.tables[table]
        for path in files:
            source = typed_source([path], kind, table) if typed else reader([path], kind, table)
            numbered = f"(SELECT row_number() OVER () AS row_number_, * FROM {source}) AS {table}"
            row = self.con.execute(f"SELECT min(row_number_) FROM {numbered} WHERE {condition}", parameters)
            found = row.fetchone()
            if found and found[0] is not None:
                return str(path), int(found[0])
        return str(self.lake / table), None

    def structure(self) -> None:
        for table in ROW_TABLES:
            try:
                files, kind = table_files(self.lake, table)
                if table == "claims":
                    errors = partition_errors(self.lake, files)
                    if errors:
                        self.report.problems += [_error(LakeError(e)) for e in errors]
                        continue
                present: set[str] = set()
                for path in files:
                    columns = describe_source(self.con, reader([path], kind, table), str(path))
                    check_types(table, kind, columns, str(path))
                    present |= set(columns)
                    if table == "claims" and not is_hive(files) and "fill_month" not in columns:
                        raise LakeError(
                            f"{path}: column 'fill_month': claims need fill_month=YYYY-MM folders"
                        )
                self.tables[table] = (files, kind)
                self.present[table] = present
            except LakeError as exc:
                self.report.problems.append(_error(exc))

    def text_forms(self) -> None:
        for table, (files, kind) in self.tables.items():
            if kind != "csv":
                continue
            for column in TABLES[table].columns:
                if column.type not in TEXT_FORMS or column.name not in self.present[table]:
                    continue
                condition = _text_condition(column.name, column.type)
                rows = self.count(
                    f"SELECT count(*) FROM {reader(files, kind, table)} AS {table} WHERE {condition}"
                )
                if rows:
                    where, first = self.first_row(table, condition, [], typed=False)
                    problem, expected = TEXT_FORMS[column.type]
                    self.report.problems.append(
                        Problem("error", where, column.name, problem, expected, rows, first)
                    )
                    self.unparsed.add((table, column.name))

    def views(self) -> None:
        for table, (files, kind) in list(self.tables.items()):
            source = typed_source(files, kind, table, self.present[table])
            self.con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
            if table != "claims" and self.count(f"SELECT count(*) FROM {table}") == 0:
                self.report.problems.append(
                    Problem("error", str(self.lake / table), "", f"table {table} is empty")
                )
                del self.tables[table]

    def clients(self) -> bool:
        try:
            rows, problems = load_clients(self.lake)
        except LakeError as exc:
            self.report.problems.append(_error(exc))
            return False
        self.report.problems += problems
        self.con.execute("CREATE TABLE clients (client_id VARCHAR)")
        self.con.executemany("INSERT INTO clients VALUES (?)", [[r["client_id"]] for r in rows])
        return True

    def rules(self, clients_ok: bool) -> None:
        for rule in lake_rules(with_event=self.announced_on is not None):
            needs = {rule.table, *rule.reads}
            if not (needs - {"clients"}) <= set(self.tables) or ("clients" in needs and not clients_ok):
                continue
            if rule.name == "missing" and (rule.table, rule.column) in self.unparsed:
                continue
            self._run(rule)

    def _run(self, rule: Rule) -> None:
        parameters = [self.announced_on.isoformat()] if rule.needs_event and self.announced_on else []
        try:
            rows = self.count(rule.sql("duckdb"), parameters)
        except duckdb.Error as exc:  # a damaged page inside a file the structure checks could read
            where = str(self.lake / rule.table)
            self.report.problems.append(
                Problem("error", where, "", f"unreadable ({str(exc).splitlines()[0][:200]})")
            )
            return
        if not rows:
            return
        condition = rule.row_condition("duckdb")
        if condition is None:
            self.report.problems.append(rule.found(rows, str(self.lake / rule.table)))
            return
        where, first = self.first_row(rule.table, condition, parameters, typed=True)
        self.report.problems.append(rule.found(rows, where, first))


def check_lake(lake_dir: str | Path, *, announced_on: date | None = None) -> LakeReport:
    """Every problem of the lake (errors and warnings); `announced_on` adds the rules that need the event."""
    lake = Path(lake_dir)
    if not lake.is_dir():
        return LakeReport([Problem("error", str(lake), "", "no such lake folder")])
    checker = _Checker(lake, announced_on)
    try:
        checker.structure()
        checker.text_forms()
        checker.views()
        clients_ok = checker.clients()
        checker.rules(clients_ok)
        check_prescribers(checker)  # the optional prescribers table (issue 17)
    except duckdb.Error as exc:
        checker.report.problems.append(
            Problem("error", str(lake), "", f"unreadable ({str(exc).splitlines()[0][:200]})")
        )
    finally:
        checker.con.close()
    return checker.report
