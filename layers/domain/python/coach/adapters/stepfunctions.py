"""Step Functions, the one place that knows its API: task-token callbacks, starting a campaign, and reading
executions (the execution-ARN rule, history paging, the path of states down to a failure, whether one runs).

Every reader works without execution data (state names and error names only): the execution's input and output
stay encrypted, and a history read here never carries a member field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.observability import logger


def execution_arn(state_machine_arn: str, execution_name: str) -> str:
    """A campaign's execution is named after it (intake), and a redrive keeps the same execution."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + execution_name


def state_machine_arn(name_or_arn: str, *, region: str, account: str) -> str:
    if name_or_arn.startswith("arn:"):
        return name_or_arn
    return f"arn:aws:states:{region}:{account}:stateMachine:{name_or_arn}"


def _paged(sfn: Any, operation: str, result: str, **kwargs: Any) -> Iterator[dict]:
    while True:
        page = getattr(sfn, operation)(**kwargs)
        yield from page[result]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def history(execution: str, *, sfn: Any = None, with_data: bool = False) -> list[dict]:
    """Every event of an execution's history, oldest first (all pages)."""
    return list(
        _paged(
            sfn or client("stepfunctions"),
            "get_execution_history",
            "events",
            executionArn=execution,
            maxResults=1000,
            includeExecutionData=with_data,
        )
    )


def executions(state_machine: str, *, sfn: Any = None) -> list[dict]:
    """Every execution of a state machine (all pages)."""
    return list(
        _paged(sfn or client("stepfunctions"), "list_executions", "executions", stateMachineArn=state_machine)
    )


def _failed_child(sfn: Any, execution: str) -> str | None:
    """A failed child execution of the execution's newest map run that has failed ones (Distributed Map)."""
    runs = sfn.list_map_runs(executionArn=execution).get("mapRuns", [])
    for run in sorted(runs, key=lambda r: r.get("startDate") or 0, reverse=True):
        failed = sfn.list_executions(mapRunArn=run["mapRunArn"], statusFilter="FAILED", maxResults=1)
        if failed.get("executions"):
            return str(failed["executions"][0]["executionArn"])
    return None


def failed_states(execution: str, depth: int = 3, *, sfn: Any = None) -> tuple[list[str], str | None]:
    """The path of states down to where the campaign really failed — a Distributed Map fails as a whole
    (States.ExceedToleratedFailureThreshold) when one of its child executions fails, so look inside the failed
    child, and inside its own map — and the innermost failure's error name. Anything unreadable (a permission, a
    throttle) stops the descent: the alert then names the outer stage, as it always could."""
    sfn = sfn or client("stepfunctions")
    path: list[str] = []
    error: str | None = None
    arn: str | None = execution
    while arn is not None and depth > 0:
        current = arn
        events = history(current, sfn=sfn)
        entered = [
            e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")
        ]
        if not entered:
            break
        path.append(entered[-1])
        failed = [e["executionFailedEventDetails"] for e in events if e.get("executionFailedEventDetails")]
        if failed and failed[-1].get("error"):
            error = str(failed[-1]["error"])
        depth -= 1
        if depth == 0:
            break
        try:
            arn = _failed_child(sfn, current)
        except Exception:  # an alert with the outer stage beats no alert
            logger.warning(
                "could not look inside the failed map run", extra={"execution": current.rsplit(":", 1)[-1]}
            )
            break
    return path, error


def is_running(execution: str, *, sfn: Any = None) -> bool:
    """Metadata only: a reader of this needs no key to the execution's encrypted input and output."""
    sfn = sfn or client("stepfunctions")
    try:
        described = sfn.describe_execution(executionArn=execution, includedData="METADATA_ONLY")
    except sfn.exceptions.ExecutionDoesNotExist:
        return False
    return bool(described["status"] == "RUNNING")


class StepFunctionsCallbacks:
    def succeed(self, task_token: str, output: dict) -> None:
        client("stepfunctions").send_task_success(taskToken=task_token, output=json.dumps(output))

    def fail(self, task_token: str, error: str, cause: str) -> None:
        client("stepfunctions").send_task_failure(taskToken=task_token, error=error, cause=cause)


class StateMachineStarter:
    def __init__(self, state_machine_arn: str) -> None:
        self._arn = state_machine_arn

    # StartExecution of a Standard workflow is idempotent: the same name and input as a *running* execution
    # succeeds and returns that execution (with its own startDate); only a closed execution or another input
    # raises ExecutionAlreadyExists. A start dated well before this call is therefore a repeat delivery. The
    # margin covers clock skew; a repeat within it is reported as started (there is still one execution).
    REPEAT_MARGIN = timedelta(seconds=2)

    def start(self, name: str, input_json: str) -> bool:
        asked_at = datetime.now(UTC)
        try:
            response = client("stepfunctions").start_execution(
                stateMachineArn=self._arn, name=name, input=input_json
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return False
            raise
        started_at = response["startDate"]
        if started_at.tzinfo is None:
            started_at = started_at.replace(tzinfo=UTC)
        return bool(started_at >= asked_at - self.REPEAT_MARGIN)
