"""Intake: the market event of docs/data-contract.md is validated, and one event_id is one campaign."""

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from coach.adapters.memory import MemoryObjectStore
from coach.intake import InvalidEvent, campaign_id_for, parse_event, plan_campaign, start_campaign

CLARITIN: dict[str, Any] = {
    "source": "coach.market-feed",
    "detail-type": "Drug Market Event",
    "detail": {
        "event_id": "fdc-2002-11-27-loratadine-otc",
        "event_type": "otc_switch",
        "drug": {"name": "Claritin", "ingredient": "loratadine", "ndcs": ["11523716001"]},
        "effective_date": "2003-01-01",
        "announced_on": "2002-11-27",
        "summary": "Loratadine (Claritin) approved for over-the-counter sale.",
        "source_url": "https://example.org/notice",
        "alternatives": ["cetirizine"],
        "recall_class": None,
    },
}


def event(**detail_changes):
    raw = copy.deepcopy(CLARITIN)
    raw["detail"].update(detail_changes)
    return raw


class FakeStarter:
    def __init__(self):
        self.started: dict[str, str] = {}

    def start(self, name, input_json):
        if name in self.started:
            return False
        self.started[name] = input_json
        return True


def test_contract_example_event_is_accepted():
    request = plan_campaign(CLARITIN)
    assert request.campaign.event.drug.ndcs == ["11523716001"]
    assert request.campaign.playbook["lookback_days"] == 365
    assert request.execution_name == request.campaign.campaign_id


def test_same_event_id_gives_same_execution_name_and_different_ids_differ():
    assert campaign_id_for("fdc-1") == campaign_id_for("fdc-1")
    assert campaign_id_for("fdc-1") != campaign_id_for("fdc-2")
    # characters Step Functions refuses in names are folded, yet distinct ids stay distinct
    assert campaign_id_for("a/b") != campaign_id_for("a:b")
    name = campaign_id_for("x" * 300 + " ü/?*")
    assert len(name) <= 80 and all(c.isalnum() or c in "-_" for c in name)


def test_duplicate_delivery_starts_one_campaign():
    starter, store = FakeStarter(), MemoryObjectStore()
    results = [
        start_campaign(
            CLARITIN,
            starter=starter,
            store=store,
            data_bucket="b",
            time_scale=1,
            now=datetime(2026, 1, 1, tzinfo=UTC),
        )
        for _ in range(5)
    ]
    assert [r["status"] for r in results] == ["started"] + ["duplicate"] * 4
    assert len(starter.started) == 1


def test_hyphenated_ndc_is_normalised_to_eleven_digits():
    request = plan_campaign(event(drug={"name": "Claritin", "ndcs": ["11523-7160-01", "0085-1128-01"]}))
    assert request.campaign.event.drug.ndcs == ["00085112801", "11523716001"]


def test_unhyphenated_ten_digit_ndc_is_rejected_with_a_clear_reason():
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event(drug={"name": "Claritin", "ndcs": ["1152371601"]}))
    assert "drug.ndcs" in str(caught.value) and "10 digits" in str(caught.value)


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"event_type": "price_hike"}, "event_type"),
        ({"drug": {"name": "Claritin"}}, "drug"),
        ({"effective_date": "2003-02-30"}, "effective_date"),
        ({"announced_on": "1900-01-01"}, "announced_on"),
        ({"event_type": "recall", "recall_class": None}, "recall_class"),
        ({"recall_class": "I"}, "recall_class"),
        ({"summary": ""}, "summary"),
        ({"source_url": "javascript:alert(1)"}, "source_url"),
        ({"drug": {"name": "Claritin\u202e gpj", "ingredient": "loratadine"}}, "drug.name"),
        ({"summary": "Loratadine goes OTC.\x00"}, "summary"),
        ({"summary": "Loratadine \u2066goes OTC."}, "summary"),
    ],
)
def test_bad_event_is_rejected_naming_the_field(changes, where):
    with pytest.raises(InvalidEvent) as caught:
        parse_event(event(**changes))
    assert where in str(caught.value)


