"""Source 1, recalls: openFDA drug enforcement reports mapped to recall candidates.

NDCs come from the recall's own text (product_description, code_info) first; openFDA's `package_ndc` only when the
text names none; `product_ndc` never (openFDA fills the `openfda` block by joining at label level, so it lists
products that are not recalled). A recall concerns packages, so the candidate matches by NDC only: the audience
matches an event's NDCs *or* its ingredient, and an ingredient would reach every member on the drug."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from coach.feeds.candidate import Candidate, FeedDataError, PollResult, content_hash, make_candidate
from coach.feeds.ndc_text import find_ndcs
from coach.ndc import InvalidNdc, normalise_ndc
from coach.ports import FeedState

SOURCE = "fda-recalls"
OVERLAP = timedelta(days=14)  # records are published late: each poll re-reads the last two weeks
FIRST_POLL = timedelta(days=90)
_CLASSES = {"class i": "I", "class ii": "II", "class iii": "III"}
_SERIOUSNESS = {"I": 3, "II": 2, "III": 1}


class EnforcementSource(Protocol):
    """openFDA's drug enforcement endpoint (the HTTP client), or a recording of its responses."""

    def last_updated(self) -> str:
        """The `drugenforcement` data's last update (openFDA's /status)."""
        ...

    def records(self, since: date, until: date) -> Iterator[dict[str, Any]]:
        """Every enforcement record whose report_date is in [since, until], all pages."""
        ...


def openfda_date(value: Any, field: str, recall_number: str) -> date:
    try:
        return datetime.strptime(str(value).strip(), "%Y%m%d").date()
    except ValueError:
        raise FeedDataError(f"recall {recall_number}: {field} {str(value)[:20]!r} is not YYYYMMDD") from None


def _first(openfda: dict[str, Any], *fields: str) -> str | None:
    for field in fields:
        values = openfda.get(field) or []
        if isinstance(values, str):
            values = [values]
        for value in values:
            if str(value).strip():
                return " ".join(str(value).split())
    return None


def recall_class(record: dict[str, Any]) -> str | None:
    return _CLASSES.get(str(record.get("classification", "")).strip().lower())


def _name_from_description(description: str) -> str:
    """The product as the description starts naming it (up to the first comma), on one line."""
    first = " ".join(description.split()).split(",")[0].strip()
    return (first[:117] + "…") if len(first) > 120 else first


