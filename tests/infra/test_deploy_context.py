"""The deploy's context parameters (docs/deploy.md) reach the template: a verified sending domain with Easy DKIM
and its DNS records as outputs, the letters batch size and map concurrency; bad values stop the synth with the
parameter's name."""

from __future__ import annotations

import pytest

from app import build
from tests.infra.synth import EXTERNAL_LAKE, stub_app, synthesized


def environments(synth) -> list[dict]:
    return [
        f["Properties"]["Environment"]["Variables"] for f in synth.of_type("AWS::Lambda::Function").values()
    ]


def test_a_sender_domain_is_verified_with_easy_dkim_and_its_dns_records_are_outputs():
    synth = synthesized(external_lake=True)
    [identity] = synth.of_type("AWS::SES::EmailIdentity").values()
    props = identity["Properties"]
    assert props["EmailIdentity"] == EXTERNAL_LAKE["sender_domain"]
    assert props["DkimSigningAttributes"] == {"NextSigningKeyLength": "RSA_2048_BIT"}
    assert props["DkimAttributes"] == {"SigningEnabled": True}
    outputs = synth.template.to_json()["Outputs"]
    assert {"DkimRecord1", "DkimRecord2", "DkimRecord3"} <= set(outputs)


def test_without_a_domain_only_the_sender_address_is_an_identity():
    [identity] = synthesized().of_type("AWS::SES::EmailIdentity").values()
    assert identity["Properties"]["EmailIdentity"] == "pharmacist@pbm.example"
    assert "DkimRecord1" not in synthesized().template.to_json().get("Outputs", {})


def test_letters_batching_comes_from_the_context():
    produced = [env for env in environments(synthesized(external_lake=True)) if "BATCH_SIZE" in env]
    assert produced and all(env["BATCH_SIZE"] == "5000" for env in produced)
    assert all(env["LETTERS_MAX_CONCURRENCY"] == "20" for env in produced)
    defaults = [env for env in environments(synthesized()) if "BATCH_SIZE" in env]
    assert all(env["BATCH_SIZE"] == "2000" and env["LETTERS_MAX_CONCURRENCY"] == "50" for env in defaults)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        (
            {"letters_batch_size": "50"},
            "-c letters_batch_size=50: expected a whole number between 100 and 20000",
        ),
        ({"letters_max_concurrency": "many"}, "-c letters_max_concurrency='many': expected a whole number"),
        ({"letters_max_concurrency": "0"}, "-c letters_max_concurrency=0: expected a whole number between 1"),
    ],
)
def test_a_bad_batching_value_stops_the_synth_naming_it(tmp_path, context, message):
    with pytest.raises(SystemExit) as stopped:
        build(stub_app(tmp_path, **context))
    assert str(stopped.value).startswith(message)


def test_a_sender_outside_the_sender_domain_is_refused(tmp_path):
    app = stub_app(tmp_path, sender_email="pharmacist@other.example", sender_domain="pbm.example")
    with pytest.raises(ValueError, match="is not in sender_domain pbm.example"):
        build(app)
