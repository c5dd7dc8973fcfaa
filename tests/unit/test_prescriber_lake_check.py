"""`coach lake check` over the optional prescribers table: invalid NPIs and prescribers without a usable address
are counted as warnings (the campaign goes on), a lake without prescribers/ passes, a broken table is an error."""

from __future__ import annotations

from datetime import date

from coach_local.claims.check import check_lake
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, prescriber, write_lake


def _lake(tmp_path, prescribers):
    return write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "A", "B")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid", "1234567893")],
        prescribers=prescribers,
    )


def test_invalid_npis_and_prescribers_without_an_address_are_counted_as_warnings(tmp_path):
    lake = _lake(
        tmp_path,
        [
            prescriber("1234567893", "Dr. Valid"),
            prescriber("1234567890", "Dr. Bad Digit"),
            prescriber("12345", "Dr. Short"),
            prescriber("1245319599", "Dr. Nowhere", accepts_mail=False),  # valid NPI, nothing accepted
            prescriber(
                "1003000126", "Dr. Fax Only", accepts_mail=False, accepts_fax=True, fax="(217) 555-0100"
            ),
            prescriber("1003000134", "Dr. No City", city=None),
        ],
    )
    report = check_lake(lake)
    assert report.errors == []
    lines = [p.line() for p in report.warnings]
    assert any("'npi': 2 rows: an invalid NPI" in line for line in lines), lines
    assert any("2 rows: a prescriber without a usable address" in line for line in lines), lines


def test_a_lake_without_prescribers_passes(tmp_path):
    assert check_lake(_lake(tmp_path, None)).problems == []


def test_a_duplicated_npi_or_an_empty_name_is_an_error(tmp_path):
    lake = _lake(tmp_path, [prescriber("1234567893", "Dr. A"), prescriber("1234567893", None)])
    lines = [p.line() for p in check_lake(lake).errors]
    assert any("'npi'" in line and "a key that another row has too" in line for line in lines), lines
    assert any("'name'" in line and "empty" in line for line in lines), lines
