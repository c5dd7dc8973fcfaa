"""The report's prescriber counts (report.json `prescribers`, and `prescribers_notified` on each client's row):
counts only, never an NPI or a patient."""

from __future__ import annotations

import json
from typing import Any

from coach.ports import NotFound, ObjectStore
from coach.prescribers.plan import REASONS, summary_key


def add_prescribers(report: dict[str, Any], store: ObjectStore, data_bucket: str, campaign_id: str) -> None:
    """Adds the prescribers stage's counts to a report being built (nothing planned: told false, zeros)."""
    try:
        summary = json.loads(store.get(data_bucket, summary_key(campaign_id)))
    except NotFound:
        summary = {"told": False, "policy": "never", "notices": 0, "patients_listed": 0, "clients": {}}
    by_client: dict[str, dict[str, int]] = summary.get("clients", {})
    for row in report["clients"]:
        counts = by_client.get(row["client_id"], {})
        row["prescribers_notified"] = int(counts.get("prescribers_notified", 0))
        row["prescriber_patients_listed"] = int(counts.get("patients_listed", 0))
    not_notified = summary.get("not_notified") or {r: {"prescribers": 0, "patients": 0} for r in REASONS}
    report["prescribers"] = {
        "told": summary["told"],
        "policy": summary["policy"],
        "clients_included": len(summary.get("clients_included", [])),
        "notified": summary["notices"],
        "patients_listed": summary["patients_listed"],
        # prescribers who get no notice and the patients they would have listed, by reason
        "not_notified": not_notified,
    }
