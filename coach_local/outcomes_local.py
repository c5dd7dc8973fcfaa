"""Outcomes on the local runtime: the demo's measurement settings and behaviour, and `coach outcomes`, which measures
a finished local campaign again from OUT (its letters manifests and holdout files) and the lake, without waiting."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from coach.models import MarketEvent
from coach.outcomes.policy import CampaignMeasurement
from coach.outcomes.service import MeasureRequest, assemble
from coach.outcomes.sql import CohortMember, OutcomeParams

from coach_local.inputs import BadInput
from coach_local.lakegen_outcomes import Behaviour

# The OTC-switch playbook's demo settings: a fifth of the reachable members held out, a quarter's follow-up
DEMO_MEASUREMENT: dict[str, dict[str, Any]] = {"otc_switch": {"holdout_share": 0.2, "follow_up_days": 90}}
# What the demo lake's members do after the event: the letter moves 35% to the alternative, 10% move anyway
DEMO_RATES: dict[str, float] = {"lettered_rate": 0.35, "held_out_rate": 0.10, "refill_rate": 0.5}


def demo_behaviour(event: dict) -> Behaviour:
    measurement = DEMO_MEASUREMENT["otc_switch"]
    return Behaviour.for_event(
        event,
        holdout_share=measurement["holdout_share"],
        follow_up_days=measurement["follow_up_days"],
        **DEMO_RATES,
    )


def _ids(path: Path) -> list[str]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        return [row["member_id"] for row in csv.DictReader(handle)]


def local_cohort(out_dir: Path, client_ids: list[str]) -> list[CohortMember]:
    """Lettered members from OUT/letters/<client>/manifest.csv, held out from holdout.csv beside it."""
    cohort: list[CohortMember] = []
    for client_id in client_ids:
        folder = out_dir / "letters" / client_id
        cohort += [(client_id, m, False) for m in _ids(folder / "manifest.csv")]
        cohort += [(client_id, m, True) for m in _ids(folder / "holdout.csv")]
    return cohort


def recompute(out_dir: Path, lake_dir: Path) -> dict[str, Any]:
    """Measure the finished campaign in OUT again over the lake as it is now; report.json and report.html updated."""
    from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
    from coach_local.report_html import write_report

    path = out_dir / "report.json"
    if not path.exists():
        raise BadInput(f"{path}: no report here; run `coach demo` or `coach run` with --out {out_dir} first")
    report = json.loads(path.read_text(encoding="utf-8"))
    previous = report.get("outcomes")
    if not previous:
        raise BadInput(f"{path}: this campaign measures no outcomes (its playbook sets no measurement)")
    request = MeasureRequest(
        campaign_id=report["campaign_id"],
        event=MarketEvent.model_validate(previous["event"]),
        measurement=CampaignMeasurement(
            holdout_share=previous["holdout_share"],
            follow_up_days=previous["follow_up_days"],
            follow_up_seconds=1,
        ),
    )
    params = OutcomeParams.for_event(request.event, request.measurement.follow_up_days)
    clients = [
        (c["client_id"], c["client_name"]) for c in report["clients"] if c["outcome"] == "letters_sent"
    ]
    cohort = local_cohort(out_dir, [client_id for client_id, _ in clients])
    rows = DuckDbClaimsEngine(lake_dir).outcome_counts(params, cohort) if cohort else []
    report["outcomes"] = assemble(request, params, clients, rows)
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    write_report(out_dir)
    return dict(report["outcomes"])
