"""The decisions file's clinical_review entry (the local pharmacist's answer), and a feed candidate as an event file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coach_local.feed_demo import DEMO_REVIEW, demo_candidate
from coach_local.inputs import BadInput, load_decisions, load_event, review_choice


def write(tmp_path: Path, body: object) -> Path:
    path = tmp_path / "decisions.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    return path


def test_the_demo_pharmacists_answer_supplies_the_lakes_claritin_ndcs():
    choice = review_choice(load_decisions(DEMO_REVIEW))
    assert choice["decision"] == "correct"
    assert choice["fields"]["ndcs"] == ["11523716001", "11523716002"]


def test_without_an_entry_the_pharmacist_confirms_the_candidate_as_it_is():
    assert review_choice({"C1": {"account_team": "approve"}}) == {"decision": "confirm"}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"decision": "approve"},
            "clinical_review.decision: 'approve' is not confirm, correct, dismiss or none",
        ),
        ({"decision": "correct", "fields": {"ndc": ["1"]}}, "clinical_review.fields: expected some of"),
        ({"decision": "confirm", "fields": {"ndcs": ["1"]}}, "only a `correct` decision carries fields"),
        ({"choice": "dismiss"}, 'clinical_review: expected {"decision"'),
    ],
)
def test_a_bad_entry_is_refused_naming_where(tmp_path, entry, message):
    with pytest.raises(BadInput, match=message.replace("(", r"\(").replace("{", r"\{")):
        load_decisions(write(tmp_path, {"clinical_review": entry}))


def test_a_candidate_as_printed_by_the_feed_is_an_event_file(tmp_path):
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(demo_candidate().envelope), encoding="utf-8")
    assert load_event(path)["source"] == "coach.feed.drugs-at-fda"
    broken = demo_candidate().envelope
    broken["detail"]["review"]["missing"] = "drug.ndcs"
    path.write_text(json.dumps(broken), encoding="utf-8")
    with pytest.raises(BadInput, match=r"detail\.review\.missing"):
        load_event(path)
