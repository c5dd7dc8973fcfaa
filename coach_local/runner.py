"""One campaign on the local runtime, from an event file and a lake folder to OUT (outbox, letters, report)."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.intake import campaign_id_for, parse_event

from coach_local.approver import ApprovalEmail, Decisions, ForwardLinks, Inbox, auto_approver
from coach_local.dispatch import Call
from coach_local.inputs import BadInput, review_choice
from coach_local.insights import stage_timings, templates_used
from coach_local.outputs import OutputClash, claim, publish
from coach_local.report_html import write_report
from coach_local.reviewer import ClinicalReviewer
from coach_local.runtime import LocalRuntime


@dataclass
class RunResult:
    status: str
    campaign_id: str
    report: dict[str, Any] | None
    out_dir: Path
    seconds: float
    error: str | None = None
    watcher_errors: list[str] | None = None
    function_errors: list[tuple[str, str, str]] | None = None
    # every function invocation's input and output (or error): what the task events of the histories hold
    calls: list[Call] | None = None


def export_audit(campaign_id: str) -> dict:
    """The append-only decision records of the campaign, read from the local approvals table."""
    from coach.approvals.trail import audit_trail
    from coach.runtime import approval_store

    records = audit_trail(campaign_id, store=approval_store())
    return {"campaign_id": campaign_id, "decisions": [r.model_dump(mode="json") for r in records]}


def prepare_out(out_dir: Path) -> None:
    """Each run starts from an empty outbox and letters folder, so OUT shows exactly this run."""
    for name in ("outbox", "letters", "prescriber-notices", "logs"):
        shutil.rmtree(out_dir / name, ignore_errors=True)
    for name in ("report.json", "report.html", "audit.json", "status.json"):
        (out_dir / name).unlink(missing_ok=True)
    out_dir.mkdir(parents=True, exist_ok=True)


def peak_memory_mib(workers: list[int]) -> dict[str, Any]:
    """Peak resident memory in MiB of this process and of each function worker (as it reported when it stopped):
    added, an upper bound of what the run held at once."""
    from coach_local.runtime.function_workers import peak_memory_kib

    return {
        "runtime": peak_memory_kib() // 1024,
        "workers": workers,
        "total": peak_memory_kib() // 1024 + sum(workers),
    }


def check_lake(lake_dir: Path, event: dict | None = None) -> None:
    """Every rule of `coach lake check` before anything starts: any error is BadInput (one line: file, column)."""
    from coach_local.claims.check import check_lake as lake_check
    from coach_local.claims.lake import LakeError, check_clients

    if not lake_dir.is_dir():
        raise BadInput(f"{lake_dir}: no such lake folder")
    from coach.review.intake import split_candidate

    announced_on = parse_event(split_candidate(event)[0]).detail.announced_on if event is not None else None
    report = lake_check(lake_dir, announced_on=announced_on)
    if report.errors:
        raise BadInput(report.summary_line())
    try:  # the contacts a header or an approval link will carry (one address each, no control characters)
        check_clients(lake_dir)
    except LakeError as exc:
        raise BadInput(str(exc)) from exc


def check_lake_while_loading(lake_dir: Path, event: dict | None = None) -> None:
    """check_lake, while another thread loads what the run will need later (preload). The check is DuckDB's work,
    done outside the interpreter lock, so the two take the time of the longer: a second of a 100k campaign. The
    check stays in this thread, so Ctrl-C stops it as before; nothing is started or written before the lake is
    known to be good."""
    loading = threading.Thread(target=_preload_quietly, name="preload", daemon=True)
    loading.start()
    check_lake(lake_dir, event)
    loading.join()


def _preload_quietly() -> None:
    # only a head start: a module that fails to load here fails again where the run first uses it, and says so there
    with contextlib.suppress(Exception):
        preload()


# the moto services a local run uses (coach_local.runtime.provisioning and the handlers' clients)
LOCAL_SERVICES = (
    "dynamodb",
    "s3",
    "ses",
    "stepfunctions",
    "lambda",
    "events",
    "logs",
    "sqs",
    "iam",
    "cloudwatch",
)


def preload() -> None:
    """Load what a run loads on first use anyway, creating no state: moto's services, the AWS API descriptions
    boto3 builds its clients from (kept by the default session's loader), and matplotlib for the report."""
    import boto3
    from moto.backends import get_backend

    from coach_local.report_html import pyplot

    session = boto3._get_default_session()._session
    for service in LOCAL_SERVICES:
        get_backend(service)  # type: ignore[call-overload]
        session.get_service_model(service)
    pyplot()


class MapRunRecorder:
    """Keeps the history events of every Distributed Map's child executions, which moto otherwise drops.

    moto 5.2.5 runs a Distributed Map's children in-process, not as executions: the map run gets a fresh
    EventManager for its iterations (`DistributedIterationComponent._eval_body`) and drops it when the run ends, so
    neither GetExecutionHistory nor ListExecutions(mapRunArn=…) returns their events. On AWS each child is an
    execution with its own history, holding the payloads of the tasks inside the map (approvals, notices, letters,
    outcomes). While recording, every map run's EventManager (nested ones too: Letters runs inside ForEachClient)
    is kept with its map run's ARN and state name. Behaviour is unchanged: only a reference is kept."""

    def __init__(self) -> None:
        self._runs: list[tuple[str, str, Any]] = []  # (map run ARN, Map state, its EventManager)
        self._current = threading.local()  # the map run being started on this thread

    def histories(self, listed: list[str]) -> list[dict[str, Any]]:
        """Every map run's events; `listed` (ListMapRuns) are all there, with `events: null` where none were kept."""
        runs = [
            {"mapRunArn": arn, "state": state, "events": manager.get_event_history()}
            for arn, state, manager in list(self._runs)
        ]
        kept = {run["mapRunArn"] for run in runs}
        return runs + [{"mapRunArn": arn, "state": None, "events": None} for arn in listed if arn not in kept]

    @contextmanager
    def recording(self) -> Iterator[MapRunRecorder]:
        from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import (
            distributed_iteration_component as module,
        )

        component, manager_class = module.DistributedIterationComponent, module.EventManager
        original_eval_body = component._eval_body
        recorder = self

        class RecordedEventManager(manager_class):  # type: ignore[misc,valid-type]
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, **kwargs)
                arn, state = getattr(recorder._current, "map_run", None) or ("unknown", "unknown")
                recorder._runs.append((arn, state, self))

        def eval_body(component_self: Any, env: Any) -> None:
            eval_input = env.stack[-1]  # what the original pops: the map run's record and state name
            record = getattr(eval_input, "map_run_record", None)
            previous = getattr(recorder._current, "map_run", None)
            recorder._current.map_run = (
                getattr(record, "map_run_arn", "unknown"),
                getattr(eval_input, "state_name", "unknown"),
            )
            try:
                original_eval_body(component_self, env)
            finally:
                recorder._current.map_run = previous

        module.EventManager = RecordedEventManager  # type: ignore[misc]
        component._eval_body = eval_body  # type: ignore[method-assign,assignment]
        try:
            yield self
        finally:
            component._eval_body = original_eval_body  # type: ignore[method-assign]
            module.EventManager = manager_class  # type: ignore[misc]


