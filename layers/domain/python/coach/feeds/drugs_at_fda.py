"""Source 2, Drugs@FDA data files (`drugsatfda.zip`, weekly): Rx-to-OTC switches and new molecular entities.

- an approved (`AP`) supplement whose action type is "Efficacy-Rx To OTC Switch", or an approved original of
  class "TYPE 8" (Partial Rx to OTC Switch) → `otc_switch`;
- an approved original of class "TYPE 1" or "TYPE 1/4" (a new molecular entity) → `new_drug`.

Approvals of one kind, one ingredient and one day (Claritin tablets, syrup and Reditabs switched together) make one
candidate: one letter per member, not one per application. Its event_id is the lowest submission's own id."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from coach.feeds.candidate import (
    Candidate,
    FeedDataError,
    PollResult,
    content_hash,
    make_candidate,
    title_case,
)
from coach.feeds.ndc_directory import NdcResolver, application_key, ingredient_key
from coach.feeds.tables import Bundle, Row, read_table
from coach.ports import FeedState

SOURCE = "drugs-at-fda"
ENCODING = "cp1252"
OVERLAP = timedelta(days=14)
FIRST_POLL = timedelta(days=30)  # the first poll reads the file's last 30 days, not eighty years of approvals
OTC_SWITCH_ACTION = "efficacy-rx to otc switch"
_ROW_START = re.compile(r"^\s*\d")  # a line that does not start with an ApplNo continues the previous one
_DAF_PAGE = "https://www.accessdata.fda.gov/scripts/cder/daf/index.cfm?event=overview.process&ApplNo="


def _date(text: str) -> date | None:
    """SubmissionStatusDate as published: `2002-11-27 00:00:00`, `2002-11-27` or `11/27/2002 0:00`."""
    text = text.strip()
    for fmt, width in (("%Y-%m-%d", 10), ("%m/%d/%Y", None)):
        try:
            return datetime.strptime(text[:width] if width else text.split(" ")[0], fmt).date()
        except ValueError:
            continue
    return None


def _kind(submission: Row, class_code: str, actions: set[str]) -> str | None:
    if submission["submissionstatus"].upper() != "AP":
        return None
    stype = submission["submissiontype"].upper()
    if stype == "SUPPL" and OTC_SWITCH_ACTION in actions:
        return "otc_switch"
    if stype == "ORIG":
        types = {part.strip() for part in class_code.upper().removeprefix("TYPE").split("/")}
        if class_code.upper().startswith("TYPE") and "8" in types:
            return "otc_switch"
        if class_code.upper().startswith("TYPE") and "1" in types:
            return "new_drug"
    return None


def read_approvals(bundle: Bundle) -> tuple[list[dict[str, Any]], list[str]]:
    """The approvals that make candidates, each with its application, products and date; and warnings."""
    warnings: list[str] = []

    def table(name: str, *required: str) -> list[Row]:
        return read_table(
            bundle, name, delimiter="\t", encoding=ENCODING, required=required, row_start=_ROW_START
        )

    submissions = table(
        "Submissions.txt", "ApplNo", "SubmissionClassCodeID", "SubmissionType", "SubmissionNo",
        "SubmissionStatus", "SubmissionStatusDate",
    )  # fmt: skip
    classes = {
        r["submissionclasscodeid"]: r["submissionclasscode"]
        for r in table("SubmissionClass_Lookup.txt", "SubmissionClassCodeID", "SubmissionClassCode")
    }
    applications = {r["applno"].zfill(6): r for r in table("Applications.txt", "ApplNo", "ApplType")}
    products: dict[str, list[Row]] = defaultdict(list)
    for row in table("Products.txt", "ApplNo", "ProductNo", "DrugName", "ActiveIngredient"):
        products[row["applno"].zfill(6)].append(row)
    actions: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    if bundle.has("Join_Submission_ActionTypes_Lookup.txt") and bundle.has("ActionTypes_Lookup.txt"):
        names = {
            r["actiontypes_lookupid"]: r["actiontypes_lookupdescription"].lower()
            for r in table("ActionTypes_Lookup.txt", "ActionTypes_LookupID", "ActionTypes_LookupDescription")
        }
        join = table(
            "Join_Submission_ActionTypes_Lookup.txt", "ApplNo", "SubmissionType", "SubmissionNo",
            "ActionTypes_LookupID",
        )  # fmt: skip
        for r in join:
            key = (r["applno"].zfill(6), r["submissiontype"].upper(), r["submissionno"].lstrip("0") or "0")
            actions[key].add(names.get(r["actiontypes_lookupid"], ""))
    else:
        warnings.append(
            "Join_Submission_ActionTypes_Lookup.txt is not in the archive (files before January 2025): "
            "supplements cannot be read as Rx-to-OTC switches, only TYPE 8 originals"
        )
    approvals = []
    for s in submissions:
        appl = s["applno"].zfill(6)
        number = s["submissionno"].lstrip("0") or "0"
        kind = _kind(
            s,
            classes.get(s["submissionclasscodeid"], ""),
            actions[(appl, s["submissiontype"].upper(), number)],
        )
        if kind is None:
            continue
        approved = _date(s["submissionstatusdate"])
        application = applications.get(appl)
        if approved is None or application is None or not products.get(appl):
            warnings.append(f"Submissions.txt line {s['_line']}: approval of {appl} without a date, application "
                            "or product row; skipped")  # fmt: skip
            continue
        approvals.append({
            "kind": kind,
            "application": application_key(application["appltype"], appl),
            "appl_no": appl,
            "submission": f"{s['submissiontype'].upper()}-{number}",
            "approved": approved,
            "products": products[appl],
        })  # fmt: skip
    return approvals, warnings


def _candidate(kind: str, group: list[dict[str, Any]], resolver: NdcResolver) -> Candidate:
    group = sorted(group, key=lambda a: (a["application"], a["submission"]))
    first = group[0]
    product = first["products"][0]
    names = [p["drugname"] for a in group for p in a["products"] if p["drugname"]]
    name = title_case(max(set(names), key=names.count) if names else product["drugname"])
    ingredient = product["activeingredient"].lower()
    approved: date = first["approved"]
    applications = sorted({a["application"] for a in group})
    found = resolver.for_applications(applications)
    ndcs = sorted({ndc for application in applications for ndc in found.get(application, [])})
    listed = ", ".join(f"{a['application']} {a['submission']}" for a in group)
    reasons = [f"Approved {approved.isoformat()}: {listed}."]
    if not resolver.loaded:
        reasons.append(
            "The NDC directory has not been polled: no NDCs resolved; claims match by ingredient only."
        )
    else:
        for application in applications:
            if application not in found:
                reasons.append(f"The NDC directory lists no package for {application} (discontinued products leave "
                               "it): its claims match by ingredient only.")  # fmt: skip
        if ndcs:
            reasons.append(
                f"NDCs from the NDC directory for {', '.join(sorted(found))} ({len(ndcs)} package{'s' if len(ndcs) != 1 else ''})."
            )
    reasons.append(
        f"drug.ingredient is {ingredient!r} as FDA names it: the campaign reaches every member whose catalog "
        "ingredient is exactly that; check the catalog spells it the same way."
    )
    reasons.append(
        "effective_date is the approval date: set the day the change reaches members if it differs."
    )
    reasons.append("The source names no alternatives: add them if the letter should.")
    if kind == "otc_switch":
        summary = f"{ingredient.capitalize()} ({name}) approved for over-the-counter sale ({listed})."
        event_id = f"drugs-at-fda-{first['application']}-{first['submission']}-otc-switch"
    else:
        summary = f"New molecular entity {ingredient} ({name}) approved ({listed})."
        event_id = f"drugs-at-fda-{first['application']}-{first['submission']}-new-drug"
        reasons.append("A new molecular entity has no claims yet: confirm who the campaign should reach.")
    detail = {
        "event_id": event_id,
        "event_type": kind,
        "drug": {"name": name, "ingredient": ingredient, "ndcs": ndcs},
        "effective_date": approved.isoformat(),
        "announced_on": approved.isoformat(),
        "summary": summary[:2000],
        "source_url": _DAF_PAGE + first["appl_no"],
        "alternatives": [],
    }
    return make_candidate(detail, reasons, where=f"Drugs@FDA {listed}")


def poll_drugs_at_fda(bundle: Bundle, state: FeedState) -> PollResult:
    approvals, warnings = read_approvals(bundle)
    result = PollResult(SOURCE, warnings=warnings)
    if not approvals:
        return result
    mark = state.get_watermark(SOURCE)
    newest = max(a["approved"] for a in approvals)
    since = date.fromisoformat(mark) - OVERLAP if mark else newest - FIRST_POLL
    recent = [a for a in approvals if a["approved"] >= since]
    keys = {f"{a['application']}-{a['submission']}": a for a in recent}
    seen = state.get_values(SOURCE, keys)
    groups: dict[tuple[str, str, date], list[dict[str, Any]]] = defaultdict(list)
    updates = {}
    for key, approval in keys.items():
        digest = content_hash({k: v for k, v in approval.items() if k != "products"})
        if seen.get(key) == digest:
            result.unchanged += 1
            continue
        updates[key] = digest
        ingredient = ingredient_key(approval["products"][0]["activeingredient"])
        groups[(approval["kind"], ingredient, approval["approved"])].append(approval)
    resolver = NdcResolver(state)
    for (kind, _, _), group in sorted(groups.items(), key=lambda item: (item[0][2], item[0][1], item[0][0])):
        try:
            result.candidates.append(_candidate(kind, group, resolver))
        except FeedDataError as exc:  # the others still count; this group is read again next poll
            result.warnings.append(f"{exc}; skipped")
            for approval in group:
                updates.pop(f"{approval['application']}-{approval['submission']}", None)
    if updates:
        state.put_values(SOURCE, updates)
    state.set_watermark(
        SOURCE, max(newest, date.fromisoformat(mark)).isoformat() if mark else newest.isoformat()
    )
    return result
