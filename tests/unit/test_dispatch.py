"""The in-process Lambda shim: moto's interpreter reaches the real handler files, errors keep their type."""

import json

import pytest
from coach.catalog import FUNCTION_NAMES
from moto.awslambda_simple.models import LambdaSimpleBackend

from coach_local import dispatch

# The backend moto passes to an invoke; the shim never reads it.
BACKEND = LambdaSimpleBackend("us-east-1", "123456789012")


def test_every_deployed_function_has_a_handler_file():
    for name in FUNCTION_NAMES:
        assert (dispatch.FUNCTIONS_DIR / name / "handler.py").exists(), name


def test_invocation_routes_by_function_name_and_arn(monkeypatch):
    registry = dispatch.FunctionRegistry()
    seen = []

    def handler(name):
        def answer(event, context):
            seen.append((name, event))
            return {"ok": name}

        return answer

    monkeypatch.setattr(registry, "handler", handler)
    dispatch.install(registry)
    try:
        headers: dict = {}
        body = dispatch._dispatching_invoke(
            BACKEND, dispatch.function_arn("summary"), None, json.dumps({"a": 1}), {}, headers
        )
        assert json.loads(body) == {"ok": "summary"} and "x-amz-function-error" not in headers
        dispatch._dispatching_invoke(BACKEND, "coach-audience", None, "{}", {}, {})
    finally:
        dispatch.uninstall()
    assert seen == [("summary", {"a": 1}), ("audience", {})]


def test_handler_error_becomes_a_lambda_function_error_with_its_type(monkeypatch):
    class LettersFailed(Exception):
        pass

    registry = dispatch.FunctionRegistry()

    def boom(event, context):
        raise LettersFailed("batch 3 could not be written")

    monkeypatch.setattr(registry, "handler", lambda name: boom)
    dispatch.install(registry)
    try:
        headers: dict = {}
        payload = json.loads(dispatch._dispatching_invoke(BACKEND, "coach-letters", None, "{}", {}, headers))
    finally:
        dispatch.uninstall()
    assert headers["x-amz-function-error"] == "Unhandled"
    assert payload["errorType"] == "LettersFailed"


def test_unknown_function_is_refused():
    with pytest.raises(LookupError):
        dispatch._function_from("someone-elses-function")