# `"task_token": "…"` in a task's parameters, also where they are a JSON string (`\"task_token\": \"…\"`)
TASK_TOKEN = re.compile(r'(task_token\\*"\s*:\s*\\*")[^"\\]*')


def without_task_tokens(text: str) -> str:
    """The approval tasks' parameters carry their task tokens, which complete the wait: nothing in OUT shows one."""
    return TASK_TOKEN.sub(r"\1<task token>", text)


def map_run_arns(runtime: LocalRuntime, execution_arn: str) -> list[str]:
    """Every map run of the execution, nested ones included (moto keeps one pool per execution)."""
    from botocore.exceptions import ClientError

    try:
        runs = runtime.client("stepfunctions").list_map_runs(executionArn=execution_arn)["mapRuns"]
    except ClientError:  # no such execution: the event started none
        return []
    return [str(run["mapRunArn"]) for run in runs]


class ProgressReporter:
    """Calls `on_progress` twice a second with each long stage's (done, total) while the campaign runs."""

    def __init__(
        self,
        runtime: LocalRuntime,
        campaign_id: str,
        on_progress: Callable[[dict[str, tuple[int, int]]], None],
    ) -> None:
        self.runtime, self.campaign_id, self.on_progress = runtime, campaign_id, on_progress
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="coach-progress", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._report()

    def _loop(self) -> None:
        while not self._stop.wait(0.5):
            self._report()

    def _report(self) -> None:
        try:
            self.on_progress(self.runtime.progress(self.campaign_id))
        except Exception:  # progress is best effort; it never stops a campaign
            return


def run_campaign(
    event: dict,
    lake_dir: Path,
    out_dir: Path,
    *,
    decisions: Decisions | None = None,
    interactive: bool = False,
    on_link: Any = None,
    time_scale: float | None = None,
    port: int = 0,
    timeout: float | None = None,
    batch_size: int = 500,
    faults: dict[str, Any] | None = None,
    on_progress: Callable[[dict[str, tuple[int, int]]], None] | None = None,
    render_processes: int = 0,
    function_processes: int = 0,
    measurement_overrides: dict | None = None,
) -> RunResult:
    """Check the lake and the event, then run the campaign into OUT (coach_local.outputs: one campaign per
    folder; a failed run never touches an earlier run's output)."""
    check_lake_while_loading(lake_dir, event)
    campaign_id = campaign_id_for(event["detail"]["event_id"])
    try:
        work = claim(out_dir, campaign_id)
    except OutputClash as exc:
        raise BadInput(str(exc)) from exc
    succeeded = False
    try:
        result = _run(
            event,
            lake_dir,
            work,
            decisions=decisions,
            interactive=interactive,
            on_link=on_link,
            time_scale=time_scale,
            port=port,
            timeout=timeout,
            batch_size=batch_size,
            faults=faults,
            on_progress=on_progress,
            render_processes=render_processes,
            function_processes=function_processes,
            measurement_overrides=measurement_overrides,
        )
        succeeded = result.status == "SUCCEEDED"
    finally:
        where, note = publish(out_dir, work, campaign_id, succeeded=succeeded)
    result.out_dir = where
    if note:
        result.error = f"{result.error or 'failed'} ({note})"
    return result


