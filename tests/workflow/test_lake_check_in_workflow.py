"""The audience stage checks the lake first, as on AWS: a lake that breaks the contract (here reaching the
workflow without `coach run`'s own check, as an event on AWS does) fails the campaign before any email or
letter, and the operator alert lists the problems: file, column, rows; never a member's value."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest
from coach.intake import campaign_id_for

from coach_local.inputs import load_event
from coach_local.runtime import LocalRuntime
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def test_a_lake_breaking_the_contract_fails_the_audience_stage_and_the_alert_lists_it(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One", {"otc_switch": "always"})],
        [member("M1", "C1", "Ada", "Lovelace"), member("M1", "C1", "Ada", "Lovelace", city="Elsewhere")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid")],
    )
    event = load_event(ROOT / "coach_local/events/claritin_otc.json")
    with LocalRuntime(tmp_path / "out", lake, time_scale=1 / 86_400) as runtime:
        assert runtime.put_event(event)["status"] == "started"
        run = runtime.wait(campaign_id_for(event["detail"]["event_id"]), timeout=180)
    assert run.status == "FAILED"
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in (tmp_path / "out" / "outbox").glob("*.eml")
    ]
    assert [m.get("X-Coach-Kind") for m in messages] == ["operator_alert"]  # nothing else was sent
    body = messages[0].get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "LakeCheckFailed" in text and "nothing was sent to anyone" in text
    assert f"{lake / 'members'}: column 'member_id': 2 rows: a key that another row has too" in text
    assert "Lovelace" not in text and "Elsewhere" not in text
    assert not list((tmp_path / "out").glob("letters/**/*.pdf"))
