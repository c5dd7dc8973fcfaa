"""The NPI check digit (Luhn over 80840 + the first nine digits), in Python and in the SQL the lake check runs."""

from __future__ import annotations

import random

import duckdb
import pytest
from coach.prescribers.npi import npi_valid_sql, valid_npi, with_check_digit


def test_the_cms_example_npi_is_valid_and_any_other_last_digit_is_not():
    assert valid_npi("1234567893")
    assert [d for d in range(10) if valid_npi(f"123456789{d}")] == [3]


@pytest.mark.parametrize(
    "npi", ["123456789", "12345678933", "123456789a", "１２３４５６７８９３", "", None, 1234567893]
)
def test_anything_but_ten_ascii_digits_is_invalid(npi):
    assert not valid_npi(npi)


def test_the_sql_rule_agrees_with_python_on_random_and_malformed_values():
    rng = random.Random(5)
    values = [str(rng.randrange(10**9, 10**10)) for _ in range(2000)]
    values += [with_check_digit(str(rng.randrange(10**8, 10**9))) for _ in range(200)]
    values += ["123456789", "abcdefghij", "123456789a", " 1234567893"]
    values.append(None)  # type: ignore[arg-type]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (npi VARCHAR)")
    con.executemany("INSERT INTO t VALUES (?)", [[v] for v in values])
    rows = con.execute(
        f"SELECT npi, coalesce({npi_valid_sql('npi', 'regexp_matches')}, false) FROM t"
    ).fetchall()
    assert [npi for npi, ok in rows if ok != valid_npi(npi)] == []
    assert sum(ok for _, ok in rows) >= 200  # the constructed valid ones at least
