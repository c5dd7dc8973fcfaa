"""Feed state: the in-memory, folder and DynamoDB adapters keep the same promises."""

from __future__ import annotations

import boto3
import pytest
from coach.adapters.feed_state import DynamoFeedState, MemoryFeedState, table_definition

from coach_local.feed_state import FolderFeedState


@pytest.fixture(params=["memory", "folder", "dynamodb"])
def make_state(request, tmp_path):
    if request.param == "memory":
        shared = MemoryFeedState()
        return lambda: shared
    if request.param == "folder":
        return lambda: FolderFeedState(tmp_path / "state")  # a fresh object reads what the last one wrote
    request.getfixturevalue("mocked_aws")
    boto3.client("dynamodb").create_table(**table_definition("feed-state"))
    return lambda: DynamoFeedState("feed-state")


def test_watermarks_are_kept_per_source(make_state):
    make_state().set_watermark("fda-recalls", '{"through": "2026-11-25"}')
    state = make_state()
    assert state.get_watermark("fda-recalls") == '{"through": "2026-11-25"}'
    assert state.get_watermark("orange-book") is None


def test_values_are_read_back_only_for_the_keys_stored(make_state):
    make_state().put_values("fda-recalls", {"D-1": "h1", "D-2": "h2"})
    make_state().put_values("fda-recalls", {"D-2": "h2b"})
    state = make_state()
    assert state.get_values("fda-recalls", ["D-1", "D-2", "D-3"]) == {"D-1": "h1", "D-2": "h2b"}
    assert state.get_values("orange-book", ["D-1"]) == {}


def test_replace_forgets_what_is_not_in_the_new_set_and_keeps_the_watermark(make_state):
    state = make_state()
    state.set_watermark("ndc-directory", "w1")
    state.put_values("ndc-directory", {"appl:NDA1": "a", "appl:NDA2": "b"})
    make_state().replace_values("ndc-directory", {"appl:NDA2": "b2", "appl:NDA3": "c"})
    state = make_state()
    assert state.get_values("ndc-directory", ["appl:NDA1", "appl:NDA2", "appl:NDA3"]) == {
        "appl:NDA2": "b2",
        "appl:NDA3": "c",
    }
    assert state.get_watermark("ndc-directory") == "w1"


def test_many_keys_cross_the_dynamodb_batch_limits(make_state):
    values = {f"group:{i:04d}": str(i) for i in range(260)}
    make_state().put_values("orange-book", values)
    assert make_state().get_values("orange-book", list(values)) == values


def test_a_damaged_state_file_is_named(tmp_path):
    (tmp_path / "feed-fda-recalls.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"feed-fda-recalls\.json: not valid JSON"):
        FolderFeedState(tmp_path).get_watermark("fda-recalls")
