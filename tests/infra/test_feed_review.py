"""The clinical review on AWS: the feed candidates' rule (every `coach.feed.*` source) delivering to intake, the
review function in the workflow with the pharmacists' addresses from context, and the review pages' route."""

from __future__ import annotations

import json

import pytest
from coach.review.intake import FEED_PATTERN

from tests.infra.synth import synthesized


@pytest.fixture(scope="module")
def synth():
    return synthesized(external_lake=True)


def test_the_feed_candidates_rule_matches_every_feed_and_delivers_to_intake(synth):
    [rule] = [
        r["Properties"]
        for r in synth.of_type("AWS::Events::Rule").values()
        if r["Properties"].get("Name") == "automated-pharmacist-feed-candidates"
    ]
    assert rule["EventPattern"] == {
        "source": [{"prefix": "coach.feed."}],
        "detail-type": ["Drug Market Event"],
    }
    assert rule["EventPattern"] == FEED_PATTERN  # the pattern the local runtime matches against
    [target] = rule["Targets"]
    assert target["Arn"]["Fn::GetAtt"][0].startswith("Functionsintake")


def test_the_review_function_knows_the_pharmacists_and_the_workflow_can_call_it(synth):
    [function] = [
        f["Properties"]
        for name, f in synth.of_type("AWS::Lambda::Function").items()
        if name.startswith("Functionsclinicalreview")
    ]
    variables = function["Environment"]["Variables"]
    assert variables["CLINICAL_REVIEWER_EMAILS"] == "rph.review@pbm.example, rph.lead@pbm.example"
    assert variables["CLINICAL_ESCALATION_EMAILS"] == "chief.rph@pbm.example"
    [machine] = synth.of_type("AWS::StepFunctions::StateMachine").values()
    substitution = json.dumps(machine["Properties"]["DefinitionSubstitutions"]["ClinicalReviewFunctionArn"])
    assert "Functionsclinicalreview" in substitution


def api_routes(synth) -> dict[str, list[str]]:
    """Each path of the approval API (from its resources' parents) → its methods, sorted."""
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        above = path(parent["Ref"]) if isinstance(parent, dict) and "Ref" in parent else ""
        return f"{above}/{props['PathPart']}"

    routes: dict[str, list[str]] = {}
    for method in synth.of_type("AWS::ApiGateway::Method").values():
        props = method["Properties"]
        routes.setdefault(path(props["ResourceId"]["Ref"]), []).append(props["HttpMethod"])
    return {route: sorted(methods) for route, methods in routes.items()}


def test_every_page_the_emails_link_to_has_its_route_on_the_approval_api_and_nothing_else(synth):
    pages = ["GET", "HEAD", "POST"]
    assert api_routes(synth) == {
        "/a/{link_id}": pages,  # an approval
        "/a/{link_id}/brief.pdf": ["GET"],  # the client's one-page brief
        "/a/{link_id}/specimen/{file}": ["GET"],  # the specimen letter
        "/r/{link_id}": pages,  # a clinical review
        "/d/{digest_id}": pages,  # a digest
        "/d/{digest_id}/{index}": pages,  # one client of a digest
        "/d/{digest_id}/{index}/specimen/{file}": ["GET"],  # that client's specimen letter
    }