def test_rejected_event_is_quarantined_with_its_reasons_and_starts_nothing():
    starter, store = FakeStarter(), MemoryObjectStore()
    result = start_campaign(
        event(event_type="price_hike"),
        starter=starter,
        store=store,
        data_bucket="b",
        time_scale=1,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert result["status"] == "rejected" and not starter.started
    kept = json.loads(store.get("b", result["quarantine_key"]))
    assert kept["event"]["detail"]["event_type"] == "price_hike"
    assert any("event_type" in reason for reason in kept["reasons"])


def test_wrong_source_is_rejected():
    raw = copy.deepcopy(CLARITIN)
    raw["source"] = "someone.else"
    with pytest.raises(InvalidEvent, match="source"):
        parse_event(raw)


def test_class_one_recall_is_mandatory_and_class_two_is_not():
    recall = {
        "event_type": "recall",
        "recall_class": "I",
        "drug": {"name": "Valsartan", "ingredient": "valsartan"},
    }
    assert plan_campaign(event(**recall)).campaign.mandatory is True
    assert plan_campaign(event(**{**recall, "recall_class": "II"})).campaign.mandatory is False


def test_local_time_scale_shrinks_waits_to_seconds():
    waits = plan_campaign(CLARITIN, time_scale=1 / 86_400).campaign.waits
    assert waits.account_team_seconds == 3 and waits.client_seconds == 5
    assert plan_campaign(CLARITIN).campaign.waits.account_team_seconds == 3 * 86_400


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"startDate_ago": timedelta(0)}, True),
        ({"startDate_ago": timedelta(minutes=3)}, False),  # AWS returned the running execution of a repeat
        ({"error": "ExecutionAlreadyExists"}, False),  # the first run has closed
    ],
    ids=["new", "repeat-while-running", "repeat-after-close"],
)
def test_aws_starter_tells_a_repeat_delivery_from_a_new_start(monkeypatch, response, expected):
    import boto3
    from botocore.stub import Stubber
    from coach.adapters import stepfunctions as aws

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    stub = Stubber(sfn)
    arn = "arn:aws:states:us-east-1:123456789012:stateMachine:campaign"
    params = {"stateMachineArn": arn, "name": "c-1", "input": "{}"}
    if "error" in response:
        stub.add_client_error("start_execution", service_error_code=response["error"], expected_params=params)
    else:
        started = datetime.now(UTC) - response["startDate_ago"]
        stub.add_response(
            "start_execution",
            {"executionArn": f"{arn.replace('stateMachine', 'execution')}:c-1", "startDate": started},
            params,
        )
    monkeypatch.setattr(aws, "client", lambda service, region=None: sfn)
    with stub:
        assert aws.StateMachineStarter(arn).start("c-1", "{}") is expected
    stub.assert_no_pending_responses()


def test_aws_starter_raises_other_errors(monkeypatch):
    import boto3
    from botocore.stub import Stubber
    from coach.adapters import stepfunctions as aws

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    stub = Stubber(sfn)
    stub.add_client_error("start_execution", service_error_code="StateMachineDoesNotExist")
    monkeypatch.setattr(aws, "client", lambda service, region=None: sfn)
    with stub, pytest.raises(aws.ClientError):
        aws.StateMachineStarter("arn:aws:states:us-east-1:123456789012:stateMachine:x").start("c-1", "{}")


def test_an_unknown_field_in_the_detail_is_refused_by_name():
    """A typo in an optional field would otherwise drop it silently (letters without their alternatives)."""
    with pytest.raises(InvalidEvent) as caught:
        plan_campaign(event(alternative=["cetirizine"]))
    assert caught.value.reasons == ["detail.alternative: unknown field (check its spelling)"]


def test_envelope_fields_other_than_the_detail_are_still_accepted():
    raw = {**CLARITIN, "id": "abc", "time": "2002-11-27T00:00:00Z", "account": "1", "region": "us-east-1"}
    raw["resources"], raw["version"] = [], "0"
    assert plan_campaign(raw).campaign.event.alternatives == ["cetirizine"]
