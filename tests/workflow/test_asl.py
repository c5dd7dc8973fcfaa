"""The state machine definition: valid ASL, every human wait bounded, every substitution known."""

import json
import subprocess
from pathlib import Path

import pytest

from coach_local.runtime import ASL_PATH, render_definition, substitutions

ROOT = Path(__file__).resolve().parents[2]


def all_states(definition):
    for name, state in definition["States"].items():
        yield name, state
        processor = state.get("ItemProcessor") or state.get("Iterator")
        if processor:
            yield from all_states(processor)
        for branch in state.get("Branches", []):
            yield from all_states(branch)


@pytest.fixture(scope="module")
def definition():
    return json.loads(render_definition(ASL_PATH.read_text(), substitutions()))


def test_asl_validator_accepts_every_definition():
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    if not validator.exists():
        pytest.fail("asl-validator is not installed: run `make install` (npm ci)")
    for path in sorted((ROOT / "step_definitions").glob("*.json")):
        rendered = render_definition(path.read_text(), substitutions())
        result = subprocess.run(
            [str(validator), "--json-definition", rendered], capture_output=True, text=True
        )
        assert result.returncode == 0, f"{path.name}: {result.stdout}{result.stderr}"


def test_every_callback_wait_has_a_timeout_and_catches_it(definition):
    waits = [(n, s) for n, s in all_states(definition) if s.get("Resource", "").endswith(".waitForTaskToken")]
    assert waits, "the campaign must wait for people somewhere"
    for name, state in waits:
        assert "TimeoutSeconds" in state or "TimeoutSecondsPath" in state, name
        caught = {e for c in state.get("Catch", []) for e in c["ErrorEquals"]}
        assert "States.Timeout" in caught, name


def test_letters_map_reads_batches_from_s3_and_tolerates_no_failure(definition):
    states = dict(all_states(definition))
    letters = states["Letters"]
    assert letters["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
    assert letters["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert "ResultWriter" in letters and letters.get("ToleratedFailurePercentage", 0) == 0
    assert letters["MaxConcurrencyPath"] == "$.letters_max_concurrency"  # from configuration, not hard-coded


def test_no_unknown_substitution_left(definition):
    assert "${" not in json.dumps(definition)
    with pytest.raises(KeyError, match="Nope"):
        render_definition('{"x": "${Nope}"}', substitutions())


def test_state_payloads_pass_no_member_fields(definition):
    text = json.dumps(definition)
    for field in ("first_name", "last_name", "address_line1", "postal_code", 'email"'):
        assert field not in text


def test_asl_validator_rejects_a_broken_definition():
    validator = ROOT / "node_modules" / ".bin" / "asl-validator"
    broken = json.dumps({"StartAt": "Missing", "States": {"A": {"Type": "Pass", "Next": "Nowhere"}}})
    result = subprocess.run([str(validator), "--json-definition", broken], capture_output=True, text=True)
    assert result.returncode != 0
