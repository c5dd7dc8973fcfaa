"""In-process Lambda dispatch (docs/architecture.md, decision 1): moto's Step Functions interpreter invokes a function by name and
this shim runs the very `functions/<name>/handler.py` that AWS runs, returning its result or its error."""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from moto.awslambda_simple.models import LambdaSimpleBackend

FUNCTIONS_DIR = Path(__file__).resolve().parent.parent / "functions"
FUNCTION_PREFIX = "coach-"


@dataclass
class FakeLambdaContext:
    function_name: str
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = ""
    aws_request_id: str = ""

    @classmethod
    def of(cls, name: str) -> FakeLambdaContext:
        """The context of one invocation of our function `name` (a fresh request id)."""
        return cls(
            function_name=FUNCTION_PREFIX + name,
            invoked_function_arn=function_arn(name),
            aws_request_id=str(uuid.uuid4()),
        )

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _load(name: str) -> ModuleType:
    path = FUNCTIONS_DIR / name / "handler.py"
    if not path.exists():
        raise LookupError(f"no handler for function {name!r} at {path}")
    spec = importlib.util.spec_from_file_location(f"coach_functions.{name}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FunctionRegistry:
    """Loads each handler once, by file path, as Lambda would from its own asset."""

    def __init__(self) -> None:
        self._modules: dict[str, ModuleType] = {}
        self._lock = threading.Lock()
        # Fault injection for tests: name → callable run before the handler (raise to simulate a fault).
        self.faults: dict[str, Callable[[dict], None]] = {}
        # Function errors of this run (type and message; handlers never put member data in messages).
        self.errors: list[tuple[str, str, str]] = []
        # Every invocation (function, wall-clock start and end, succeeded?): the report's per-stage timings.
        self.invocations: list[Invocation] = []
        # Set to a list to record every invocation's input and output (or error): what Step Functions keeps in a
        # task's history events, in the child executions too, and what the approval pages show a browser.
        self.calls: list[Call] | None = None
        # Called with (function, event) as each invocation starts (the answer clock learns which wait asks what).
        self.listeners: list[Callable[[str, dict], None]] = []
        # Where handlers run when not here: the runtime's function workers (coach_local/runtime/function_workers.py)
        self.remote: RemoteFunctions | None = None

    def handler(self, name: str) -> Callable[[dict, Any], Any]:
        with self._lock:
            if name not in self._modules:
                self._modules[name] = _load(name)
            return self._modules[name].handler

    def invoke(self, name: str, event: dict) -> Any:
        started, ok, in_worker = time.time(), False, False
        calls = self.calls
        received = _snapshot(event) if calls is not None else None  # as received: a handler may change it
        try:
            for listener in self.listeners:
                listener(name, event)
            if name in self.faults:
                self.faults[name](event)
            context = FakeLambdaContext.of(name)
            remote = self.remote
            if remote is not None and remote.runs(name):
                in_worker = True
                result = remote.invoke(name, event)
            else:
                with invocation_log_keys(context):
                    result = self.handler(name)(event, context)
            ok = True
            if calls is not None:
                calls.append(Call(name, _campaign_of(event), received, _snapshot(result)))
            return result
        except Exception as exc:
            self.errors.append((name, type(exc).__name__, str(exc)[:500]))
            if calls is not None:
                calls.append(Call(name, _campaign_of(event), received, None, error_payload(exc)))
            raise
        finally:
            if not in_worker:  # a worker drops its own
                forget_unpublished_metrics()
            self.invocations.append(
                Invocation(name, _campaign_of(event), started, time.time(), ok, in_worker)
            )


class RemoteFunctions(Protocol):
    def runs(self, name: str) -> bool: ...

    def invoke(self, name: str, event: Any) -> Any: ...


@dataclass(frozen=True)
class Invocation:
    function: str
    campaign_id: str | None
    started: float
    finished: float
    ok: bool
    in_worker: bool = False  # run by a function worker process (coach_local/runtime/function_workers.py)


@dataclass(frozen=True)
class Call:
    """One invocation as Step Functions records it: the payload sent, and the payload or error returned."""

    function: str
    campaign_id: str | None
    event: Any
    result: Any
    error: dict | None = None


@contextmanager
def invocation_log_keys(context: FakeLambdaContext) -> Iterator[None]:
    """The Lambda context's keys on this thread's log lines only, for the length of one invocation.

    Powertools' `inject_lambda_context` puts them on the logger itself, which every handler shares. One Lambda
    container runs one invocation at a time, so that is right on AWS; locally many invocations run at once in
    threads, and a line logged by one function carried the name of whichever had started last (a letters batch
    logged as coach-approval_api). Keys set per thread are applied after the logger's own."""
    from aws_lambda_powertools.logging.formatter import clear_context_keys, set_context_keys

    set_context_keys(
        function_name=context.function_name,  # type: ignore[arg-type]
        function_memory_size=context.memory_limit_in_mb,  # type: ignore[arg-type]
        function_arn=context.invoked_function_arn,  # type: ignore[arg-type]
        function_request_id=context.aws_request_id,  # type: ignore[arg-type]
    )
    try:
        yield
    finally:
        clear_context_keys()


def forget_unpublished_metrics() -> None:
    """Drop the metrics an invocation added when none are published (POWERTOOLS_METRICS_DISABLED, as locally).

    Powertools keeps unpublished metrics, and once one of them holds 100 values it prints the whole set to stdout
    as CloudWatch EMF, disabled or not: in a campaign of a hundred clients that put EMF lines into `coach run
    --json`'s output. A Lambda container publishes after each invocation; locally nothing is published, so each
    invocation's metrics are dropped at its end."""
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled
    from coach.observability import metrics

    if is_metrics_disabled():
        metrics.clear_metrics()


def _snapshot(value: Any) -> Any:
    """A JSON copy of `value`, as it went over the wire at that moment."""
    return json.loads(json.dumps(value, default=str))


def _campaign_of(event: object) -> str | None:
    """The campaign an invocation worked for, where its input names it (approval clicks do not)."""
    if not isinstance(event, dict):
        return None
    for holder in (event, event.get("batch"), event.get("request")):
        if isinstance(holder, dict) and isinstance(holder.get("campaign_id"), str):
            return str(holder["campaign_id"])
    return None


def function_arn(name: str, region: str = "us-east-1", account: str = "123456789012") -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{FUNCTION_PREFIX}{name}"


def _function_from(function_name: str) -> str:
    short = function_name.rsplit(":", 1)[-1] if function_name.startswith("arn:") else function_name
    if not short.startswith(FUNCTION_PREFIX):
        raise LookupError(f"function {function_name!r} is not one of ours")
    return short[len(FUNCTION_PREFIX) :]


def error_payload(exc: BaseException) -> dict:
    """What Lambda returns for an unhandled error; Step Functions matches `errorType` in Retry/Catch."""
    return {
        "errorType": getattr(exc, "error_type", None) or type(exc).__name__,
        "errorMessage": str(exc)[:1000],
        "stackTrace": traceback.format_tb(exc.__traceback__)[-3:],
    }


_original_invoke = LambdaSimpleBackend.invoke
_active: FunctionRegistry | None = None


def _dispatching_invoke(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    assert _active is not None
    name = _function_from(function_name)
    event = json.loads(body) if body else {}
    try:
        result = _active.invoke(name, event)
    except Exception as exc:
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps(error_payload(exc)).encode()
    return json.dumps(result).encode()


def quiet_metrics_warning() -> None:
    """Powertools warns on stderr whenever a handler ends with no metric to publish; locally none is ever published
    (POWERTOOLS_METRICS_DISABLED), so the warning only cluttered `coach run`'s terminal."""
    import warnings

    warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)


def install(registry: FunctionRegistry) -> None:
    global _active
    _active = registry
    quiet_metrics_warning()
    LambdaSimpleBackend.invoke = _dispatching_invoke  # type: ignore[method-assign]


def uninstall() -> None:
    global _active
    _active = None
    LambdaSimpleBackend.invoke = _original_invoke  # type: ignore[method-assign]
