"""The prescribers table in `coach lake check` (optional: a lake without prescribers/ is complete). Structure and
CSV text forms as for the other tables, then coach.prescribers.rules: errors for empty required cells and
duplicated NPIs, warnings counting invalid NPIs and prescribers without a usable address. Counts only."""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
from coach.audience.engine import LakeError
from coach.lake_rules import Problem
from coach.lake_schema import PRESCRIBERS
from coach.prescribers.rules import prescriber_rules, rule_sql

from coach_local.claims.lake import check_types, describe_source, reader, table_files, typed_source

if TYPE_CHECKING:
    from coach_local.claims.check import _Checker

TABLE = PRESCRIBERS.name


def check_prescribers(checker: _Checker) -> None:
    """Adds the prescribers table's problems to the checker's report (nothing when the folder is absent)."""
    from coach_local.claims.check import TEXT_FORMS, _error, _text_condition

    if not (checker.lake / TABLE).is_dir():
        return
    try:
        files, kind = table_files(checker.lake, TABLE)
        for path in files:
            check_types(
                TABLE, kind, describe_source(checker.con, reader([path], kind, TABLE), str(path)), str(path)
            )
    except LakeError as exc:
        checker.report.problems.append(_error(exc))
        return
    checker.tables[TABLE] = (files, kind)
    unparsed = False
    if kind == "csv":
        for column in PRESCRIBERS.required:
            if column.type in TEXT_FORMS:
                condition = _text_condition(column.name, column.type)
                rows = checker.count(
                    f"SELECT count(*) FROM {reader(files, kind, TABLE)} AS {TABLE} WHERE {condition}"
                )
                if rows:
                    where, first = checker.first_row(TABLE, condition, [], typed=False)
                    problem, expected = TEXT_FORMS[column.type]
                    checker.report.problems.append(
                        Problem("error", where, column.name, problem, expected, rows, first)
                    )
                    unparsed = True
    if unparsed:
        return
    checker.con.execute(f"CREATE OR REPLACE VIEW {TABLE} AS SELECT * FROM {typed_source(files, kind, TABLE)}")
    for rule in prescriber_rules():
        count_sql, row_condition = rule_sql(rule, "duckdb")
        try:
            rows = checker.count(count_sql)
        except duckdb.Error as exc:
            checker.report.problems.append(
                Problem(
                    "error", str(checker.lake / TABLE), "", f"unreadable ({str(exc).splitlines()[0][:200]})"
                )
            )
            return
        if rows:
            found: tuple[str, int | None] = (str(checker.lake / TABLE), None)
            if row_condition:
                found = checker.first_row(TABLE, row_condition, [], typed=True)
            checker.report.problems.append(rule.found(rows, *found))
