"""The brief in the audience stage: one query (coach.brief.sql) over the same lake, matching and lookback as the
audience's, then one brief per affected client written beside its member batches (counts and sums only)."""

from __future__ import annotations

from coach import keys
from coach.audience.engine import AudienceParams
from coach.brief.figures import figures_by_client
from coach.brief.policy import BriefPolicy
from coach.brief.projection import Brief, build_brief
from coach.brief.sql import BriefParams
from coach.models import CampaignInput, ClientWork
from coach.ports import ClaimsEngine, ObjectStore


def brief_params(campaign: CampaignInput, policy: BriefPolicy) -> BriefParams:
    return BriefParams(
        audience=AudienceParams.for_campaign(campaign),
        announced_on=campaign.event.announced_on,
        recent_days=policy.recent_days,
        active_days=policy.active_days,
    )


def policy_of(campaign: CampaignInput) -> BriefPolicy | None:
    section = campaign.playbook.get("brief")
    return None if section is None else BriefPolicy.model_validate(section)


def compute_briefs(
    campaign: CampaignInput, work: list[ClientWork], *, engine: ClaimsEngine
) -> dict[str, Brief]:
    """The brief of every affected client (none when the playbook has no brief section)."""
    policy = policy_of(campaign)
    if policy is None or not work:
        return {}
    figures = figures_by_client(engine.brief_rows(brief_params(campaign, policy)))
    return {
        w.client_id: build_brief(
            campaign_id=campaign.campaign_id,
            client_name=w.client_name,
            figures=figures[w.client_id],
            event=campaign.event,
            policy=policy,
            lookback_days=int(campaign.playbook["lookback_days"]),
        )
        for w in work
        if w.client_id in figures
    }


def brief_key(campaign_id: str, client_id: str) -> str:
    return f"{keys.client_audience_prefix(campaign_id, client_id)}/brief.json"


def attach_briefs(
    campaign: CampaignInput, work: list[ClientWork], *, engine: ClaimsEngine, store: ObjectStore, bucket: str
) -> list[ClientWork]:
    """Write each client's brief to S3 and give its work item the key (workflow state carries keys, not briefs)."""
    briefs = compute_briefs(campaign, work, engine=engine)
    attached = []
    for w in work:
        brief = briefs.get(w.client_id)
        if brief is None:
            attached.append(w)
            continue
        key = brief_key(campaign.campaign_id, w.client_id)
        store.put(bucket, key, brief.model_dump_json().encode(), "application/json")
        attached.append(w.model_copy(update={"brief_key": key}))
    return attached


def load_brief(store: ObjectStore, bucket: str, key: str | None) -> Brief | None:
    if not key:
        return None
    return Brief.model_validate_json(store.get(bucket, key))
