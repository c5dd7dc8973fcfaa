"""A recommendation's reason reads as English whatever its counts: one member, not "1 members"."""

import json
from pathlib import Path

import pytest
from coach.brief.projection import fill_reason

PLAYBOOKS = Path(__file__).resolve().parents[2] / "layers/domain/python/coach/playbooks"


def test_a_count_of_one_reads_in_the_singular():
    reason = "No member holds supply: a letter to the {affected} members who filled it ({claims} claims) is enough."
    assert fill_reason(reason, {"affected": "1", "claims": "1"}) == (
        "No member holds supply: a letter to the 1 member who filled it (1 claim) is enough."
    )
    assert fill_reason(reason, {"affected": "11", "claims": "21"}) == (
        "No member holds supply: a letter to the 11 members who filled it (21 claims) is enough."
    )
    assert "fewer than 11 members" in fill_reason(
        reason, {"affected": "fewer than 11", "claims": "not shown"}
    )


@pytest.mark.parametrize("playbook", sorted(PLAYBOOKS.glob("*.json")), ids=lambda p: p.stem)
def test_no_shipped_reason_says_1_members(playbook):
    brief = json.loads(playbook.read_text()).get("brief") or {}
    ones = {name: "1" for name in ("affected", "claims", "disrupted", "supply_on_hand", "days_on_hand")}
    assert brief.get("options"), f"{playbook.name} has no brief options to check"
    for option in brief["options"]:
        text = fill_reason(option["reason"], ones)
        assert "1 members" not in text and "1 claims" not in text and "1 days" not in text, text
