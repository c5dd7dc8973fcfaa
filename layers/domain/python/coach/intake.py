"""Intake: a feed's event becomes one campaign, once (docs/architecture.md, decision 6)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError

from coach import keys
from coach.letters.templates import LANGUAGES, default_registry
from coach.models import CampaignInput, MarketEventEnvelope, describe_validation_error
from coach.outcomes.policy import plan_measurement
from coach.playbooks import Playbook, load_playbook
from coach.ports import ObjectStore
from coach.review.intake import BadReviewNotes, feed_source, split_candidate
from coach.review.models import review_block

# The EventBridge rule's pattern: CDK deploys it, the local runtime matches events against it.
EVENT_PATTERN: dict = {"source": ["coach.market-feed"], "detail-type": ["Drug Market Event"]}


class ExecutionStarter(Protocol):
    def start(self, name: str, input_json: str) -> bool:
        """Start the named execution; False when an execution of that name already exists."""
        ...


class InvalidEvent(ValueError):
    """An event the system will not act on; `reasons` says what is wrong and where."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


def campaign_id_for(event_id: str) -> str:
    """The execution name: readable, ≤ 80 characters of [A-Za-z0-9-_], and the same for the same event_id."""
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", event_id).strip("-")[:60] or "event"
    digest = hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:12]
    return f"{slug}-{digest}"


def parse_event(raw: object) -> MarketEventEnvelope:
    if not isinstance(raw, dict):
        raise InvalidEvent([f"(event): expected a JSON object, got {type(raw).__name__}"])
    try:
        return MarketEventEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise InvalidEvent(describe_validation_error(exc, "(event)")) from exc


def pin_templates(template_id: str) -> dict[str, str]:
    """The approved version of the playbook's letter in every language, fixed for the campaign's whole life (a
    template approved later never reaches a campaign already running). Raises TemplateNotApproved: a deployment
    without an approved letter starts nothing (the event goes to the rule's retries and dead-letter queue)."""
    registry = default_registry()
    return {lang: registry.pinned(template_id, lang).sha256 for lang in LANGUAGES}


def with_measurement(playbook: Playbook, overrides: dict | None) -> Playbook:
    """The playbook with its event type's measurement override, validated again (a recall's holdout is refused)."""
    if not overrides or playbook.event_type not in overrides:
        return playbook
    return Playbook.model_validate(
        {**playbook.model_dump(mode="json"), "measurement": overrides[playbook.event_type]}
    )


@dataclass(frozen=True)
class StartRequest:
    execution_name: str
    campaign: CampaignInput


def plan_campaign(
    raw_event: object,
    time_scale: float = 1.0,
    letters_max_concurrency: int = 50,
    measurement_overrides: dict | None = None,
    follow_up_time_scale: float | None = None,
) -> StartRequest:
    """Validate the EventBridge event and build the state machine input (no PHI: the event is public news). A feed's
    candidate also gets its `review` block: the campaign starts at the clinical review (coach.review).
    `measurement_overrides` (event type → a playbook's measurement block) and `follow_up_time_scale` are the local
    runtime's: a demo's holdout, and a follow-up shrunk further than the approval waits."""
    try:
        market_event, notes = split_candidate(raw_event)
    except BadReviewNotes as exc:
        raise InvalidEvent(exc.reasons) from exc
    envelope = parse_event(market_event)
    event = envelope.detail
    playbook = with_measurement(load_playbook(event.event_type), measurement_overrides)
    campaign_id = campaign_id_for(event.event_id)
    campaign = CampaignInput(
        campaign_id=campaign_id,
        event=event,
        playbook=playbook.model_dump(mode="json"),
        mandatory=playbook.is_mandatory(event),
        waits=playbook.waits(time_scale),
        letters_max_concurrency=letters_max_concurrency,
        template_sha256=pin_templates(playbook.template_id),
        review=None
        if notes is None
        else review_block(notes, feed_source(raw_event) or "", event, time_scale).model_dump(),
        measurement=plan_measurement(
            playbook.measurement,
            event.event_type,
            mandatory=playbook.is_mandatory(event),
            time_scale=time_scale if follow_up_time_scale is None else follow_up_time_scale,
        ),
    )
    return StartRequest(execution_name=campaign_id, campaign=campaign)


def quarantine(
    raw_event: object, reasons: list[str], *, store: ObjectStore, data_bucket: str, now: datetime
) -> str:
    """Keep a rejected event with its reasons, so nothing a feed sent is lost (market news, never PHI)."""
    body = json.dumps(
        {"received_at": now.isoformat(), "reasons": reasons, "event": raw_event}, default=str
    ).encode("utf-8")
    key = keys.quarantine_key(now.date().isoformat(), hashlib.sha256(body).hexdigest()[:24])
    store.put(data_bucket, key, body, "application/json")
    return key


def start_campaign(
    raw_event: object,
    *,
    starter: ExecutionStarter,
    store: ObjectStore,
    data_bucket: str,
    time_scale: float,
    now: datetime,
    letters_max_concurrency: int = 50,
    measurement_overrides: dict | None = None,
    follow_up_time_scale: float | None = None,
) -> dict:
    """Validate, then start the execution named after the event; a repeat of the same event starts nothing."""
    try:
        request = plan_campaign(
            raw_event,
            time_scale=time_scale,
            letters_max_concurrency=letters_max_concurrency,
            measurement_overrides=measurement_overrides,
            follow_up_time_scale=follow_up_time_scale,
        )
    except InvalidEvent as exc:
        key = quarantine(raw_event, exc.reasons, store=store, data_bucket=data_bucket, now=now)
        return {"status": "rejected", "reasons": exc.reasons, "quarantine_key": key}
    started = starter.start(request.execution_name, request.campaign.model_dump_json())
    return {"status": "started" if started else "duplicate", "campaign_id": request.campaign.campaign_id}
