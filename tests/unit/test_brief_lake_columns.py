"""The brief's optional lake columns (plan_paid, member_paid, quantity, birth_date): checked like the rest when a
lake has them, read as empty when it does not (docs/data-contract.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from coach_local.claims.check import check_lake
from coach_local.claims.lake import open_lake
from tests.unit.test_lake_check import OCT_CLAIMS, as_csv, edit_csv, good_lake, only_error

ANNOUNCED = date(2002, 11, 27)


def set_column(path: Path, column: str, values: list, kind: pa.DataType | None = None) -> None:
    table = pq.read_table(path)
    index = table.schema.get_field_index(column)
    field = pa.field(column, kind or table.schema.field(index).type)
    pq.write_table(table.set_column(index, field, pa.array(values, field.type)), path)


def drop_columns(path: Path, *columns: str) -> None:
    pq.write_table(pq.read_table(path).drop_columns(list(columns)), path)


def test_amounts_in_csv_must_be_plain_numbers_and_the_value_is_never_shown(tmp_path):
    lake = as_csv(good_lake(tmp_path / "lake"), tmp_path / "csv")
    edit_csv(lake / f"{OCT_CLAIMS}.csv", 1, "plan_paid", " 12.5 ")
    edit_csv(lake / f"{OCT_CLAIMS}.csv", 2, "member_paid", "10")
    assert check_lake(lake, announced_on=ANNOUNCED).problems == []
    edit_csv(lake / f"{OCT_CLAIMS}.csv", 2, "plan_paid", "$41.99")
    error = only_error(check_lake(lake, announced_on=ANNOUNCED), "plan_paid")
    assert (error.rows, error.first_row) == (1, 2) and "$41.99" not in error.line()
    assert "not an amount" in error.line()


def test_a_negative_amount_or_a_zero_quantity_is_an_error(tmp_path):
    lake = good_lake(tmp_path / "lake")
    set_column(lake / f"{OCT_CLAIMS}.parquet", "member_paid", [None, -5, None])
    assert only_error(check_lake(lake), "member_paid").problem == "a negative amount"
    set_column(lake / f"{OCT_CLAIMS}.parquet", "member_paid", [None, 5, None])
    set_column(lake / f"{OCT_CLAIMS}.parquet", "quantity", [0, 30, 30])
    assert only_error(check_lake(lake), "quantity").rows == 1


def test_an_amount_stored_as_text_in_parquet_is_refused_with_its_type(tmp_path):
    lake = good_lake(tmp_path / "lake")
    set_column(lake / f"{OCT_CLAIMS}.parquet", "plan_paid", ["1", "2", "3"], pa.string())
    error = only_error(check_lake(lake), "plan_paid")
    assert "VARCHAR" in error.line() and "decimal" in error.line()


def test_an_unlikely_birth_date_is_a_warning_not_an_error(tmp_path):
    lake = good_lake(tmp_path / "lake")
    set_column(lake / "members/members.parquet", "birth_date", [date(1890, 1, 1), date(2003, 1, 1), None])
    report = check_lake(lake, announced_on=ANNOUNCED)
    assert report.errors == []
    assert sorted((w.column, w.rows) for w in report.warnings) == [("birth_date", 1), ("birth_date", 1)]


def test_a_lake_without_the_columns_passes_and_reads_them_as_empty(tmp_path):
    lake = good_lake(tmp_path / "lake")
    for path in (lake / "claims").rglob("*.parquet"):
        drop_columns(path, "plan_paid", "member_paid", "quantity")
    drop_columns(lake / "members/members.parquet", "birth_date")
    assert check_lake(lake, announced_on=ANNOUNCED).problems == []
    con = open_lake(lake)
    try:
        assert con.execute("SELECT count(plan_paid), count(*) FROM claims").fetchone() == (0, 4)
        assert con.execute("SELECT count(birth_date) FROM members").fetchone() == (0,)
    finally:
        con.close()
