"""The lake's data-quality rules, derived from coach.lake_schema: one SQL per rule, counts only, the same text for
DuckDB (local `coach lake check`, `coach run`) and Athena (the first step of the audience stage on AWS).

A rule counts the rows that break it; nothing a rule returns holds a value of the lake, so its problems can go
into errors, logs and operator alerts. Accepted forms and their normalisation: docs/data-contract.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from coach.audience.engine import LakeError
from coach.lake_schema import (
    CLIENT_ID_PATTERN,
    ELECTIONS,
    EVENT_TYPES,
    MONTH_PATTERN,
    NDC_PATTERN,
    STRING,
    TABLES,
)

Severity = Literal["error", "warning"]
Dialect = Literal["duckdb", "athena"]
REGEX = {"duckdb": "regexp_matches", "athena": "regexp_like"}  # both find a match; the patterns are anchored
PATTERNS = {
    NDC_PATTERN: "11 digits without hyphens or spaces (00085-1128-01 is written 00085112801)",
    CLIENT_ID_PATTERN: "1–64 letters, digits, '.', '_' or '-'",
}


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (file, table folder or table), which column, how many rows, what was expected."""

    severity: Severity
    where: str
    column: str
    problem: str
    expected: str = ""
    rows: int | None = None
    first_row: int | None = None  # 1 = the first data row of `where` (local files only)

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def line(self) -> str:
        named = (
            self.column and f"{self.column!r}" not in self.problem
        )  # structural problems name it themselves
        column = f"column {self.column!r}: " if named else ""
        rows = "" if self.rows is None else f"{self.rows:,} row{'' if self.rows == 1 else 's'}: "
        first = f" (first at row {self.first_row})" if self.first_row else ""
        expected = f"; expected {self.expected}" if self.expected else ""
        return f"{self.severity}: {self.where}: {column}{rows}{self.problem}{first}{expected}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rule:
    """A count of rows of `table` breaking the rule: `condition` on one row, or a whole `query` (keys)."""

    name: str  # what kind of rule: missing, form, enum, key, partition, reference, suspicious
    table: str
    column: str
    severity: Severity
    problem: str
    expected: str
    condition: str | None = None
    query: str | None = None
    needs_event: bool = False  # binds one parameter: the event's announced_on (YYYY-MM-DD)
    reads: tuple[str, ...] = ()  # the other tables the condition reads

    def sql(self, dialect: Dialect) -> str:
        text = self.query or f"SELECT count(*) FROM {self.table} WHERE {self.condition}"
        return text.replace("{regex}", REGEX[dialect])

    def row_condition(self, dialect: Dialect) -> str | None:
        return self.condition.replace("{regex}", REGEX[dialect]) if self.condition else None

    def found(self, rows: int, where: str, first_row: int | None = None) -> Problem:
        return Problem(self.severity, where, self.column, self.problem, self.expected, rows, first_row)


def _column_rules(table: str) -> list[Rule]:
    rules = []
    for column in TABLES[table].required:
        name = column.name
        if not column.nullable:
            blank = f" OR trim({name}) = ''" if column.type == STRING else ""
            rules.append(
                Rule(
                    "missing",
                    table,
                    name,
                    "error",
                    "empty",
                    "a value in every row",
                    f"{name} IS NULL{blank}",
                )
            )
        if column.pattern:
            rules.append(
                Rule(
                    "form",
                    table,
                    name,
                    "error",
                    "not in the contract's form",
                    PATTERNS[column.pattern],
                    f"{name} IS NOT NULL AND NOT {{regex}}({name}, '^({column.pattern})$')",
                )
            )
        if column.values:
            allowed = ", ".join(f"'{v}'" for v in column.values)
            rules.append(
                Rule(
                    "enum",
                    table,
                    name,
                    "error",
                    "a value outside the allowed ones",
                    f"one of {', '.join(column.values)} (any case)",
                    f"{name} IS NOT NULL AND trim({name}) <> '' AND lower(trim({name})) NOT IN ({allowed})",
                )
            )
    return rules


def _key_rule(table: str) -> Rule:
    key = TABLES[table].key
    return Rule(
        "key",
        table,
        key,
        "error",
        "a key that another row has too",
        f"each {key} once in {table}/",
        query=f"SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {table} WHERE {key} IS NOT NULL "
        f"GROUP BY {key} HAVING count(*) > 1) duplicated",
    )


