"""Fault injection by Step Functions *task* (an ASL Task state), not by Lambda function.

Several tasks share a function (notify serves InformAccountTeam and InformClient; approval_request serves
AskAccountTeam and AskClient). moto invokes a function with the task's Payload only: the state's name never reaches
the dispatch layer. What does is the Payload the ASL builds, and the definition gives every Lambda task a Payload
that no other task of the same function has: a field with a fixed value (`"kind": "mandatory_client"`,
`"role": "account_team"`) or a different set of field names. So an invocation is matched to the one task whose Payload
it is, read from the definition itself (`LambdaTask.matches`); `test_each_task_is_told_apart_by_its_payload` fails
if two tasks ever become indistinguishable, and the injector records any invocation it cannot place.

Three places a fault is raised (`Fault.where`):

- "before": before the handler runs (FunctionRegistry.faults), as a Lambda service error or a handler error would be;
- "mid-send": inside the handler, from SES's send_raw_email after the invocation has already sent `after` emails, as
  the ClientError botocore raises once its own retries are spent (coach.adapters.mail turns it into Throttling);
- "mid-stream": inside the audience handler, from the claims engine's row stream once the first client's files are
  written to S3, as Athena's own modeled TooManyRequestsException.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from botocore.exceptions import ClientError
from coach.catalog import FUNCTION_NAMES

from coach_local.runtime import ASL_PATH, render_definition, substitutions

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"


# --- the state machine's tasks, read from the definition --------------------------------------------------------
def definition() -> dict:
    return json.loads(render_definition(ASL_PATH.read_text(encoding="utf-8"), substitutions()))


def _walk(states: dict, outer: tuple[str, ...] = ()) -> Iterator[tuple[str, tuple[str, ...], dict]]:
    """(state name, its path: the states it runs inside and itself, state) for every state, nested ones included."""
    for name, state in states.items():
        path = (*outer, name)
        yield name, path, state
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                yield from _walk(state[nested]["States"], path)
        for branch in state.get("Branches", []):
            yield from _walk(branch["States"], path)


def task_states() -> dict[str, dict]:
    """Every `Type: Task` state of the definition (Map ItemProcessors and Parallel branches included), by name."""
    found: dict[str, dict] = {}
    for name, _, state in _walk(definition()["States"]):
        if state.get("Type") == "Task":
            assert name not in found, f"two Task states named {name}"
            found[name] = state
    return found


@dataclass(frozen=True, eq=False)
class LambdaTask:
    name: str
    function: str  # the short name: coach-<function> in the definition
    path: tuple[str, ...]  # the Map states it runs inside, outermost first, and itself
    fields: frozenset[str]  # the Payload's field names
    constants: dict[str, Any]  # the Payload's fields with a fixed value
    retry: list[dict]

    def matches(self, function: str, event: object) -> bool:
        return (
            function == self.function
            and isinstance(event, dict)
            and set(event) == self.fields
            and all(event.get(k) == v for k, v in self.constants.items())
        )


def lambda_tasks() -> dict[str, LambdaTask]:
    tasks: dict[str, LambdaTask] = {}
    for name, path, state in _walk(definition()["States"]):
        if state.get("Type") != "Task" or not str(state.get("Resource", "")).startswith(LAMBDA_INVOKE):
            continue
        parameters = state["Parameters"]
        payload = parameters.get("Payload", {})
        tasks[name] = LambdaTask(
            name=name,
            function=re.sub(r"^.*:function:coach-", "", parameters["FunctionName"]),
            path=path,
            fields=frozenset(k.removesuffix(".$") for k in payload),
            constants={k: v for k, v in payload.items() if not k.endswith(".$")},
            retry=list(state.get("Retry", [])),
        )
    return tasks


def campaign_of(event: object) -> str | None:
    """Campaign-scoped invocations name their campaign; an EventBridge status change (the alert) does not."""
    if not isinstance(event, dict):
        return None
    for holder in (event, event.get("batch")):
        if isinstance(holder, dict) and isinstance(holder.get("campaign_id"), str):
            return str(holder["campaign_id"])
    return None


def client_of(event: dict) -> str | None:
    for holder in (event.get("client"), event.get("batch")):
        if isinstance(holder, dict) and isinstance(holder.get("client_id"), str):
            return str(holder["client_id"])
    return None


# --- what is planned ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fault:
    task: str
    error: str | None  # None: permanent (a RuntimeError, which nothing retries)
    where: str = "before"  # "before" | "mid-send" | "mid-stream"
    after: int = 1  # mid-send: the emails this invocation has sent when SES throttles

    @property
    def permanent(self) -> bool:
        return self.error is None


@dataclass
class _Running:
    """The task invocation running on this thread (the hook runs on the thread that then runs the handler)."""

    task: str
    campaign: str
    client: str | None
    number: int  # this task's n-th invocation for this campaign
    sends: int = 0  # SES sends this invocation made so far


class InjectedFault(Exception):
    """Raised before a handler; `error_type` is the name Lambda reports (dispatch.error_payload)."""

    def __init__(self, error_type: str) -> None:
        super().__init__("simulated: try again later")
        self.error_type = error_type


class Injector:
    """FunctionRegistry.faults for a matrix of campaigns: each fault fires only for the campaign it was planned for,
    and only at the task it was planned for."""

    def __init__(self) -> None:
        self.tasks = lambda_tasks()
        self.plans: dict[str, Fault] = {}  # campaign → its fault
        self.calls: Counter[tuple[str, str]] = Counter()  # (task, campaign) → invocations
        self.raised: Counter[tuple[str, str]] = Counter()  # (task, campaign) → faults raised
        self.raised_for: defaultdict[tuple[str, str], set[str]] = defaultdict(set)  # → clients it hit
        self.sent_before: dict[tuple[str, str], int] = {}  # mid-send: emails the invocation had sent
        self.unplaced: list[str] = []  # invocations of a task's function that matched no task, or two
        self._local = threading.local()
        self._lock = threading.Lock()

    def plan(self, campaign_id: str, fault: Fault) -> None:
        assert fault.task in self.tasks, fault
        self.plans[campaign_id] = fault

    def fix(self) -> None:
        """The operator fixed the cause: no fault fires any more."""
        self.plans.clear()

    def task_of(self, function: str, event: object) -> str | None:
        matched = [t.name for t in self.tasks.values() if t.matches(function, event)]
        if len(matched) == 1:
            return matched[0]
        if matched or (
            any(t.function == function for t in self.tasks.values()) and campaign_of(event) is not None
        ):
            with self._lock:
                self.unplaced.append(f"{function}: {sorted(event) if isinstance(event, dict) else event!r}")
        return None

    # --- before the handler --------------------------------------------------------------------------------------
    def faults(self) -> dict[str, Callable[[dict], None]]:
        """A hook for every function, so every invocation resets what this thread is running."""
        return {name: partial(self._before, name) for name in FUNCTION_NAMES}

    def _before(self, function: str, event: dict) -> None:
        self._local.running = None
        task, campaign = self.task_of(function, event), campaign_of(event)
        if task is None or campaign is None:
            return
        key = (task, campaign)
        with self._lock:
            self.calls[key] += 1
            running = _Running(task, campaign, client_of(event), self.calls[key])
            self._local.running = running
            fault = self.plans.get(campaign)
            if fault is None or fault.task != task or fault.where != "before":
                return
            if not (fault.permanent or running.number == 1):
                return
            self.raised[key] += 1
            if running.client:
                self.raised_for[key].add(running.client)
        if fault.error is None:
            raise RuntimeError(f"simulated: {task} is broken")
        raise InjectedFault(fault.error)

    def _due(self, where: str) -> tuple[_Running, Fault] | None:
        """The fault planned `where` for the task running on this thread, if it has not fired yet."""
        running: _Running | None = getattr(self._local, "running", None)
        if running is None:
            return None
        fault = self.plans.get(running.campaign)
        if fault is None or fault.where != where or fault.task != running.task:
            return None
        if self.raised[(running.task, running.campaign)]:
            return None
        return running, fault

    def _fire(self, running: _Running) -> bool:
        key = (running.task, running.campaign)
        with self._lock:
            if self.raised[key]:
                return False
            self.raised[key] += 1
            if running.client:
                self.raised_for[key].add(running.client)
            return True

    # --- inside the handler: SES -------------------------------------------------------------------------------
    def _before_send(self) -> None:
        due = self._due("mid-send")
        running: _Running | None = getattr(self._local, "running", None)
        if due is not None and due[0].sends >= due[1].after and self._fire(due[0]):
            self.sent_before[(due[0].task, due[0].campaign)] = due[0].sends
            code = str(due[1].error)
            raise ClientError(
                {"Error": {"Code": code, "Message": "Maximum sending rate exceeded."}}, "SendRawEmail"
            )
        if running is not None:
            running.sends += 1

    # --- inside the handler: the claims engine -----------------------------------------------------------------
    def _rows(self, rows: Iterator[dict]) -> Iterator[dict]:
        due = self._due("mid-stream")
        if due is None:
            yield from rows
            return
        clients: list[str] = []
        for number, row in enumerate(rows):
            if len(clients) == 2 and self._fire(due[0]):
                # the first client's batches, batches.json and contacts.json are in S3; the second client has begun
                self.sent_before[(due[0].task, due[0].campaign)] = number
                raise athena_throttling(str(due[1].error))
            if row["client_id"] not in clients:
                clients.append(row["client_id"])
            yield row

    @contextmanager
    def inside_handlers(self) -> Iterator[None]:
        """Route SES sends and the claims engine's rows through the injector while the runtime runs."""
        import coach.adapters.mail as mail
        from coach.adapters.aws import client as real_client

        from coach_local.claims.duckdb_engine import DuckDbClaimsEngine

        injector = self

        class Ses:
            def __init__(self, real: Any) -> None:
                self._real = real

            def __getattr__(self, name: str) -> Any:
                return getattr(self._real, name)

            def send_raw_email(self, **kwargs: Any) -> Any:
                injector._before_send()
                return self._real.send_raw_email(**kwargs)

        def client(service: str, region: str | None = None) -> Any:
            real = real_client(service, region)
            return Ses(real) if service == "ses" else real

        audience_rows = DuckDbClaimsEngine.audience_rows

        def rows(engine: DuckDbClaimsEngine, params: Any) -> Iterator[dict]:
            return injector._rows(audience_rows(engine, params))

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(mail, "client", client)
            patch.setattr(DuckDbClaimsEngine, "audience_rows", rows)
            yield


def athena_throttling(code: str) -> ClientError:
    """What botocore raises when Athena throttles past every retry: the modeled class (its name is the error code,
    which is what Lambda reports as errorType)."""
    from coach.adapters.aws import client

    error: ClientError = getattr(client("athena").exceptions, code)(
        {"Error": {"Code": code, "Message": "Rate exceeded"}}, "GetQueryExecution"
    )
    return error
