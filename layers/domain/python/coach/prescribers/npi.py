"""The NPI check digit: the Luhn rule over the prefix 80840 and the first nine digits (CMS, NPI check digit)."""

from __future__ import annotations

NPI_PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    """The digit that makes `digits` + it pass the Luhn rule."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: every second digit from the right of the number with its check digit
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return (10 - total % 10) % 10


def valid_npi(npi: object) -> bool:
    """Ten ASCII digits whose last is the Luhn check digit of 80840 + the first nine."""
    if not isinstance(npi, str) or len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return luhn_check_digit(NPI_PREFIX + npi[:9]) == int(npi[9])


def with_check_digit(nine: str) -> str:
    """A valid NPI from nine digits (the synthetic lake and the benchmark make them this way)."""
    return nine + str(luhn_check_digit(NPI_PREFIX + nine))


def _digit_sql(column: str, position: int) -> str:
    """A digit's value without a cast (engines evaluate every branch: a cast of a letter would fail the query)."""
    return f"(strpos('0123456789', substr({column}, {position}, 1)) - 1)"


def npi_valid_sql(column: str, regex: str) -> str:
    """The same rule in SQL both DuckDB and Athena read (`regex` is regexp_matches or regexp_like). The prefix
    80840 always adds 24 to the Luhn sum; the nine digits then alternate, the first one doubled."""
    terms = []
    for position in range(1, 10):
        digit = _digit_sql(column, position)
        terms.append(f"(2 * {digit} - CASE WHEN {digit} > 4 THEN 9 ELSE 0 END)" if position % 2 else digit)
    check = _digit_sql(column, 10)
    return (
        f"({column} IS NOT NULL AND {regex}({column}, '^[0-9]{{10}}$') "
        f"AND (10 - (24 + {' + '.join(terms)}) % 10) % 10 = {check})"
    )
