"""The follow-up's measurement: after the letters, which members refilled, switched or stopped, lettered against
held out, per client whose letters went out (docs/outcomes.md). Written to S3 for the report; counts only."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, ConfigDict

from coach import keys
from coach.addresses import neutralised
from coach.models import ClientOutcome, ClientWork, MarketEvent
from coach.outcomes.holdout import holdout_key
from coach.outcomes.policy import CampaignMeasurement
from coach.outcomes.results import add_up, summarise
from coach.outcomes.sql import CohortMember, OutcomeParams
from coach.ports import ClaimsEngine, NotFound, ObjectStore


class MeasureRequest(BaseModel):
    """The MeasureOutcomes task's input: ids, the public event and the measurement (no member data)."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    event: MarketEvent
    measurement: CampaignMeasurement


def outcomes_key(campaign_id: str) -> str:
    return f"{keys.campaign_prefix(campaign_id)}/measurement/outcomes.json"


def _member_ids(store: ObjectStore, bucket: str, key: str) -> Iterator[str]:
    try:
        body = store.get(bucket, key).decode("utf-8")
    except NotFound:
        return
    for row in csv.DictReader(io.StringIO(body)):
        yield row["member_id"]


def measured_clients(campaign_id: str, *, store: ObjectStore, data_bucket: str) -> list[ClientWork]:
    """The clients whose letters went out (their branch ended letters_sent), in client order."""
    try:
        clients = [
            ClientWork.model_validate(c)
            for c in json.loads(store.get(data_bucket, keys.clients_key(campaign_id)))
        ]
    except NotFound:
        return []
    chosen = []
    for client in sorted(clients, key=lambda c: c.client_id):
        outcome = ClientOutcome.model_validate_json(
            store.get(data_bucket, keys.outcome_key(campaign_id, client.client_id))
        )
        if outcome.outcome == "letters_sent":
            chosen.append(client)
    return chosen


def cohort_of(
    campaign_id: str, client_id: str, *, store: ObjectStore, letters_bucket: str
) -> list[CohortMember]:
    """Lettered members from the client's letters manifest; held-out members from holdout.csv beside it."""
    manifest = f"{keys.letters_prefix(campaign_id, client_id)}/manifest.csv"
    cohort = [(client_id, m, False) for m in _member_ids(store, letters_bucket, manifest)]
    held = [
        (client_id, m, True) for m in _member_ids(store, letters_bucket, holdout_key(campaign_id, client_id))
    ]
    return cohort + held


def measure_outcomes(
    request: MeasureRequest,
    *,
    engine: ClaimsEngine,
    store: ObjectStore,
    data_bucket: str,
    letters_bucket: str,
) -> dict[str, Any]:
    """Run the outcome query over every measured client's cohort; write and return the campaign's outcomes."""
    params = OutcomeParams.for_event(request.event, request.measurement.follow_up_days)
    clients = measured_clients(request.campaign_id, store=store, data_bucket=data_bucket)
    cohort: list[CohortMember] = []
    for client in clients:
        cohort += cohort_of(request.campaign_id, client.client_id, store=store, letters_bucket=letters_bucket)
    rows = engine.outcome_counts(params, cohort) if cohort else []
    outcomes = assemble(request, params, [(c.client_id, c.client_name) for c in clients], rows)
    store.put(
        data_bucket,
        outcomes_key(request.campaign_id),
        json.dumps(outcomes, indent=2).encode(),
        "application/json",
    )
    return outcomes


def assemble(
    request: MeasureRequest, params: OutcomeParams, clients: list[tuple[str, str]], rows: list[dict]
) -> dict[str, Any]:
    """The campaign's outcomes (what report.json holds under `outcomes`) from the outcome query's rows."""
    entries = [
        summarise(
            {"client_id": client_id, "client_name": neutralised(name)},
            [row for row in rows if row["client_id"] == client_id],
        )
        for client_id, name in clients
    ]
    return {
        "campaign_id": request.campaign_id,
        "event": request.event.model_dump(mode="json"),  # public news: what `coach outcomes` measures again
        "holdout_share": request.measurement.holdout_share,
        "follow_up_days": request.measurement.follow_up_days,
        "window": {"first_day": params.first_day.isoformat(), "last_day": params.last_day.isoformat()},
        "alternatives": list(params.alternatives),
        "clients": entries,
        "totals": add_up(entries),
    }


def read_outcomes(campaign_id: str, *, store: ObjectStore, data_bucket: str) -> dict[str, Any] | None:
    """The measured outcomes, or None before the follow-up (or for a campaign that measures nothing)."""
    try:
        return dict(json.loads(store.get(data_bucket, outcomes_key(campaign_id))))
    except NotFound:
        return None