PARTITION_RULES = [
    Rule(
        "partition",
        "claims",
        "fill_month",
        "error",
        "in a partition whose name is not a month",
        "partition folders named fill_month=YYYY-MM (fill_month=2026-05, not 2026-5)",
        f"fill_month IS NULL OR NOT {{regex}}(fill_month, '^({MONTH_PATTERN})$')",
    ),
    Rule(
        "partition",
        "claims",
        "fill_date",
        "error",
        "a fill_date outside the month of its partition",
        "each claim in the fill_month=YYYY-MM folder of its fill_date",
        "fill_date IS NOT NULL AND fill_month IS NOT NULL AND substr(CAST(fill_date AS VARCHAR), 1, 7) <> fill_month",
    ),
]
REFERENCE_RULES = [
    Rule(
        "reference",
        "members",
        "client_id",
        "error",
        "a client that clients/ does not list",
        "every member's client_id in clients/",
        "client_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM clients k WHERE k.client_id = members.client_id)",
        reads=("clients",),
    ),
]
WARNING_RULES = [
    Rule(
        "suspicious",
        "claims",
        "member_id",
        "warning",
        "a member that members/ does not list (in no audience)",
        "every claim's member in members/",
        "NOT EXISTS (SELECT 1 FROM members m WHERE m.member_id = claims.member_id)",
        reads=("members",),
    ),
    Rule(
        "suspicious",
        "claims",
        "ndc",
        "warning",
        "an NDC the drug catalog does not list (matched only when the event lists it)",
        "every claim's NDC in drugs/",
        "NOT EXISTS (SELECT 1 FROM drugs d WHERE d.ndc = claims.ndc)",
        reads=("drugs",),
    ),
    Rule(
        "suspicious",
        "claims",
        "fill_date",
        "warning",
        "filled after the event was announced (outside every lookback)",
        "fill dates up to the event's announced_on",
        "fill_date > CAST(? AS DATE)",
        needs_event=True,
    ),
]


# The brief's optional columns (coach.lake_schema BRIEF_*): null when a lake has no such column, so these count 0
BRIEF_RULES = [
    *(
        Rule(
            "form",
            "claims",
            column,
            "error",
            "a negative amount",
            "US dollars, 0 or more (12.50)",
            f"{column} < 0",
        )
        for column in ("plan_paid", "member_paid")
    ),
    Rule(
        "form",
        "claims",
        "quantity",
        "error",
        "a quantity that is not positive",
        "the units dispensed, more than 0",
        "quantity <= 0",
    ),
    Rule(
        "suspicious",
        "members",
        "birth_date",
        "warning",
        "a birth date before 1900 (the member's age band reads unknown)",
        "birth dates from 1900 on",
        "birth_date < DATE '1900-01-01'",
    ),
    Rule(
        "suspicious",
        "members",
        "birth_date",
        "warning",
        "born after the event was announced (the member's age band reads unknown)",
        "birth dates up to the event's announced_on",
        "birth_date > CAST(? AS DATE)",
        needs_event=True,
    ),
]


def lake_rules(*, with_event: bool) -> list[Rule]:
    """Every SQL rule, errors first; `with_event` adds the rules that compare the lake with the event."""
    rules: list[Rule] = []
    for table in ("claims", "members", "drugs"):
        rules += _column_rules(table)
        rules.append(_key_rule(table))
    brief_errors = [r for r in BRIEF_RULES if r.severity == "error"]
    rules += PARTITION_RULES + REFERENCE_RULES + brief_errors + WARNING_RULES
    rules += [r for r in BRIEF_RULES if r.severity != "error"]
    return [r for r in rules if with_event or not r.needs_event]


def normalise_elections(raw: dict[str, str]) -> dict[str, str]:
    """Election keys and values are read trimmed and lower-cased (Recall: Always is recall: always)."""
    return {str(k).strip().lower(): str(v).strip().lower() for k, v in raw.items()}


def client_problems(clients: list[dict[str, Any]], where: str) -> list[Problem]:
    """The clients directory (small: checked in Python, on both engines): unique ids, elections of known event
    types with always/ask/never. `clients` are rows with `elections` already a dict (normalise_elections)."""
    problems: list[Problem] = []
    ids = [str(c.get("client_id") or "") for c in clients]
    duplicated = sum(1 for i in ids if ids.count(i) > 1)
    if duplicated:
        problems.append(
            Problem(
                "error",
                where,
                "client_id",
                "a key that another row has too",
                "each client_id once",
                duplicated,
            )
        )
    keys = [(number, key) for number, c in enumerate(clients, 1) for key in (c.get("elections") or {})]
    unknown = [number for number, key in keys if key not in EVENT_TYPES]
    if unknown:
        problems.append(
            Problem(
                "error",
                where,
                "elections",
                "an event type that does not exist",
                "keys among " + ", ".join(EVENT_TYPES),
                len(set(unknown)),
                unknown[0],
            )
        )
    values = [
        number
        for number, c in enumerate(clients, 1)
        for v in (c.get("elections") or {}).values()
        if v not in ELECTIONS
    ]
    if values:
        problems.append(
            Problem(
                "error",
                where,
                "elections",
                "an election that is not always, ask or never",
                "values always, ask or never (any case)",
                len(set(values)),
                values[0],
            )
        )
    return problems


class LakeCheckFailed(LakeError):
    """The lake breaks the contract: every problem (counts and columns, never values) is in the message."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        super().__init__(
            f"the lake breaks the data contract ({len(errors)} error{'' if len(errors) == 1 else 's'}): "
            + " | ".join(p.line() for p in errors)
        )
