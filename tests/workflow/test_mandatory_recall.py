"""A class I recall is a mandatory notice: account team and client are informed (counts only), nobody is asked,
and the letters go to every reachable member, even where the client's standing election is `never`."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

import pytest

from coach_local.inputs import load_event
from coach_local.runner import run_campaign
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recall(tmp_path_factory):
    base = tmp_path_factory.mktemp("recall")
    lake = write_lake(
        base / "lake",
        [client("C1", "Never Asks Inc", {"recall": "never"}), client("C2", "Asks Co")],
        [
            member("M1", "C1", "Ada", "Lovelace"),
            member("M2", "C2", "Alan", "Turing"),
            member("M3", "C2", "Grace", "Hopper", opted_out=True),
        ],
        [(m, CLARITIN_NDC, date(2002, 10, 1), "paid") for m in ("M1", "M2", "M3")],
    )
    raw = load_event(ROOT / "coach_local/events/claritin_otc.json")
    raw["detail"].update(
        event_id="recall-2002-11-27-loratadine-lot-42",
        event_type="recall",
        recall_class="I",
        summary="Lot 42 of loratadine 10 mg recalled (class I).",
    )
    return run_campaign(
        raw,
        lake,
        base / "out",
        decisions={"C2": {"account_team": "none", "client": "none"}},
        timeout=180,
        time_scale=1 / 86_400,
    )


def test_letters_go_out_without_anyone_being_asked(recall):
    assert recall.status == "SUCCEEDED", recall.error
    rows = {r["client_id"]: r for r in recall.report["clients"]}
    for client_id, letters in (("C1", 1), ("C2", 1)):
        row = rows[client_id]
        assert (row["account_team_decision"], row["client_decision"], row["letters"]) == (
            "not_asked",
            "not_asked",
            letters,
        )


def test_account_team_and_client_are_informed_with_counts_only(recall):
    notices = []
    for path in (recall.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message.get("X-Coach-Kind") != "approval", "a mandatory notice asks nobody"
        if message.get("X-Coach-Kind") == "notice":
            body = message.get_body(("plain",))
            assert body is not None
            text = body.get_content()
            assert not any(name in text for name in ("Lovelace", "Turing", "Hopper"))
            notices.append(message["To"])
    assert "team-c1@pbm.example" in notices and "benefits@c2.example" in notices


def _notice_texts(recall) -> dict[str, str]:
    texts = {}
    for path in (recall.out_dir / "outbox").glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message.get("X-Coach-Kind") == "notice":
            body = message.get_body(("plain",))
            assert body is not None
            texts[str(message["To"])] = body.get_content()
    return texts


def test_the_notices_carry_the_pharmacists_brief_exact_inside_and_suppressed_for_the_client(recall):
    texts = _notice_texts(recall)
    team, client_text = texts["team-c2@pbm.example"], texts["benefits@c2.example"]
    for text in (team, client_text):
        assert "The pharmacist's brief" in text and "We recommend:" in text
        assert "Supply on hand" in text or "supply on hand" in text.lower()
    assert "Members affected:" in team and "fewer than 11" not in team.split("The pharmacist's brief")[1]
    assert "fewer than 11" in client_text.split("The pharmacist's brief")[1]
