"""The prescribers table's data-quality rules (coach.lake_rules.Rule, counts only): the columns every row needs
and the NPI key are errors, like the other tables; an NPI failing its check digit and a prescriber nobody can
reach (no usable fax, no usable practice address) are warnings, counted again by each campaign that meets them."""

from __future__ import annotations

from coach.lake_rules import REGEX, Dialect, Rule
from coach.lake_schema import PRESCRIBERS, STRING
from coach.prescribers.npi import npi_valid_sql

TABLE = PRESCRIBERS.name


def _present(column: str) -> str:
    return f"trim(coalesce({column}, '')) <> ''"


def fax_usable_sql(dialect: Dialect) -> str:
    """A fax number of ten digits (eleven with a leading 1), whatever its punctuation (DuckDB replaces every
    match only with the 'g' option; Trino always does)."""
    every = ", 'g'" if dialect == "duckdb" else ""
    digits = f"regexp_replace(coalesce(fax, ''), '[^0-9]', ''{every})"
    return f"(coalesce(accepts_fax, false) AND (length({digits}) = 10 OR (length({digits}) = 11 AND substr({digits}, 1, 1) = '1')))"


def mail_usable_sql() -> str:
    return (
        f"(coalesce(accepts_mail, false) AND {_present('address_line1')} AND {_present('city')} "
        f"AND length(trim(coalesce(state, ''))) = 2 AND {_present('postal_code')})"
    )


def invalid_npi_condition(dialect: Dialect) -> str:
    return f"npi IS NOT NULL AND trim(npi) <> '' AND NOT {npi_valid_sql('npi', REGEX[dialect])}"


def prescriber_rules() -> list[Rule]:
    rules = [
        Rule(
            "missing",
            TABLE,
            column.name,
            "error",
            "empty",
            "a value in every row",
            f"{column.name} IS NULL" + (f" OR trim({column.name}) = ''" if column.type == STRING else ""),
        )
        for column in PRESCRIBERS.required
        if not column.nullable
    ]
    rules.append(
        Rule(
            "key",
            TABLE,
            "npi",
            "error",
            "a key that another row has too",
            "each npi once in prescribers/",
            query="SELECT coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM prescribers WHERE npi IS NOT NULL "
            "GROUP BY npi HAVING count(*) > 1) duplicated",
        )
    )
    rules.append(
        Rule(
            "npi",
            TABLE,
            "npi",
            "warning",
            "an invalid NPI (fails the check digit: the prescriber gets no notice)",
            "10 digits whose last is the Luhn check digit of 80840 and the first nine",
            "{invalid_npi}",
        )
    )
    rules.append(
        Rule(
            "address",
            TABLE,
            "address_line1",
            "warning",
            "a prescriber without a usable address (no fax accepted and usable, no practice address accepted "
            "and complete: the prescriber gets no notice)",
            "accepts_fax with a 10-digit fax, or accepts_mail with address_line1, city, a 2-letter state and "
            "postal_code",
            f"NOT {{fax_usable}} AND NOT {mail_usable_sql()}",
        )
    )
    return rules


def rule_sql(rule: Rule, dialect: Dialect) -> tuple[str, str | None]:
    """(count query, row condition) of a prescribers rule in a dialect."""
    condition = (
        (rule.condition or "")
        .replace("{invalid_npi}", invalid_npi_condition(dialect))
        .replace("{fax_usable}", fax_usable_sql(dialect))
    )
    if rule.query:
        return rule.query, None
    condition = condition.replace("{regex}", REGEX[dialect])
    return f"SELECT count(*) FROM {TABLE} WHERE {condition}", condition
