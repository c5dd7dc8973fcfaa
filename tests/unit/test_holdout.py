"""The holdout: decided once, the same on every rerun, blind to member order, and never for a recall or a mandatory
notice."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.intake import plan_campaign
from coach.models import MemberRecord
from coach.outcomes.assignment import HoldoutSplit, holdout_share
from coach.outcomes.holdout import assignment_point, holdout_key, is_held_out
from coach.outcomes.policy import HoldoutNotAllowed, Measurement, plan_measurement
from coach.playbooks import PlaybookError, all_playbooks, load_playbook, parse_playbook
from pydantic import ValidationError

MEMBERS = [f"M{n:09d}" for n in range(1, 10_001)]


def otc_event(event_id: str = "otc-holdout") -> dict:
    return {
        "source": "coach.market-feed",
        "detail-type": "Drug Market Event",
        "detail": {
            "event_id": event_id,
            "event_type": "otc_switch",
            "drug": {"name": "Claritin", "ingredient": "loratadine"},
            "effective_date": "2003-01-01",
            "announced_on": "2002-11-27",
            "summary": "Loratadine moves over the counter.",
            "alternatives": ["cetirizine"],
        },
    }


def recall_event(recall_class: str) -> dict:
    event = otc_event(f"recall-{recall_class}")
    event["detail"].update(event_type="recall", recall_class=recall_class, alternatives=[])
    return event


def member(member_id: str) -> MemberRecord:
    return MemberRecord(
        member_id=member_id,
        client_id="C0001",
        first_name="A",
        last_name="B",
        address_line1="1 Main St",
        city="Town",
        state="NY",
        postal_code="10001",
        drug_name="Claritin",
        last_fill_date=date(2002, 11, 1),
    )


def test_assignment_is_the_same_on_every_rerun_and_differs_between_campaigns():
    first = {m for m in MEMBERS if is_held_out("campaign-a", m, 0.2)}
    again = {m for m in MEMBERS if is_held_out("campaign-a", m, 0.2)}
    other = {m for m in MEMBERS if is_held_out("campaign-b", m, 0.2)}
    assert first == again
    assert 1_800 <= len(first) <= 2_200  # a fifth of 10,000, within 5 standard deviations
    assert len(first & other) < 600  # another campaign draws another holdout (independent: about 400 shared)


def test_assignment_owes_nothing_to_member_order():
    campaign = plan_campaign(
        otc_event(), measurement_overrides={"otc_switch": {"holdout_share": 0.25}}
    ).campaign
    shuffled = MEMBERS[:2_000]
    random.Random(3).shuffle(shuffled)
    in_order, out_of_order = HoldoutSplit(campaign, "C0001"), HoldoutSplit(campaign, "C0001")
    list(in_order.lettered(member(m) for m in MEMBERS[:2_000]))
    list(out_of_order.lettered(member(m) for m in shuffled))
    assert sorted(in_order.held_out) == sorted(out_of_order.held_out)
    # not clustered at either end of the member list: each half is held out at about the share
    halves = [
        sum(1 for m in part if is_held_out("c", m, 0.25)) for part in (MEMBERS[:5_000], MEMBERS[5_000:])
    ]
    assert all(1_100 <= count <= 1_400 for count in halves)


def test_held_out_members_get_no_batch_and_are_recorded_beside_the_manifest():
    campaign = plan_campaign(
        otc_event(), measurement_overrides={"otc_switch": {"holdout_share": 0.3}}
    ).campaign
    split = HoldoutSplit(campaign, "C0001")
    lettered = [m.member_id for m in split.lettered(member(m) for m in MEMBERS[:500])]
    store = MemoryObjectStore()
    split.record(store, "letters")
    rows = list(
        csv.DictReader(io.StringIO(store.get("letters", holdout_key(campaign.campaign_id, "C0001")).decode()))
    )
    held = [row["member_id"] for row in rows]
    assert held and not set(held) & set(lettered) and len(held) + len(lettered) == 500
    assert {row["group"] for row in rows} == {"holdout"}
    assert held == [m for m in MEMBERS[:500] if assignment_point(campaign.campaign_id, m) < 0.3]


def test_no_shipped_playbook_holds_anyone_out_and_a_recall_playbook_cannot():
    for event_type, playbook in all_playbooks().items():
        assert playbook.measurement is None or playbook.measurement.holdout_share == 0, event_type
    recall = load_playbook("recall").model_dump(mode="json")
    recall["measurement"] = {"holdout_share": 0.1}
    with pytest.raises(PlaybookError, match="recall never holds members out"):
        parse_playbook(json.dumps(recall), "playbooks/recall.json")


@pytest.mark.parametrize("recall_class", ["I", "II", "III"])
def test_no_recall_and_no_mandatory_notice_ever_has_a_holdout(recall_class):
    # an override cannot give a recall a holdout: intake validates the playbook again and refuses it
    with pytest.raises(ValidationError, match="never holds members out"):
        plan_campaign(recall_event(recall_class), measurement_overrides={"recall": {"holdout_share": 0.2}})
    # a recall campaign whose input claims a holdout anyway (a hand-written execution input) holds nobody out
    campaign = plan_campaign(recall_event(recall_class)).campaign
    forged = campaign.model_copy(
        update={"playbook": {**campaign.playbook, "measurement": {"holdout_share": 0.5}}}
    )
    assert holdout_share(forged) == 0.0
    assert all(not is_held_out(forged.campaign_id, m, holdout_share(forged)) for m in MEMBERS[:1_000])


def test_a_mandatory_notice_of_any_type_refuses_a_holdout():
    with pytest.raises(HoldoutNotAllowed, match="mandatory notice"):
        plan_measurement(Measurement(holdout_share=0.2), "otc_switch", mandatory=True, time_scale=1.0)


def test_the_follow_up_wait_is_the_period_scaled_like_the_approval_waits():
    plan = plan_campaign(
        otc_event(), measurement_overrides={"otc_switch": {"holdout_share": 0.2, "follow_up_days": 90}}
    )
    assert plan.campaign.measurement is not None
    assert plan.campaign.measurement.follow_up_seconds == 90 * 86_400  # on AWS: the period itself
    local = plan_campaign(
        otc_event(),
        time_scale=1 / 8640,
        follow_up_time_scale=1 / 8640 / 365,
        measurement_overrides={"otc_switch": {"follow_up_days": 90}},
    )
    assert local.campaign.measurement is not None and local.campaign.measurement.follow_up_seconds == 2
    assert plan_campaign(otc_event()).campaign.measurement is None  # no measurement: no follow-up at all