def recall_ndcs(record: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The recalled packages' NDCs and the reasons a pharmacist must know how they were found."""
    text = f"{record.get('product_description', '')}\n{record.get('code_info', '')}"
    ndcs, unreadable = find_ndcs(text)
    reasons = [
        f"The recall text names NDC {digits} with 10 digits and no hyphens: which segment is short cannot be "
        "known, so it is not used; add it in the 11-digit form if it is a recalled package."
        for digits in unreadable
    ]
    if ndcs:
        reasons.append(f"NDCs read from the recall's product description and code info ({len(ndcs)}).")
        return ndcs, reasons
    packages = []
    for raw in (record.get("openfda") or {}).get("package_ndc") or []:
        try:
            packages.append(normalise_ndc(raw))
        except InvalidNdc:
            reasons.append(f"openFDA's package_ndc {str(raw)[:20]!r} is not a readable NDC and was left out.")
    if packages:
        reasons.append(
            "The recall text names no NDC: the NDCs are openFDA's package_ndc, which openFDA joins from the "
            "product label, so it may list packages that are not recalled. Keep only the recalled ones."
        )
    return sorted(set(packages)), reasons


def map_recall(record: dict[str, Any], reclassified_from: str | None = None) -> Candidate:
    number = str(record.get("recall_number") or "").strip()
    if not number:
        raise FeedDataError("an enforcement record has no recall_number")
    klass = recall_class(record)
    if klass is None:
        raise FeedDataError(f"recall {number}: classification {str(record.get('classification'))[:30]!r}")
    openfda = record.get("openfda") or {}
    description = " ".join(str(record.get("product_description", "")).split())
    announced = openfda_date(record.get("report_date"), "report_date", number)
    reasons: list[str] = []
    if record.get("recall_initiation_date"):
        effective = openfda_date(record["recall_initiation_date"], "recall_initiation_date", number)
    else:
        effective = announced
        reasons.append("The record has no recall_initiation_date: effective_date is the report date.")
    name = _first(openfda, "brand_name") or _name_from_description(description) or f"Recall {number}"
    ingredient = _first(openfda, "substance_name", "generic_name")
    ndcs, ndc_reasons = recall_ndcs(record)
    reasons += ndc_reasons
    missing: list[str] = []
    if not ndcs:
        missing.append("drug.ndcs")
        reasons.append(
            "No NDC could be determined: the recall text names none and openFDA's block is empty or has no "
            "package_ndc. The campaign cannot start until a person supplies the recalled packages' NDCs."
        )
        reasons.append(
            "drug.ingredient is filled only so the candidate is well formed: a recall matched by ingredient would "
            "reach members whose packages are not recalled. Clear it when supplying the NDCs."
        )
    if reclassified_from:
        reasons.append(
            f"Reclassified from class {reclassified_from} to class {klass}: a new, more serious recall."
        )
    if str(record.get("status", "")).lower() == "terminated":
        reasons.append("openFDA already lists this recall as Terminated.")
    if klass == "I":
        reasons.append("Class I: a reasonable probability of serious adverse health consequences or death.")
    firm = " ".join(str(record.get("recalling_firm", "")).split())
    why = " ".join(str(record.get("reason_for_recall", "")).split())
    summary = (
        f"Class {klass} recall {number} by {firm or 'the firm'}: {description[:900]} Reason: {why[:800]}"
    )
    detail = {
        "event_id": f"fda-recall-{number}-class-{klass}",
        "event_type": "recall",
        "recall_class": klass,
        "drug": {
            "name": name,
            "ingredient": (ingredient or name) if not ndcs else None,
            "ndcs": ndcs,
        },
        "effective_date": effective.isoformat(),
        "announced_on": announced.isoformat(),
        "summary": summary[:2000],
        "source_url": "https://api.fda.gov/drug/enforcement.json?search=recall_number:"
        + quote(f'"{number}"', safe=""),
        "alternatives": [],
    }
    if ingredient and ndcs:
        reasons.append(f"openFDA names the ingredient {ingredient}; the campaign matches the NDCs only.")
    return make_candidate(detail, reasons, missing, where=f"recall {number}")


def map_recalls(records: Iterable[dict[str, Any]], state: FeedState) -> PollResult:
    """Candidates for the records not seen before, and for those reclassified to a more serious class; a record
    that changed otherwise (its status, its text) only updates its stored hash."""
    result = PollResult(SOURCE)
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        number = str(record.get("recall_number") or "").strip()
        if number:
            latest[number] = record  # a record on two pages (the overlap) counts once, the later copy
        else:
            result.warnings.append("an enforcement record without recall_number was skipped")
    stored = {key: json.loads(value) for key, value in state.get_values(SOURCE, latest).items()}
    updates: dict[str, str] = {}
    for number, record in latest.items():
        digest = content_hash(record)
        klass = recall_class(record)
        if klass is None:
            result.warnings.append(f"recall {number}: not classified (I, II or III) yet; skipped until it is")
            continue
        before = stored.get(number)
        if before is not None and before["hash"] == digest:
            result.unchanged += 1
            continue
        try:
            if before is None:
                result.candidates.append(map_recall(record))
            elif _SERIOUSNESS[klass] > _SERIOUSNESS[before["class"]]:
                result.candidates.append(map_recall(record, reclassified_from=before["class"]))
            else:
                result.unchanged += 1
        except (
            FeedDataError
        ) as exc:  # one unreadable record must not hide the others; it is retried next poll
            result.warnings.append(f"{exc}; skipped")
            continue
        worst = (
            klass
            if before is None or _SERIOUSNESS[klass] > _SERIOUSNESS[before["class"]]
            else before["class"]
        )
        updates[number] = json.dumps({"hash": digest, "class": worst}, sort_keys=True)
    if updates:
        state.put_values(SOURCE, updates)
    return result


def poll_recalls(source: EnforcementSource, state: FeedState, today: date) -> PollResult:
    """Query only when openFDA's drugenforcement data changed; from the watermark minus two weeks."""
    mark = json.loads(state.get_watermark(SOURCE) or "{}")
    last_updated = source.last_updated()
    if mark.get("last_updated") == last_updated:
        return PollResult(SOURCE, skipped=f"openFDA drugenforcement unchanged since {last_updated}")
    since = date.fromisoformat(mark["through"]) - OVERLAP if mark.get("through") else today - FIRST_POLL
    records = list(source.records(since, today))
    result = map_recalls(records, state)
    dates = []
    for record in records:
        try:
            reported = openfda_date(
                record.get("report_date"), "report_date", str(record.get("recall_number"))
            )
            dates.append(min(reported, today))  # a mistyped future date must not push the window past today
        except FeedDataError:
            continue  # already reported by map_recalls
    through = max(
        [*dates, *([date.fromisoformat(mark["through"])] if mark.get("through") else [])], default=None
    )
    state.set_watermark(
        SOURCE,
        json.dumps({"last_updated": last_updated, "through": through.isoformat() if through else None}),
    )
    return result
