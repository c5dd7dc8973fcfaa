"""How the brief prints a figure exactly (account teams, report.json readers): dollars, counts, shares, days."""

from __future__ import annotations

from decimal import Decimal

from coach.audience.privacy import exact_count
from coach.brief.policy import FIGURES, MONEY_FIGURES, SHARE_FIGURES

NOT_KNOWN = "not known"


def usd(value: Decimal | float) -> str:
    amount = Decimal(str(value))
    sign = "−" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def exact(name: str, value: object) -> str:
    if value is None:
        return NOT_KNOWN
    if name in MONEY_FIGURES:
        return usd(value)  # type: ignore[arg-type]
    if name in SHARE_FIGURES:
        return f"{float(value) * 100:.0f}%"  # type: ignore[arg-type]
    if name == "avg_days_supply":
        return f"{value} days"
    return exact_count(int(value))  # type: ignore[call-overload]


def exact_values(values: dict) -> dict[str, str]:
    return {name: exact(name, values.get(name)) for name in FIGURES}
