"""Source 3, the Orange Book (monthly zip, `~`-delimited `products.txt`, `patent.txt`, `exclusivity.txt`).

- `patent_expiry`: a marketed brand (Appl_Type `N`, Type `RX`) with no marketed generic (`A`) of the same
  ingredient, dosage form;route and strength: the later of its last patent and its last exclusivity is known in
  advance; the candidate is raised when that date is at most N days away (N: the patent_expiry playbook's
  `feed_lead_days`). One candidate per application and date.
- `generic_launch`: the first `A` row in a group that held only `N` rows at the previous poll. The first poll
  is the baseline (nothing was known before it)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime
from typing import Any

from coach.feeds.candidate import Candidate, FeedDataError, PollResult, make_candidate, title_case
from coach.feeds.ndc_directory import NdcResolver, application_key
from coach.feeds.tables import Bundle, Row, read_table
from coach.ports import FeedState

SOURCE = "orange-book"
ENCODING = "cp1252"
PRODUCT_COLUMNS = (
    "Ingredient", "DF;Route", "Trade_Name", "Strength", "Appl_Type", "Appl_No", "Product_No", "Approval_Date", "Type",
)  # fmt: skip
PATENT_COLUMNS = ("Appl_Type", "Appl_No", "Product_No", "Patent_No", "Patent_Expire_Date_Text")
EXCLUSIVITY_COLUMNS = ("Appl_Type", "Appl_No", "Product_No", "Exclusivity_Code", "Exclusivity_Date")
_OB_PAGE = "https://www.accessdata.fda.gov/scripts/cder/ob/results_product.cfm?Appl_Type={}&Appl_No={}"
BRAND_ONLY, HAS_GENERIC = "brand-only", "generic"


def ob_date(text: str) -> date | None:
    """`Jun 19, 2026` (also `Jun 19,2026`); `Approved Prior to Jan 1, 1982` and empty → None."""
    text = " ".join(text.replace(",", ", ").split())
    try:
        return datetime.strptime(text, "%b %d, %Y").date()
    except ValueError:
        return None


def _table(bundle: Bundle, name: str, columns: tuple[str, ...]) -> list[Row]:
    return read_table(bundle, name, delimiter="~", encoding=ENCODING, required=columns)


def _group(row: Row) -> str:
    return "|".join(" ".join(row[c].upper().split()) for c in ("ingredient", "df;route", "strength"))


def _product_key(row: Row) -> tuple[str, str, str]:
    return row["appl_type"].upper(), row["appl_no"].zfill(6), row["product_no"].zfill(3)


def _last_dates(bundle: Bundle) -> dict[tuple[str, str, str], tuple[date, list[str]]]:
    """Per product: the latest patent or exclusivity date, and what ends on it."""
    last: dict[tuple[str, str, str], tuple[date, list[str]]] = {}
    rows = [
        (r, r["patent_expire_date_text"], f"patent {r['patent_no']}")
        for r in _table(bundle, "patent.txt", PATENT_COLUMNS)
    ]
    rows += [
        (r, r["exclusivity_date"], f"exclusivity {r['exclusivity_code']}")
        for r in _table(bundle, "exclusivity.txt", EXCLUSIVITY_COLUMNS)
    ]
    for row, text, what in rows:
        when = ob_date(text)
        if when is None:
            continue
        key = _product_key(row)
        if key not in last or when > last[key][0]:
            last[key] = (when, [what])
        elif when == last[key][0]:
            last[key][1].append(what)
    return last


def _drug(rows: list[Row], resolver: NdcResolver) -> tuple[dict[str, Any], list[str]]:
    brand = rows[0]
    application = application_key(brand["appl_type"], brand["appl_no"])
    found = resolver.for_applications([application])
    ingredient = brand["ingredient"].lower()
    reasons = [
        f"drug.ingredient is {ingredient!r} as the Orange Book names it: the campaign reaches every member whose "
        "catalog ingredient is exactly that; check the catalog spells it the same way."
    ]
    if not resolver.loaded:
        reasons.append(
            "The NDC directory has not been polled: no NDCs resolved; claims match by ingredient only."
        )
    elif application not in found:
        reasons.append(
            f"The NDC directory lists no package for {application}: claims match by ingredient only."
        )
    else:
        reasons.append(f"NDCs from the NDC directory for {application} ({len(found[application])} packages).")
    drug = {
        "name": title_case(brand["trade_name"]),
        "ingredient": ingredient,
        "ndcs": found.get(application, []),
    }
    return drug, reasons


def _expiry(rows: list[Row], when: date, ends: list[str], today: date, resolver: NdcResolver) -> Candidate:
    brand = rows[0]
    application = application_key(brand["appl_type"], brand["appl_no"])
    drug, reasons = _drug(rows, resolver)
    strengths = ", ".join(sorted({f"{r['strength']} {r['df;route']}" for r in rows}))
    reasons.insert(0, f"The last protection of {application} ({strengths}) ends {when.isoformat()}: "
                      f"{', '.join(sorted(set(ends)))}. No generic of it is listed yet.")  # fmt: skip
    reasons.append(
        "A patent can be challenged, extended or delisted before then: confirm the date still holds."
    )
    detail = {
        "event_id": f"orange-book-{application}-patent-expiry-{when.isoformat()}",
        "event_type": "patent_expiry",
        "drug": drug,
        "effective_date": when.isoformat(),
        "announced_on": today.isoformat(),
        "summary": f"{drug['name']} ({drug['ingredient']}): the last patent or exclusivity of {application} ends "
        f"{when.isoformat()}; lower-cost generics may follow.",
        "source_url": _OB_PAGE.format(brand["appl_type"], brand["appl_no"]),
        "alternatives": [],
    }
    return make_candidate(detail, reasons, where=f"Orange Book {application}")


def _launch(brands: list[Row], generic: Row, today: date, resolver: NdcResolver) -> Candidate:
    drug, reasons = _drug(brands, resolver)
    generic_id = application_key(generic["appl_type"], generic["appl_no"])
    approved = ob_date(generic["approval_date"])
    reasons.insert(0, f"{generic_id} product {generic['product_no']} ({generic['trade_name']}, "
                      f"{generic['strength']} {generic['df;route']}) is the first generic of this brand listed.")  # fmt: skip
    if approved is None:
        reasons.append(
            "The generic's approval date is not a date: effective_date is the day it was first seen."
        )
    day = approved or today
    detail = {
        "event_id": f"orange-book-{generic_id}-{generic['product_no'].zfill(3)}-generic-launch",
        "event_type": "generic_launch",
        "drug": drug,
        "effective_date": day.isoformat(),
        "announced_on": day.isoformat(),
        "summary": f"A first generic of {drug['name']} ({drug['ingredient']}, {generic['strength']}) is approved "
        f"({generic_id}, {generic.get('applicant') or 'applicant not named'}).",
        "source_url": _OB_PAGE.format(generic["appl_type"], generic["appl_no"]),
        "alternatives": [f"generic {drug['ingredient']}"[:200]],
    }
    return make_candidate(detail, reasons, where=f"Orange Book {generic_id}")


def poll_orange_book(bundle: Bundle, state: FeedState, today: date, lead_days: int) -> PollResult:
    groups: dict[str, list[Row]] = defaultdict(list)
    for row in _table(bundle, "products.txt", PRODUCT_COLUMNS):
        if row["type"].upper() != "DISCN":  # a discontinued product competes with nothing
            groups[_group(row)].append(row)
    last = _last_dates(bundle)
    result = PollResult(SOURCE)
    first_poll = state.get_watermark(SOURCE) is None
    if first_poll:
        result.warnings.append(
            "first poll: this edition is the baseline; generic launches are found from the next"
        )
    before = state.get_values(SOURCE, [f"group:{g}" for g in groups])
    resolver = NdcResolver(state)
    updates: dict[str, str] = {}
    expiring: dict[tuple[str, date], tuple[list[Row], list[str]]] = {}
    for group, rows in sorted(groups.items()):
        brands = sorted(
            (r for r in rows if r["appl_type"].upper() == "N" and r["type"].upper() == "RX"), key=_product_key
        )
        generics = sorted((r for r in rows if r["appl_type"].upper() == "A"), key=_product_key)
        now = HAS_GENERIC if generics else BRAND_ONLY if brands else None
        if now is None:
            continue
        if before.get(f"group:{group}") != now:
            updates[f"group:{group}"] = now
        if generics and brands and before.get(f"group:{group}") == BRAND_ONLY:
            try:
                result.candidates.append(_launch(brands, generics[0], today, resolver))
            except FeedDataError as exc:  # read again next poll: the group keeps its brand-only state
                result.warnings.append(f"{exc}; skipped")
                updates.pop(f"group:{group}", None)
        if generics:
            continue
        for brand in brands:
            ends = last.get(_product_key(brand))
            if ends is None or not (0 <= (ends[0] - today).days <= lead_days):
                continue
            key = (application_key(brand["appl_type"], brand["appl_no"]), ends[0])
            entry = expiring.setdefault(key, ([], []))
            entry[0].append(brand)
            entry[1].extend(ends[1])
    raised = state.get_values(SOURCE, [f"expiry:{a}:{d.isoformat()}" for a, d in expiring])
    for (application, when), (rows, what) in sorted(expiring.items()):
        if f"expiry:{application}:{when.isoformat()}" in raised:
            result.unchanged += 1
            continue
        try:
            result.candidates.append(_expiry(rows, when, what, today, resolver))
        except FeedDataError as exc:
            result.warnings.append(f"{exc}; skipped")
            continue
        updates[f"expiry:{application}:{when.isoformat()}"] = today.isoformat()
    result.unchanged += sum(1 for g in groups if f"group:{g}" in before and f"group:{g}" not in updates)
    if updates:
        state.put_values(SOURCE, updates)
    state.set_watermark(SOURCE, today.isoformat())
    return result
