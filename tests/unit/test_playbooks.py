"""Playbooks are data: one validated file per event type."""

import json

import pytest
from coach.models import EVENT_TYPES
from coach.playbooks import PlaybookError, all_playbooks, parse_playbook


def test_every_event_type_has_a_valid_playbook():
    playbooks = all_playbooks()
    assert set(playbooks) == set(EVENT_TYPES)
    for event_type, playbook in playbooks.items():
        assert playbook.event_type == event_type
        assert playbook.approval.account_team_timeout_seconds > 0


def test_only_recalls_can_be_mandatory():
    assert all_playbooks()["recall"].mandatory_recall_classes == ["I"]
    assert all(not p.mandatory_recall_classes for t, p in all_playbooks().items() if t != "recall")


def test_a_broken_playbook_names_the_file_and_the_field():
    good = all_playbooks()["otc_switch"].model_dump(mode="json")
    bad = {**good, "lookback_days": 0}
    with pytest.raises(PlaybookError, match=r"playbooks/x\.json: lookback_days"):
        parse_playbook(json.dumps(bad), "playbooks/x.json")
    with pytest.raises(PlaybookError, match="not valid JSON"):
        parse_playbook("{", "playbooks/x.json")
    with pytest.raises(PlaybookError, match="approval.reminders"):
        parse_playbook(
            json.dumps({**good, "approval": {**good["approval"], "reminders": 9}}), "playbooks/x.json"
        )
