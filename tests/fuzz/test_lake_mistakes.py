"""Issue 13's promise as a property: take a correct generated lake (Parquet or CSV), make one realistic extract
mistake, and `coach run` either refuses before anything starts (BadInput, exit 2: one line naming the column, or
the file or table folder for a structural mistake, never a member's value) or finds exactly the audience of the
correct lake. Never a third outcome: a run that goes on with a different audience."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from coach.audience.engine import AudienceParams
from coach.intake import plan_campaign
from hypothesis import event, given
from hypothesis import strategies as st

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.inputs import BadInput
from coach_local.lakegen import generate_lake
from coach_local.runner import check_lake
from tests.fuzz.strategies import fuzz_settings
from tests.unit.test_intake import CLARITIN
from tests.unit.test_lake_check import as_csv

# (mistake, the column the refusal must name, or None when the form is accepted and the audience must not change)
Mistake = Callable[[Path, str, st.DrawFn], str | None]
STRUCTURAL = "<file>"  # a refusal that names the file or table folder (mixed formats, undecodable bytes)


@pytest.fixture(scope="module")
def lakes(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("mistakes")
    generate_lake(base / "parquet", members=150, clients=3, months=4, seed=5, as_of=date(2002, 11, 26))
    as_csv(base / "parquet", base / "csv")  # the same lake as CSV files with a header, one per partition
    return {"parquet": base / "parquet", "csv": base / "csv"}


def audience(lake: Path) -> list[tuple]:
    params = AudienceParams.for_campaign(plan_campaign(CLARITIN).campaign)
    return [
        (r["client_id"], r["member_id"], r["reachable"])
        for r in DuckDbClaimsEngine(lake).audience_rows(params)
    ]


# --- editing a cell, whatever the format ---------------------------------------------------------------------------
def _files(lake: Path, table: str) -> list[Path]:
    return sorted(p for p in (lake / table).rglob("*") if p.suffix in (".csv", ".parquet"))


def _edit(path: Path, column: str, change: Callable[[list], list]) -> None:
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        index = table.schema.get_field_index(column)
        values = change(table.column(column).to_pylist())
        field = table.schema.field(index)
        try:
            array = pa.array(values, field.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            array, field = (
                pa.array([None if v is None else str(v) for v in values], pa.string()),
                pa.field(column, pa.string()),
            )
        pq.write_table(table.set_column(index, field, array), path)
        return
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row, value in zip(rows, change([r[column] for r in rows]), strict=True):
        row[column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _some(draw: st.DrawFn, values: list, form: Callable) -> list:
    """`form` applied to one row, or to every row (a whole extract written the same wrong way)."""
    if draw(st.booleans()):
        return [form(v) for v in values]
    index = draw(st.integers(0, len(values) - 1))
    return [form(v) if i == index else v for i, v in enumerate(values)]


# --- the catalogue -------------------------------------------------------------------------------------------------
def date_forms(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    form = draw(
        st.sampled_from(["%m/%d/%Y", "%d.%m.%Y", "%Y%m%d", "%d/%m/%y", "%Y-%m-%dT00:00:00", "%b %d %Y"])
    )
    path = draw(st.sampled_from(_files(lake, "claims")))
    _edit(path, "fill_date", lambda values: _some(draw, values, lambda v: _as_date(v).strftime(form)))
    return "fill_date"


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def enum_case(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    case = draw(st.sampled_from([str.upper, str.title, lambda v: f" {v} "]))
    table, column = draw(st.sampled_from([("claims", "claim_status"), ("members", "preferred_channel")]))
    for path in _files(lake, table):
        _edit(path, column, lambda values: [case(v) if v else v for v in values])
    return None  # enums are read whatever their case and surrounding spaces


def enum_unknown(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    table, column, wrong = draw(
        st.sampled_from(
            [
                ("claims", "claim_status", "approved"),
                ("claims", "claim_status", "P"),
                ("members", "preferred_channel", "e-mail"),
            ]
        )
    )
    path = draw(st.sampled_from(_files(lake, table)))
    _edit(path, column, lambda values: _some(draw, values, lambda v: wrong))
    return column


def ndc_forms(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    form = draw(
        st.sampled_from(
            [
                lambda n: f"{n[:5]}-{n[5:9]}-{n[9:]}",
                lambda n: n.lstrip("0") or "0",
                lambda n: f" {n}",
                lambda n: f"{n[:5]} {n[5:9]} {n[9:]}",
                lambda n: n[1:],
            ]
        )
    )
    table = draw(st.sampled_from(["claims", "drugs"]))
    path = draw(st.sampled_from(_files(lake, table)))
    before = [v for v in _column(path, "ndc")]
    _edit(path, "ndc", lambda values: _some(draw, values, form))
    return None if _column(path, "ndc") == before else "ndc"


def _column(path: Path, column: str) -> list:
    if path.suffix == ".parquet":
        return pq.read_table(path, columns=[column]).column(column).to_pylist()
    with path.open(newline="", encoding="utf-8") as handle:
        return [r[column] for r in csv.DictReader(handle)]


def partition_names(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    folder = draw(st.sampled_from(sorted((lake / "claims").iterdir())))
    month = folder.name.removeprefix("fill_month=")
    year, number = month.split("-")
    wrong = draw(
        st.sampled_from([f"{year}-{int(number)}", f"{year}_{number}", f"{month}-01", f"{year}{number}"])
    )
    if wrong == month:
        return None
    folder.rename(folder.with_name(f"fill_month={wrong}"))
    return "fill_month"


def wrong_partition(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    folders = sorted((lake / "claims").iterdir())
    source, target = draw(st.sampled_from(folders)), draw(st.sampled_from(folders))
    if source == target:
        return None
    [path] = _files(lake, f"claims/{source.name}")
    path.rename(target / f"moved{path.suffix}")
    return "fill_date"


def mixed_formats(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    path = draw(st.sampled_from(_files(lake, "claims")))
    other = ".csv" if path.suffix == ".parquet" else ".parquet"
    if other == ".csv":
        rows = pq.read_table(path).to_pylist()
        with path.with_suffix(".csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        import pyarrow.csv as pacsv

        pq.write_table(pacsv.read_csv(path), path.with_suffix(".parquet"))
    path.unlink()
    return STRUCTURAL


def duplicate_keys(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    table, column = draw(
        st.sampled_from([("members", "member_id"), ("claims", "claim_id"), ("drugs", "ndc")])
    )
    path = draw(st.sampled_from(_files(lake, table)))
    _edit(path, column, lambda values: [values[0], values[0], *values[2:]] if len(values) > 1 else values)
    return column if len(_column(path, column)) > 1 else None


def dangling_client(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    path = _files(lake, "members")[0]
    _edit(path, "client_id", lambda values: _some(draw, values, lambda v: "C9999"))
    return "client_id"


def blanks(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    table, column, required = draw(
        st.sampled_from(
            [
                ("members", "member_id", True),
                ("members", "email_consent", True),
                ("claims", "fill_date", True),
                ("claims", "claim_status", True),
                ("members", "address_line2", False),
            ]
        )
    )
    blank = draw(st.sampled_from(["", None]))
    path = draw(st.sampled_from(_files(lake, table)))
    if not required:  # a nullable cell left empty: blank and null mean the same
        _edit(path, column, lambda vs: [blank if v in (None, "") else v for v in vs])
        return None
    _edit(path, column, lambda vs: _some(draw, vs, lambda v: blank))
    return column


def null_words(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    if kind != "csv":
        return None
    word = draw(st.sampled_from(["NULL", "null", "N/A", "NaN", "None"]))
    column = draw(st.sampled_from(["eligibility_end", "deceased", "opted_out"]))
    path = _files(lake, "members")[0]
    _edit(path, column, lambda values: _some(draw, values, lambda v: word if v in ("", None) else v))
    changed = _column(path, column).count(word)
    return column if changed else None


def boolean_forms(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    if kind != "csv":
        return None
    spelled = draw(st.sampled_from([("TRUE", "FALSE"), ("Yes", "No"), ("1", "0"), ("t", "f"), ("Y", "N")]))
    column = draw(st.sampled_from(["deceased", "opted_out", "email_consent", "confidential_address"]))
    path = _files(lake, "members")[0]
    _edit(path, column, lambda values: [spelled[0] if v == "true" else spelled[1] for v in values])
    return None


def encodings(lake: Path, kind: str, draw: st.DrawFn) -> str | None:
    if kind != "csv":
        return None
    path = _files(lake, "members")[0]
    how = draw(st.sampled_from(["latin-1", "utf-16", "utf-8-sig"]))
    if how == "latin-1":  # an accented name written in Latin-1: undecodable as UTF-8
        _edit(path, "first_name", lambda values: ["Peña", *values[1:]])
        path.write_bytes(path.read_text(encoding="utf-8").encode("latin-1", errors="replace"))
        return STRUCTURAL + "?"
    path.write_bytes(path.read_text(encoding="utf-8").encode(how))
    return STRUCTURAL if how == "utf-16" else "member_id?"  # a BOM: read, or refused naming member_id


CATALOGUE = [
    date_forms,
    enum_case,
    enum_unknown,
    ndc_forms,
    partition_names,
    wrong_partition,
    mixed_formats,
    duplicate_keys,
    dangling_client,
    blanks,
    null_words,
    boolean_forms,
    encodings,
]


@fuzz_settings(ci=40, fuzz=1000)
@given(data=st.data())
def test_a_mistake_is_refused_naming_its_column_or_changes_nothing(lakes, tmp_path_factory, data):
    kind = data.draw(st.sampled_from(sorted(lakes)))
    mistake = data.draw(st.sampled_from(CATALOGUE), label="mistake")
    lake = tmp_path_factory.mktemp("lake") / kind
    shutil.copytree(lakes[kind], lake)
    expected = audience_of(lakes[kind])
    names = member_names(lakes[kind])
    column = mistake(lake, kind, data.draw)
    event(f"{mistake.__name__} ({kind})")
    try:
        check_lake(lake, CLARITIN)
    except BadInput as refused:
        message = str(refused)
        event(f"{mistake.__name__}: refused")
        assert column is not None, f"{mistake.__name__}: an accepted form was refused: {message}"
        assert "\n" not in message and str(lake) in message
        named = column.removesuffix("?")  # "?": refusing is optional, the audience must then be unchanged
        if named == STRUCTURAL:
            assert any(f"/{t}" in message for t in ("claims", "members", "drugs", "clients")), message
        else:
            assert f"'{named}'" in message, message
        assert not any(name in message for name in names), "a member's value in an error"
    else:
        assert column is None or column.endswith("?"), f"{mistake.__name__}: not refused (column {column})"
        assert audience(lake) == expected, f"{mistake.__name__}: the audience changed silently"
    finally:
        shutil.rmtree(lake.parent, ignore_errors=True)


_AUDIENCES: dict[Path, list[tuple]] = {}


def audience_of(lake: Path) -> list[tuple]:
    if lake not in _AUDIENCES:
        _AUDIENCES[lake] = audience(lake)
        assert _AUDIENCES[lake], "the correct lake must have an audience for the property to mean anything"
    return _AUDIENCES[lake]


def member_names(lake: Path) -> set[str]:
    files = _files(lake, "members")
    names: set[str] = set()
    for path in files:
        names |= {n for n in _column(path, "last_name") + _column(path, "first_name") if n and len(n) > 3}
    return names
