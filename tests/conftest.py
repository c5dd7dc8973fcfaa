"""What many tests share: the environment a Lambda function sees, loading a handler as Lambda does, and a fresh
set of cached adapters around each test that builds them."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ROOT / "functions"

# What every function gets from the stack, with test values (moto accepts any credentials).
FUNCTION_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "DATA_BUCKET": "data",
    "LETTERS_BUCKET": "letters",
    "APPROVALS_TABLE": "approvals",
    "SENDER_EMAIL": "p@pbm.example",
    "APPROVAL_BASE_URL": "https://approve.example",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "AutomatedPharmacist",
}


def load_handler(name: str, module_name: str | None = None) -> ModuleType:
    """`functions/<name>/handler.py`, loaded from its file as Lambda loads it from its own asset (a fresh module
    each call, so a test may patch it freely)."""
    spec = importlib.util.spec_from_file_location(
        module_name or f"test_functions.{name}", FUNCTIONS / name / "handler.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def set_function_env(patch: pytest.MonkeyPatch, **overrides: str) -> None:
    """The function environment (FUNCTION_ENV with overrides); AUDIT_BUCKET only when a test gives one."""
    patch.delenv("AUDIT_BUCKET", raising=False)
    for name, value in {**FUNCTION_ENV, **overrides}.items():
        patch.setenv(name, value)


@pytest.fixture
def fresh_adapters() -> Iterator[None]:
    """coach.runtime's cached adapters and settings, forgotten before and after the test."""
    from coach import runtime

    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for every AWS service, test credentials and region, and coach's cached clients made inside it."""
    from coach import runtime
    from moto import mock_aws

    for name in ("AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, FUNCTION_ENV[name])
    with mock_aws():
        runtime.reset()
        yield
    runtime.reset()