def _run(
    event: dict,
    lake_dir: Path,
    out_dir: Path,
    *,
    decisions: Decisions | None = None,
    interactive: bool = False,
    on_link: Any = None,
    time_scale: float | None = None,
    port: int = 0,
    timeout: float | None = None,
    batch_size: int = 500,
    faults: dict[str, Any] | None = None,
    on_progress: Callable[[dict[str, tuple[int, int]]], None] | None = None,
    render_processes: int = 0,
    function_processes: int = 0,
    measurement_overrides: dict | None = None,
) -> RunResult:
    started = time.perf_counter()
    campaign_id = campaign_id_for(event["detail"]["event_id"])
    # Local waits: a day is a minute when a person clicks, ten seconds when the demo approver answers.
    scale = time_scale if time_scale is not None else (1.0 / 1440 if interactive else 1.0 / 8640)
    # every wait, reminder and escalation of the slowest branch must fit: a day is a minute when interactive
    timeout = timeout if timeout is not None else (4 * 3600.0 if interactive else 900.0)
    map_runs, calls = MapRunRecorder(), list[Call]()
    with (
        map_runs.recording(),
        LocalRuntime(
            out_dir,
            lake_dir,
            time_scale=scale,
            port=port,
            batch_size=batch_size,
            render_processes=render_processes,
            function_processes=function_processes,
            measurement_overrides=measurement_overrides,
        ) as runtime,
    ):
        runtime.registry.faults.update(faults or {})  # tests inject failures into named functions
        runtime.registry.calls = calls  # every function's input and output (RunResult.calls)
        on_email: Callable[[ApprovalEmail], None]
        if interactive:
            on_email = ForwardLinks(on_link)  # per-client emails and digests alike

        approver_errors: list[str] = []
        if not interactive:
            on_email = auto_approver(decisions or {}, approver_errors, runtime.answers)
        watcher = Inbox(runtime.mailboxes, on_email)
        watcher.errors = approver_errors
        watcher.start()
        # a feed's candidate: the clinical pharmacist's review comes first (the decisions file's clinical_review)
        pharmacist = ClinicalReviewer(
            runtime.mailboxes,
            review_choice(decisions or {}),
            approver_errors,
            runtime.answers,
            on_link=on_link if interactive else None,
        )
        pharmacist.start()
        try:
            intake = runtime.put_event(event)
            if intake["status"] in ("rejected", "unmatched"):
                raise BadInput("event rejected: " + "; ".join(intake.get("reasons", [])))
            reporter = ProgressReporter(runtime, campaign_id, on_progress) if on_progress else None
            try:
                run = runtime.wait(campaign_id, timeout=timeout)
            finally:
                if reporter:
                    reporter.stop()
        finally:
            watcher.stop()
            pharmacist.stop()
        function_errors = list(runtime.registry.errors)
        stages = stage_timings(list(runtime.registry.invocations), campaign_id)
        report = runtime.export(campaign_id)
        (out_dir / "audit.json").write_text(
            json.dumps(export_audit(campaign_id), indent=2) + "\n", encoding="utf-8"
        )
        (out_dir / "logs" / "execution-history.json").write_text(
            json.dumps(runtime.history(campaign_id), default=str, indent=1), encoding="utf-8"
        )
        # The child executions' histories (one entry per map run: ForEachClient, and Letters inside each client)
        (out_dir / "logs" / "map-run-history.json").write_text(
            without_task_tokens(
                json.dumps(
                    map_runs.histories(map_run_arns(runtime, runtime.execution_arn(campaign_id))),
                    default=str,
                    indent=1,
                )
            ),
            encoding="utf-8",
        )
    if report is not None:
        # a campaign its review stopped keeps the status its report says (dismissed, no_review)
        if report.get("status") not in ("dismissed", "no_review") or run.status != "SUCCEEDED":
            report["status"] = "succeeded" if run.status == "SUCCEEDED" else "failed"
        report["local_run"] = {
            "seconds": round(time.perf_counter() - started, 2),
            "day_seconds": round(86_400 * scale, 3),
            "function_processes": function_processes,  # worker processes that ran the busy functions
            "peak_memory_mib": peak_memory_mib(runtime.worker_peaks_mib),
            "stages": stages,
            "templates": templates_used(out_dir / "letters"),
        }
        (out_dir / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        write_report(out_dir)
    return RunResult(
        status=run.status,
        campaign_id=campaign_id,
        report=report,
        out_dir=out_dir,
        seconds=time.perf_counter() - started,
        error=run.error,
        watcher_errors=watcher.errors,
        function_errors=function_errors,
        calls=calls,
    )
