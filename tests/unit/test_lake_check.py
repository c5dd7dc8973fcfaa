"""`coach lake check`: one test per rule. Each mistake is refused naming the file (or table folder), the column,
how many rows and the first row, and never shows the value; the accepted alternative forms pass."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coach_local.claims.check import check_lake
from tests.workflow.tiny_lake import CLARITIN_NDC, OTHER_NDC, client, member, write_lake

OCT, SEP = date(2002, 10, 5), date(2002, 9, 20)


def good_lake(root: Path) -> Path:
    return write_lake(
        root,
        [client("C1", "One", {"otc_switch": "always"}), client("C2", "Two")],
        [member("M1", "C1", "Ann", "Lee"), member("M2", "C1", "Bo", "Kim"), member("M3", "C2", "Cy", "Ng")],
        [
            ("M1", CLARITIN_NDC, OCT, "paid"),
            ("M2", CLARITIN_NDC, SEP, "paid"),
            ("M3", OTHER_NDC, OCT, "reversed"),
            ("M3", CLARITIN_NDC, OCT, "paid"),
        ],
    )


def as_csv(lake: Path, out: Path) -> Path:
    """The same lake written as CSV files with a header (blank cell = null), clients too (JSON cells)."""
    for parquet in lake.rglob("*.parquet"):
        target = out / parquet.relative_to(lake).with_suffix(".csv")
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = pq.read_table(parquet).to_pylist()
        with target.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(dict(v) if k == "elections" else v) for k, v in row.items()})
    for other in lake.rglob("*"):  # what is not a table file (the clients' logos) is copied as it is
        target = out / other.relative_to(lake)
        if other.is_file() and other.suffix != ".parquet" and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(other.read_bytes())
    return out


def _cell(value: object) -> str:
    import json

    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell (row 1 = the first data row)."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows[row - 1][column] = value
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def edit_parquet(path: Path, column: str, values: list) -> None:
    table = pq.read_table(path)
    index = table.schema.get_field_index(column)
    pq.write_table(
        table.set_column(index, table.schema.field(index), pa.array(values, table.schema.field(index).type)),
        path,
    )


@pytest.fixture
def lake(tmp_path) -> Path:
    return good_lake(tmp_path / "lake")


@pytest.fixture
def csv_lake(tmp_path, lake) -> Path:
    return as_csv(lake, tmp_path / "csv")


OCT_CLAIMS = "claims/fill_month=2002-10/part-0"


def only_error(report, column: str):
    errors = report.errors
    assert [e.column for e in errors] == [column], [e.line() for e in report.problems]
    return errors[0]


def test_a_correct_lake_has_no_problem_in_parquet_or_csv(lake, csv_lake):
    assert check_lake(lake, announced_on=date(2002, 11, 27)).problems == []
    assert check_lake(csv_lake, announced_on=date(2002, 11, 27)).problems == []


def test_a_date_not_written_yyyy_mm_dd_is_an_error_naming_file_column_and_row(csv_lake):
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 2, "fill_date", "10/05/2002")
    error = only_error(check_lake(csv_lake), "fill_date")
    assert error.where == str(csv_lake / f"{OCT_CLAIMS}.csv") and error.rows == 1 and error.first_row == 2
    assert "YYYY-MM-DD" in error.line() and "10/05/2002" not in error.line()


def test_a_boolean_in_an_unknown_form_is_an_error_and_the_accepted_forms_pass(csv_lake):
    edit_csv(csv_lake / "members/members.csv", 1, "deceased", "Yes")
    edit_csv(csv_lake / "members/members.csv", 2, "opted_out", "0")
    assert check_lake(csv_lake).errors == []
    edit_csv(csv_lake / "members/members.csv", 3, "opted_out", "nope")
    error = only_error(check_lake(csv_lake), "opted_out")
    assert error.first_row == 3 and "nope" not in error.line()


def test_a_whole_number_column_holding_text_or_a_fraction_is_an_error(csv_lake):
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 1, "days_supply", "thirty")
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 2, "days_supply", "30.5")
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 3, "days_supply", " 90 ")
    error = only_error(check_lake(csv_lake), "days_supply")
    assert (error.rows, error.first_row) == (2, 1)


def test_an_empty_required_value_is_an_error_blank_or_null(csv_lake, lake):
    edit_csv(csv_lake / "members/members.csv", 2, "last_name", "  ")
    error = only_error(check_lake(csv_lake), "last_name")
    assert error.problem == "empty" and error.first_row == 2
    edit_parquet(lake / "members/members.parquet", "member_id", ["M1", None, "M3"])
    assert only_error(check_lake(lake), "member_id").rows == 1


def test_a_hyphenated_ndc_in_claims_is_an_error_not_an_unmatched_claim(lake):
    path = lake / f"{OCT_CLAIMS}.parquet"
    edit_parquet(path, "ndc", ["11523-7160-01", OTHER_NDC, CLARITIN_NDC])
    error = only_error(check_lake(lake), "ndc")
    assert (
        error.where == str(path)
        and error.first_row == 1
        and "no hyphens" in error.expected.replace("without hyphens", "no hyphens")
    )


def test_enum_case_is_accepted_and_an_unknown_value_is_an_error(csv_lake):
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 1, "claim_status", "PAID")
    edit_csv(csv_lake / "members/members.csv", 1, "preferred_channel", " Email ")
    assert check_lake(csv_lake).errors == []
    edit_csv(csv_lake / f"{OCT_CLAIMS}.csv", 2, "claim_status", "settled")
    error = only_error(check_lake(csv_lake), "claim_status")
    assert "paid, reversed" in error.expected and "settled" not in error.line()


def test_an_unknown_channel_or_sensitive_class_is_an_error(csv_lake):
    edit_csv(csv_lake / "members/members.csv", 3, "preferred_channel", "fax")
    assert only_error(check_lake(csv_lake), "preferred_channel").first_row == 3
    edit_csv(csv_lake / "members/members.csv", 3, "preferred_channel", "mail")
    edit_csv(csv_lake / "drugs/drugs.csv", 1, "sensitive_class", "mental")
    assert only_error(check_lake(csv_lake), "sensitive_class").rows == 1


@pytest.mark.parametrize(
    ("table", "file", "column", "values"),
    [
        ("members", "members/members.parquet", "member_id", ["M1", "M1", "M3"]),
        ("claims", f"{OCT_CLAIMS}.parquet", "claim_id", ["CL1", "CL1", "CL2"]),
        ("drugs", "drugs/drugs.parquet", "ndc", [CLARITIN_NDC, CLARITIN_NDC]),
    ],
)
def test_a_duplicate_key_is_an_error_naming_the_column_and_the_count(lake, table, file, column, values):
    edit_parquet(lake / file, column, values)
    error = only_error(check_lake(lake), column)
    assert error.rows == 2 and error.where == str(lake / table) and "once" in error.expected


def test_a_duplicate_client_is_an_error(csv_lake):
    edit_csv(csv_lake / "clients/clients.csv", 2, "client_id", "C1")
    report = check_lake(csv_lake)
    # and the member of C2, which clients/ no longer lists
    assert sorted((e.where.rsplit("/", 1)[-1], e.column, e.rows) for e in report.errors) == [
        ("clients", "client_id", 2),
        ("members.csv", "client_id", 1),
    ]


def test_a_partition_folder_that_is_not_a_month_is_an_error(lake):
    (lake / "claims/fill_month=2002-09").rename(lake / "claims/fill_month=2002-9")
    error = only_error(check_lake(lake), "fill_month")
    assert error.where.endswith("fill_month=2002-9") and "YYYY-MM" in error.problem


def test_a_claim_outside_its_partition_month_is_an_error(lake):
    path = lake / "claims/fill_month=2002-09/part-0.parquet"
    edit_parquet(path, "fill_date", [date(2002, 8, 31)])
    error = only_error(check_lake(lake), "fill_date")
    assert error.where == str(path) and error.first_row == 1 and "partition" in error.problem


def test_a_table_mixing_parquet_and_csv_is_an_error_never_half_read(lake, csv_lake):
    shutil.copy(csv_lake / f"{OCT_CLAIMS}.csv", lake / "claims/fill_month=2002-10/extra.csv")
    [error] = check_lake(lake).errors
    assert error.where == str(lake / "claims") and "mixes" in error.problem


def test_a_member_of_an_unknown_client_is_an_error(lake):
    edit_parquet(lake / "members/members.parquet", "client_id", ["C1", "C9", "C2"])
    error = only_error(check_lake(lake), "client_id")
    assert error.first_row == 2 and "clients/" in error.problem and "C9" not in error.line()


def test_elections_must_name_event_types_and_always_ask_never(csv_lake):
    path = csv_lake / "clients/clients.csv"
    edit_csv(path, 1, "elections", '{"OTC_Switch": "Always"}')  # case is accepted
    assert check_lake(csv_lake).errors == []
    edit_csv(path, 1, "elections", '{"otc_swich": "always"}')
    assert "event type" in only_error(check_lake(csv_lake), "elections").problem
    edit_csv(path, 1, "elections", '{"otc_switch": "sometimes"}')
    assert "always, ask or never" in only_error(check_lake(csv_lake), "elections").problem
    edit_csv(path, 1, "elections", "otc_switch=always")
    assert "elections" in check_lake(csv_lake).errors[0].line()


def test_suspicious_but_valid_data_is_a_warning(lake):
    edit_parquet(lake / f"{OCT_CLAIMS}.parquet", "member_id", ["M1", "M3", "M404"])
    edit_parquet(lake / f"{OCT_CLAIMS}.parquet", "ndc", [CLARITIN_NDC, OTHER_NDC, "99999999999"])
    report = check_lake(lake, announced_on=date(2002, 10, 4))
    assert report.errors == []
    assert sorted((w.column, w.rows) for w in report.warnings) == [
        ("fill_date", 3),
        ("member_id", 1),
        ("ndc", 1),
    ]
    assert all("M404" not in w.line() and "99999999999" not in w.line() for w in report.warnings)


def test_no_member_value_ever_appears_in_a_problem(csv_lake):
    edit_csv(csv_lake / "members/members.csv", 1, "email_consent", "Ann Lee")
    edit_csv(csv_lake / "members/members.csv", 2, "client_id", "Bo Kim's client")
    lines = " ".join(p.line() for p in check_lake(csv_lake).problems)
    assert "email_consent" in lines and "client_id" in lines
    assert "Ann" not in lines and "Bo Kim" not in lines


def test_claims_files_outside_the_partition_folders_are_an_error(lake):
    shutil.copy(lake / f"{OCT_CLAIMS}.parquet", lake / "claims" / "stray.parquet")
    error = only_error(check_lake(lake), "fill_month")
    assert error.where == str(lake / "claims") and "outside the fill_month=YYYY-MM" in error.problem


def test_a_client_id_outside_the_allowed_characters_is_an_error(lake):
    edit_parquet(lake / "members/members.parquet", "client_id", ["C1", "C1", "C 2"])
    report = check_lake(lake)
    assert sorted((e.column, e.problem) for e in report.errors) == [
        ("client_id", "a client that clients/ does not list"),
        ("client_id", "not in the contract's form"),
    ]
    assert all(e.first_row == 3 for e in report.errors)
