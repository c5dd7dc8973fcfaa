"""The feed function: a scheduled poll puts its candidates on the bus from `coach.feed.<feed>` (which the intake
rule never matches) and keeps its state in DynamoDB only once they are published."""

from __future__ import annotations

import boto3
import pytest
from coach import runtime
from coach.adapters.eventbus import EventBridgePublisher, EventsRejected, MemoryEventPublisher
from coach.adapters.feed_state import DynamoFeedState, table_definition
from coach.feeds.tables import Bundle
from coach.intake import EVENT_PATTERN
from coach.models import MarketEvent
from moto import mock_aws

from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env
from tests.unit.feed_fixtures import FIXTURES

TABLE = "feed-state"
ARCHIVES = {"drugs-at-fda": "drugsatfda", "ndc-directory": "ndctext", "orange-book": "orangebook"}


class BrokenBus:
    def put(self, source, detail_type, details):
        raise EventsRejected("EventBridge rejected 3 of 3 events: ['InternalFailure']")


@pytest.fixture
def feeds(monkeypatch):
    set_function_env(monkeypatch, FEED_STATE_TABLE=TABLE)
    with mock_aws():
        runtime.reset()
        boto3.client("dynamodb").create_table(**table_definition(TABLE))
        module = load_handler("feeds")
        bus = MemoryEventPublisher()
        monkeypatch.setattr(module, "event_publisher", lambda: bus)
        monkeypatch.setattr(module, "feed_archive", lambda feed: Bundle.from_path(FIXTURES / ARCHIVES[feed]))
        module.bus = bus  # type: ignore[attr-defined]
        yield module
        runtime.reset()


def invoke(module, feed: str) -> dict:
    return module.handler({"feed": feed}, FakeLambdaContext(function_name="coach-feeds", aws_request_id="r1"))


def test_a_scheduled_poll_publishes_candidates_for_review_and_the_next_one_publishes_none(feeds):
    assert invoke(feeds, "ndc-directory")["candidates"] == 0
    answer = invoke(feeds, "drugs-at-fda")
    assert answer == {
        "feed": "drugs-at-fda",
        "candidates": 3,
        "unchanged": 0,
        "skipped": None,
        "warnings": [],
    }
    sources = {source for source, _, _ in feeds.bus.events}
    assert sources == {"coach.feed.drugs-at-fda"} and not sources & set(EVENT_PATTERN["source"])
    for _, detail_type, detail in feeds.bus.events:
        assert detail_type == "Drug Market Event"
        # the event a pharmacist confirms is the detail without its review notes (intake refuses unknown fields)
        MarketEvent.model_validate({name: value for name, value in detail.items() if name != "review"})
        assert "reasons" in detail["review"]
    claritin = next(d for _, _, d in feeds.bus.events if d["drug"]["name"] == "Claritin")
    assert (
        "11523716001" in claritin["drug"]["ndcs"]
    )  # resolved through the index the ndc-directory poll stored
    assert invoke(feeds, "drugs-at-fda")["candidates"] == 0 and len(feeds.bus.events) == 3


def test_nothing_is_remembered_when_publishing_fails_so_the_next_poll_publishes_them(feeds, monkeypatch):
    monkeypatch.setattr(feeds, "event_publisher", lambda: BrokenBus())
    with pytest.raises(EventsRejected):
        invoke(feeds, "drugs-at-fda")
    assert DynamoFeedState(TABLE).get_watermark("drugs-at-fda") is None
    monkeypatch.setattr(feeds, "event_publisher", lambda: feeds.bus)
    assert invoke(feeds, "drugs-at-fda")["candidates"] == 3


def test_an_unknown_feed_fails_by_name(feeds):
    with pytest.raises(ValueError, match="no feed named 'pink-sheets'"):
        invoke(feeds, "pink-sheets")


def test_eventbridge_takes_candidates_ten_at_a_time_and_a_rejection_is_raised(monkeypatch):
    calls: list[int] = []

    class FakeEvents:
        def __init__(self, fail: bool) -> None:
            self.fail = fail

        def put_events(self, Entries):
            calls.append(len(Entries))
            return {
                "Entries": [
                    {"ErrorCode": "InternalFailure"} if self.fail else {"EventId": "e"} for _ in Entries
                ]
            }

    monkeypatch.setattr("coach.adapters.eventbus.client", lambda service: FakeEvents(fail=False))
    EventBridgePublisher().put("coach.feed.fda-recalls", "Drug Market Event", [{"n": i} for i in range(23)])
    assert calls == [10, 10, 3]
    calls.clear()
    monkeypatch.setattr("coach.adapters.eventbus.client", lambda service: FakeEvents(fail=True))
    with pytest.raises(EventsRejected, match="rejected 2 of 2 events"):
        EventBridgePublisher().put("coach.feed.fda-recalls", "Drug Market Event", [{"n": 1}, {"n": 2}])
    assert calls == [2, 2]  # the failed entries are tried once more


def test_under_moto_the_bus_accepts_the_entries(mocked_aws):
    EventBridgePublisher().put("coach.feed.orange-book", "Drug Market Event", [{"event_id": "x"}] * 12)


@pytest.mark.parametrize("stored", ["k-123", '{"api_key": "k-123"}'])
def test_the_openfda_key_comes_from_the_secret_the_stack_names(monkeypatch, stored):
    set_function_env(monkeypatch, FEED_STATE_TABLE=TABLE, OPENFDA_API_KEY_SECRET="openfda-api-key")
    with mock_aws():
        runtime.reset()
        boto3.client("secretsmanager").create_secret(Name="openfda-api-key", SecretString=stored)
        assert runtime.openfda().api_key == "k-123"
        runtime.reset()


def test_without_a_secret_openfda_is_called_without_a_key(monkeypatch):
    set_function_env(monkeypatch, FEED_STATE_TABLE=TABLE)
    monkeypatch.delenv("OPENFDA_API_KEY_SECRET", raising=False)
    runtime.reset()
    assert runtime.openfda().api_key is None
    runtime.reset()
