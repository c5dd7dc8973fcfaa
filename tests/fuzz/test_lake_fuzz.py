"""Fuzz the lake reader (issue 6, "Bad input"): a lake with a missing, renamed or retyped column, a corrupt,
truncated, empty or foreign file, or a file of the wrong type is refused with a `LakeError` (`BadInput` from
`coach run`) that names the file or table and the problem, in whichever file it hides; never another exception.
Harmless differences (extra columns and files, optional columns dropped) change nothing."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from coach.audience.engine import AudienceParams, AudienceQueryFailed, LakeError
from hypothesis import event, given
from hypothesis import strategies as st

from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.claims.lake import SCHEMA, check_clients, open_lake, read_clients
from coach_local.inputs import BadInput
from coach_local.runner import check_lake
from tests.fuzz.strategies import CLARITIN_NDC, fuzz_settings
from tests.workflow.tiny_lake import client, member, write_lake

FILES = {
    "members/members.parquet": "members",
    "clients/clients.parquet": "clients",
    "drugs/drugs.parquet": "drugs",
    "claims/fill_month=2002-09/part-0.parquet": "claims",
    "claims/fill_month=2002-10/part-0.parquet": "claims",
}
PARAMS = AudienceParams(
    campaign_id="fuzz",
    ndcs=(CLARITIN_NDC,),
    ingredient="loratadine",
    first_day=date(2001, 11, 28),
    last_day=date(2002, 11, 27),
    effective_date=date(2003, 1, 1),
)
WRONG_TYPES: dict[str, list[pa.DataType]] = {
    "string": [pa.int64(), pa.float64(), pa.bool_(), pa.date32(), pa.list_(pa.string()), pa.binary()],
    "date": [pa.string(), pa.int64(), pa.bool_(), pa.float64()],
    "int": [pa.string(), pa.float64(), pa.bool_(), pa.date32()],
    "bool": [pa.string(), pa.int64(), pa.float64()],
    "list<string>": [pa.string(), pa.int64()],
    "map<string,string>": [pa.string(), pa.int64(), pa.list_(pa.string())],
}
SAMPLE_VALUE: dict[str, Any] = {
    "int64": 7,
    "double": 1.5,
    "bool": True,
    "date32[day]": date(2002, 1, 1),
    "string": "x",
    "binary": b"x",
    "list<item: string>": ["a"],
}
FOREIGN_BYTES = {
    "csv": b"member_id,client_id\nM1,C1\n",
    "json": b'[{"member_id": "M1"}]',
    "pdf": b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
    "zip": b"PK\x03\x04" + bytes(40),
    "gzip": b"\x1f\x8b\x08\x00" + bytes(20),
    "par1-garbage": b"PAR1" + bytes(range(256)) + b"PAR1",
    "par1-footer": b"PAR1" + bytes(100) + (100).to_bytes(4, "little") + b"PAR1",
    "utf16-bom": "member_id\n".encode("utf-16"),
}


@dataclass
class Expect:
    """What the error must name: one of `where` (a file or table folder) and every word in `words`."""

    table: str
    where: list[str]
    words: list[str] = field(default_factory=list)
    strict: bool = True  # False: corruption that may go unnoticed (bytes inside a data page)


# --- mutations ---------------------------------------------------------------------------------------------------
def _rewrite(path: Path, change) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _retype(table: pa.Table, column: str, new_type: pa.DataType) -> pa.Table:
    index = table.schema.get_field_index(column)
    value = SAMPLE_VALUE[str(new_type)]
    return table.set_column(index, pa.field(column, new_type), pa.array([value] * table.num_rows, new_type))


@st.composite
def schema_breaks(draw: st.DrawFn) -> tuple[str, Any, Any]:
    rel = draw(st.sampled_from(sorted(FILES)))
    table = FILES[rel]
    column = draw(st.sampled_from(sorted(SCHEMA[table])))
    action = draw(st.sampled_from(["drop", "rename", "retype"]))
    if action == "drop":
        change, words = (lambda t: t.drop([column])), ["missing required column", f"'{column}'"]
    elif action == "rename":
        new = draw(
            st.sampled_from(
                [
                    f"x_{column}",
                    column.upper(),
                    f"{column} ",
                    f"ñ{column}",
                    column.replace("_", "-") + "-",
                    f"{column}\x00",
                ]
            )
        )
        change = lambda t: t.rename_columns([new if n == column else n for n in t.column_names])  # noqa: E731
        words = ["missing required column", f"'{column}'"]
    else:
        new_type = draw(st.sampled_from(WRONG_TYPES[SCHEMA[table][column]]))
        change, words = (lambda t: _retype(t, column, new_type)), [f"'{column}'", "has type"]

    def apply(lake: Path) -> Expect:
        _rewrite(lake / rel, change)
        return Expect(table, [str(lake / rel)], words)

    return f"{action} {column} in {rel}", apply, None


@st.composite
def corruptions(draw: st.DrawFn) -> tuple[str, Any, Any]:
    rel = draw(st.sampled_from(sorted(FILES)))
    table = FILES[rel]
    how = draw(
        st.sampled_from(["truncate", "random", "empty", "foreign", "other-table", "middle", "no-rows"])
    )
    if how == "no-rows" and table == "claims":  # an empty partition is allowed; an empty table is not
        how = "truncate"
    fraction = draw(st.floats(min_value=0.0, max_value=0.99))
    noise = draw(st.binary(min_size=1, max_size=2000))
    foreign = draw(st.sampled_from(sorted(FOREIGN_BYTES)))
    other = draw(st.sampled_from(sorted(set(FILES.values()) - {table})))

    def apply(lake: Path) -> Expect:
        path = lake / rel
        data = path.read_bytes()
        if how == "truncate":
            path.write_bytes(data[: int(len(data) * fraction)])
        elif how == "random":
            path.write_bytes(noise)
        elif how == "empty":
            path.write_bytes(b"")
        elif how == "foreign":
            path.write_bytes(FOREIGN_BYTES[foreign])
        elif how == "other-table":
            shutil.copyfile(next(lake / r for r, t in FILES.items() if t == other), path)
            return Expect(table, [str(path)], ["missing required column"])
        elif how == "no-rows":
            _rewrite(path, lambda t: t.slice(0, 0))
            return Expect(table, [str(lake / table)], ["empty"])
        else:  # bytes changed inside the file, header and footer intact: may or may not be noticed
            start = max(4, int(len(data) * fraction) // 2)
            path.write_bytes(
                data[:start] + noise[: len(data) // 3] + data[start + len(noise[: len(data) // 3]) :]
            )
            return Expect(table, [str(path), str(lake / table)], [], strict=False)
        return Expect(table, [str(path)], ["unreadable"])

    return f"{how} {rel}" + (f" ({foreign})" if how == "foreign" else ""), apply, None


@st.composite
def layout_breaks(draw: st.DrawFn) -> tuple[str, Any, Any]:
    table = draw(st.sampled_from(["members", "clients", "drugs", "claims"]))
    how = draw(st.sampled_from(["extension", "no-folder", "folder-is-file", "file-is-folder", "garbage-csv"]))
    extension = draw(
        st.sampled_from(
            [
                ".txt",
                ".parquet.bak",
                ".PARQUET",
                ".parq",
                ".pq",
                "",
                ".parquet.gz",
                ".json" if table != "clients" else ".txt",
            ]
        )
    )
    noise = draw(st.binary(max_size=300))
    files = [rel for rel, t in FILES.items() if t == table]

    def apply(lake: Path) -> Expect:
        folder = lake / table
        if how == "extension":
            for rel in files:
                (lake / rel).rename((lake / rel).with_name((lake / rel).stem + extension))
            return Expect(table, [str(folder)], ["no .parquet or .csv files"])
        if how == "no-folder" or how == "folder-is-file":
            shutil.rmtree(folder)
            if how == "folder-is-file":
                folder.write_bytes(b"PAR1")
            return Expect(table, [str(folder)], ["missing table folder"])
        if how == "file-is-folder":
            for rel in files:
                (lake / rel).unlink()
                (lake / rel).mkdir()
            return Expect(table, [str(folder)], ["no .parquet or .csv files"])
        for rel in files:  # the Parquet replaced by a .csv of noise
            (lake / rel).unlink()
            (lake / rel).with_suffix(".csv").write_bytes(noise)
        return Expect(
            table, [str(lake / rel).removesuffix(".parquet") + ".csv" for rel in files] + [str(folder)], []
        )

    return f"{how} {table}{extension if how == 'extension' else ''}", apply, None


CLIENT_HEADER = "client_id,name,account_team_emails,client_contact_emails,elections,escalation_email\n"
BAD_CELLS = {
    "elections": [
        '"{bad"',
        '"[1, 2]"',
        "5",
        '"""x"""',
        '"{""otc_switch"": ""sometimes""}"',
        '"{""otc_switch"": 5}"',
        '"{""otc_switch"": null}"',
    ],
    "account_team_emails": ['"[not json"', '"[1, 2"'],
    "client_contact_emails": ['"[""a@x.example"", "', '"[{""a"": "'],
    "client_id": ["bad id!", '"C1; DROP TABLE clients"', "", '"' + "C" * 65 + '"'],
}
BAD_JSON = {
    "elections": ["5", '"x"', "[1, 2]", '"{bad"', '{"otc_switch": "sometimes"}'],
    "account_team_emails": ["5", "true", '"[not json"'],
    "client_contact_emails": ["7.5", '"[1,"'],
    "client_id": ['"bad id!"', "null", '""'],
}


@st.composite
def client_values(draw: st.DrawFn) -> tuple[str, Any, Any]:
    """The clients directory as CSV or JSON (no column types to check) with a cell that cannot be read."""
    kind = draw(st.sampled_from(["csv", "json"]))
    column = draw(st.sampled_from(sorted(BAD_CELLS)))
    cell = draw(st.sampled_from(BAD_CELLS[column] if kind == "csv" else BAD_JSON[column]))

    def apply(lake: Path) -> Expect:
        (lake / "clients" / "clients.parquet").unlink()
        if kind == "csv":
            good = {
                "client_id": "C1",
                "name": "One",
                "account_team_emails": "a@pbm.example",
                "client_contact_emails": "hr@one.example",
                "elections": "",
                "escalation_email": "",
            }
            row = ",".join(
                cell if name == column else good[name] for name in CLIENT_HEADER.strip().split(",")
            )
            (lake / "clients" / "clients.csv").write_text(CLIENT_HEADER + row + "\n", encoding="utf-8")
        else:
            good = {
                "client_id": '"C1"',
                "name": '"One"',
                "account_team_emails": '["a@pbm.example"]',
                "client_contact_emails": "[]",
                "elections": "{}",
                "escalation_email": "null",
            }
            fields = ", ".join(
                f'"{name}": {cell if name == column else value}' for name, value in good.items()
            )
            (lake / "clients" / "clients.json").write_text(f"[{{{fields}}}]", encoding="utf-8")
        return Expect(
            "clients", [str(lake / "clients")], [f"'{column}'"] if cell not in ("", '""', "null") else []
        )

    return f"client-{kind} {column}={cell}", apply, None


@st.composite
def harmless(draw: st.DrawFn) -> tuple[str, Any]:
    rel = draw(st.sampled_from(sorted(FILES)))
    how = draw(
        st.sampled_from(["extra-column", "stray-files", "reorder", "optional-dropped", "empty-folder"])
    )
    extra_name = draw(st.sampled_from(["notes", "NDC_OLD", "член", "x y", "💊"]))
    extra_type = draw(st.sampled_from([pa.string(), pa.int64(), pa.bool_(), pa.list_(pa.string())]))
    stray = draw(
        st.sampled_from(["README.txt", "_SUCCESS", ".DS_Store", "part-0.parquet.crc", "notes.md", "x.tmp"])
    )
    seed = draw(st.integers(0, 1000))

    def apply(lake: Path) -> None:
        path = lake / rel
        if how == "extra-column":
            _rewrite(
                path,
                lambda t: (
                    t
                    if extra_name in t.column_names
                    else t.append_column(
                        pa.field(extra_name, extra_type),
                        pa.array([SAMPLE_VALUE[str(extra_type)]] * t.num_rows, extra_type),
                    )
                ),
            )
        elif how == "stray-files":
            (path.parent / stray).write_bytes(b"not data")
        elif how == "reorder":
            _rewrite(path, lambda t: t.select(sorted(t.column_names, key=lambda n: hash((n, seed)))))
        elif how == "optional-dropped" and FILES[rel] == "claims":
            _rewrite(
                path,
                lambda t: t.drop([n for n in ("prescriber_npi", "pharmacy_npi") if n in t.column_names][:1]),
            )
        else:
            (path.parent / "empty-subfolder").mkdir(exist_ok=True)

    return f"{how} {rel}", apply


lakes = st.tuples(
    st.none()
    | schema_breaks()
    | corruptions()
    | layout_breaks()
    | client_values(),  # none: only harmless changes
    st.lists(harmless(), max_size=2),
)


# --- the property ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lake_factory(tmp_path_factory):
    root = tmp_path_factory.mktemp("lake-fuzz")
    template = write_lake(
        root / "template",
        [client("C1", "One", {"otc_switch": "always"})],
        [member("M1", "C1", "A", "B"), member("M2", "C1", "C", "D")],
        [("M1", CLARITIN_NDC, date(2002, 9, 1), "paid"), ("M2", CLARITIN_NDC, date(2002, 10, 1), "paid")],
    )
    counter = itertools.count()

    def make() -> Path:
        lake = root / f"lake-{next(counter)}"
        shutil.copytree(template, lake)
        return lake

    yield make
    shutil.rmtree(root, ignore_errors=True)


def _attempt(action) -> Exception | None:
    try:
        action()
    except (LakeError, BadInput) as error:
        return error
    except Exception as error:
        pytest.fail(f"{type(error).__name__} escaped instead of LakeError: {str(error)[:300]}")
    return None


def check_message(error: Exception | None, expect: Expect, entry: str) -> None:
    if error is None:
        assert not expect.strict, (
            f"{entry} accepted a broken lake (expected an error naming {expect.where[0]})"
        )
        return
    message = str(error)
    assert message and "\n" not in message and len(message) < 1000, (
        f"{entry}: unclear message {message[:200]!r}"
    )
    assert any(where in message for where in expect.where), (
        f"{entry}: {message!r} does not name {expect.where}"
    )
    for word in expect.words:
        assert word in message, f"{entry}: {message!r} does not say {word!r}"


@fuzz_settings(ci=50, fuzz=500)
@given(case=lakes)
def test_broken_lakes_are_refused_naming_the_file_and_the_problem(case, lake_factory):
    broken, changes = case
    lake = lake_factory()
    try:
        for _, apply in changes:
            apply(lake)
        expect = broken[1](lake) if broken else None
        event(broken[0].split()[0] if broken else "harmless")

        def run_open() -> None:
            open_lake(lake).close()

        opened = _attempt(run_open)
        checked = _attempt(lambda: check_lake(lake))
        clients = _attempt(lambda: read_clients(lake))
        contacts = _attempt(lambda: check_clients(lake))  # read_clients, then every name and address
        if any(x is not None for x in (opened, clients, contacts)) or (expect is not None and expect.strict):
            assert checked is not None, (
                "coach run must refuse what the engine or the clients check would refuse"
            )
        if expect is None:
            assert opened is None and clients is None and checked is None, (
                f"a harmless change was refused: {opened or clients or checked}"
            )
        elif expect.table == "clients":
            check_message(clients, expect, "read_clients")
        else:
            check_message(opened, expect, "open_lake")
        if expect is not None and checked is not None:
            check_message(checked, expect, "coach run")  # the whole lake check: the same file and problem
        if opened is None:
            try:
                members = {row["member_id"] for row in DuckDbClaimsEngine(lake).audience_rows(PARAMS)}
            except (LakeError, AudienceQueryFailed) as error:
                assert expect is not None and not expect.strict, (
                    f"audience failed on a lake that opened: {error}"
                )
                assert "\n" not in str(error)
            except Exception as error:
                pytest.fail(f"{type(error).__name__} escaped the audience query: {str(error)[:300]}")
            else:
                if expect is None or expect.table == "clients":
                    assert members == {"M1", "M2"}, f"the audience changed: {sorted(members)}"
    finally:
        shutil.rmtree(lake, ignore_errors=True)
