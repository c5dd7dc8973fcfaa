"""The LocalRuntime: a private AWS (moto) with the campaign's resources, the handlers and the approval server."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # moto loads when the runtime starts
    from moto.core.config import DefaultConfig

import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from coach.adapters.stepfunctions import history
from coach.settings import settings

from coach_local import moto_fixes, moto_speed
from coach_local.approval_server import ApprovalServer
from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.delegations import read_delegations
from coach_local.dispatch import FunctionRegistry, install, uninstall
from coach_local.runtime import digests
from coach_local.runtime.answers import AnswerClock
from coach_local.runtime.environment import (
    ACCOUNT,
    APPROVALS_TABLE,
    DATA_BUCKET,
    LETTERS_BUCKET,
    REGION,
    Environment,
    local_variables,
)
from coach_local.runtime.eventbridge import (
    MARKET_RULE_UNMATCHED,
    StatusChanges,
    as_bridge_event,
    market_event_pattern,
    matches,
)
from coach_local.runtime.function_workers import FunctionWorkers
from coach_local.runtime.logs import LogCapture
from coach_local.runtime.mailboxes import Mailboxes
from coach_local.runtime.provisioning import FEED_RULE, MARKET_RULE, create_resources
from coach_local.runtime.redrive import Attempts
from coach_local.runtime.render_pool import RenderPool
from coach_local.status import STATUS_FILE, StatusWriter, snapshot

MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@dataclass
class CampaignRun:
    campaign_id: str
    execution_arn: str
    status: str = "RUNNING"
    output: dict[str, Any] | None = None
    error: str | None = None
    stage_seconds: dict[str, float] = field(default_factory=dict)


class LocalRuntime:
    """Context manager: a private AWS (moto) with the campaign's resources, the handlers and the approval server.

    `time_scale` shrinks the playbooks' waits (3 days × 1/86400 = 3 s) so the timeout paths run in seconds.
    """

    def __init__(
        self,
        out_dir: Path,
        lake_dir: Path,
        *,
        time_scale: float = 1 / 86_400,
        batch_size: int = 500,
        port: int = 0,
        render_processes: int = 0,
        function_processes: int = 0,
        digest_quiet_seconds: float | None = None,
        digest_max_seconds: float | None = None,
        measurement_overrides: dict | None = None,
    ) -> None:
        self.out_dir = Path(out_dir)
        self.measurement_overrides = measurement_overrides  # event type → measurement (the demo's holdout)
        self.lake_dir = Path(lake_dir)
        self.time_scale = time_scale
        self.batch_size = batch_size
        self.port = port
        # worker processes that render letter PDFs (0: in the runtime's process, the default: on 2 shared cores the
        # workers did not make a campaign faster, docs/benchmarks.md)
        self.render_pool = RenderPool(render_processes)
        self.registry = FunctionRegistry()
        # worker processes that run the busy functions' handlers (0: all in the runtime's process), so that moto
        # and the handlers use two cores (coach_local/runtime/function_workers.py)
        self.function_processes = function_processes
        self._workers: FunctionWorkers | None = None
        self.worker_peaks_mib: list[int] = []  # each function worker's peak memory, known once they stopped
        self.server: ApprovalServer | None = None
        self.state_machine_arn = ""
        self._environment = Environment()
        self._logs = LogCapture(self.out_dir / "logs")
        self._mock: Any = None
        self._status: StatusWriter | None = None
        self._attempts = Attempts()
        self._status_changes: StatusChanges | None = None
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._clients_of: dict[str, list[dict[str, Any]]] = {}  # each campaign's clients (progress)
        self.answers = AnswerClock()  # the callback waits' clock (coach_local/runtime/answers.py)
        self.mailboxes = Mailboxes()  # every email SES sends, to whoever reads mail locally
        self.registry.listeners.append(self.answers.observe)
        # one email per person (coach_local/runtime/digests.py); 0 quiet seconds: every ask emailed at once
        self.digest_timing = digests.timing(digest_quiet_seconds, digest_max_seconds)
        self.digests = digests.LocalDigestScheduler(self.registry, self.answers)

    # --- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        from moto import mock_aws

        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "outbox").mkdir(exist_ok=True)
        self.server = ApprovalServer(self.registry, port=self.port)
        self._environment.set(
            local_variables(
                base_url=self.server.base_url,
                lake_dir=self.lake_dir,
                outbox=self.out_dir / "outbox",
                batch_size=self.batch_size,
                time_scale=self.time_scale,
                measurement_overrides=self.measurement_overrides,
            )
        )
        if self.function_processes > 0:  # they import while moto and the resources are set up
            self._workers = FunctionWorkers(self.function_processes, self.digests.schedule)
            self._workers.start()
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        from coach import runtime as coach_runtime

        coach_runtime.reset()
        lake_dir = self.lake_dir
        coach_runtime.use_claims_engine(lambda: DuckDbClaimsEngine(lake_dir))
        coach_runtime.use_letter_renderer(self.render_pool if self.render_pool.workers > 0 else None)
        install(self.registry)
        moto_fixes.install(answers=self.answers)
        moto_speed.install()
        self.mailboxes.install()
        self._logs.start()
        self.state_machine_arn = create_resources(self.client, market_event_pattern())
        self._environment.set({"STATE_MACHINE_ARN": self.state_machine_arn})
        self._environment.set(
            {
                "DIGEST_QUIET_SECONDS": repr(self.digest_timing[0]),
                "DIGEST_MAX_SECONDS": repr(self.digest_timing[1]),
            }
        )
        coach_runtime.use_digest_scheduler(self.digests)
        self.digests.start()
        if self._workers is not None:
            variables = dict(os.environ)
            variables["COACH_FUNCTION_LOG"] = str((self.out_dir / "logs" / "functions.log").resolve())
            self._workers.set_environment(variables)
            self.registry.remote = self._workers
        for delegation in read_delegations(
            self.lake_dir
        ):  # `coach approvers delegate` (coach_local/delegations.py)
            coach_runtime.digest_store().put_delegation(delegation)
        settings.cache_clear()  # intake and the open-waits gauge read it
        self._status_changes = StatusChanges(
            self.state_machine_arn, lambda event: self.registry.invoke("notify", event)
        )
        self.server.start()
        self._status = StatusWriter(self.out_dir / STATUS_FILE, self.status)
        self.registry.listeners.append(self._status.changed)
        self._status.start()
        return self

    def status(self) -> dict[str, Any]:
        """Every campaign of this runtime: its state and the decisions it waits for (read by `coach status`)."""
        from coach.adapters.dynamodb import DynamoApprovalStore

        return snapshot(
            self.client("stepfunctions"),
            DynamoApprovalStore(APPROVALS_TABLE),
            self.state_machine_arn,
            86_400 * self.time_scale,
        )

    def __exit__(self, *exc: object) -> None:
        self._stop_running_executions()
        if self._status is not None:
            self.registry.listeners.remove(self._status.changed)
            self._status.stop()
            self._status = None
        if self.server:
            self.server.stop()
        self.digests.stop()
        if self._workers is not None:
            self.registry.remote = None
            self.worker_peaks_mib = self._workers.stop()
            self._workers = None
        uninstall()
        moto_fixes.uninstall()
        moto_speed.uninstall()
        self.mailboxes.uninstall()
        self._logs.stop()
        if self._mock is not None:
            self._mock.stop()
        self._clients.clear()  # they talked to this moto only
        from coach import runtime as coach_runtime

        coach_runtime.use_claims_engine(None)
        coach_runtime.use_letter_renderer(None)
        coach_runtime.use_digest_scheduler(None)
        self.render_pool.close()
        coach_runtime.reset()
        self._environment.restore()

    def _stop_running_executions(self) -> None:
        """A run left before its campaigns ended (a local timeout, Ctrl-C): stop them, so that moto's interpreter
        threads end with this runtime instead of outliving it."""
        from coach.adapters.stepfunctions import executions

        if not self.state_machine_arn:
            return
        try:
            sfn = self.client("stepfunctions")
            for execution in executions(self.state_machine_arn, sfn=sfn):
                if execution["status"] == "RUNNING":
                    sfn.stop_execution(
                        executionArn=execution["executionArn"], cause="the local runtime ended"
                    )
        except Exception:  # leaving must not fail: the run's own result says what went wrong
            return

    def client(self, service: str) -> Any:
        """One client per service for the runtime's life (boto3 clients are thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION)  # type: ignore[call-overload]
            return self._clients[service]

    # --- the flow ---------------------------------------------------------------------------------------
    def put_event(self, envelope: dict) -> dict:
        """EventBridge: match the rules' patterns (market events; a feed's candidates), then deliver to the intake
        function as their target does."""
        events = self.client("events")
        for name in (MARKET_RULE, FEED_RULE):
            if matches(events.describe_rule(Name=name)["EventPattern"], as_bridge_event(envelope)):
                return dict(self.registry.invoke("intake", envelope))
        return {"status": "unmatched", "reasons": [MARKET_RULE_UNMATCHED]}

    def execution_arn(self, campaign_id: str) -> str:
        """The campaign's latest attempt (the first execution, or its latest emulated redrive)."""
        return self._attempts.latest_arn(self.state_machine_arn, campaign_id)

    def redrive(self, campaign_id: str) -> str:
        """Emulate RedriveExecution (coach_local/runtime/redrive.py); returns the new execution's name."""
        self._clients_of.pop(campaign_id, None)
        return self._attempts.redrive(self.client("stepfunctions"), self.state_machine_arn, campaign_id)

    def describe(self, campaign_id: str) -> dict:
        return dict(
            self.client("stepfunctions").describe_execution(executionArn=self.execution_arn(campaign_id))
        )

    def wait(self, campaign_id: str, timeout: float = 600.0, poll: float = 0.1) -> CampaignRun:
        arn = self.execution_arn(campaign_id)
        deadline = time.monotonic() + timeout
        while True:
            d = self.describe(campaign_id) if self._ended(arn) else {"status": "RUNNING"}
            if d["status"] != "RUNNING":
                assert self._status_changes is not None
                self._status_changes.emit(d, self._attempts.redrives(campaign_id))
                output = json.loads(d["output"]) if d.get("output") else None
                return CampaignRun(campaign_id, arn, d["status"], output, d.get("error"))
            if time.monotonic() > deadline:
                return CampaignRun(
                    campaign_id, arn, "TIMED_OUT_LOCALLY", None, "the local run did not finish"
                )
            time.sleep(poll)

    def _ended(self, arn: str) -> bool:
        """Whether the execution ended, read from moto's own record: DescribeExecution through boto3 cost about 5 ms
        of the one core every poll (2 s of a 100k campaign), and the runtime owns this moto."""
        from moto.stepfunctions.responses import get_backend

        try:
            execution = get_backend(ACCOUNT, REGION).describe_execution(arn)
        except Exception:  # not visible there (a redrive being started): ask the API
            return True
        return str(getattr(execution, "status", "RUNNING")) != "RUNNING"

    def history(self, campaign_id: str) -> list[dict]:
        """With execution data: what a console user would see (the PHI tests scan it)."""
        return history(self.execution_arn(campaign_id), sfn=self.client("stepfunctions"), with_data=True)

    def progress(self, campaign_id: str) -> dict[str, tuple[int, int]]:
        """(done, total) of the campaign's long stages: audience, clients finished, letter batches written."""
        from coach.keys import clients_key

        calls = [c for c in list(self.registry.invocations) if c.ok and c.campaign_id == campaign_id]
        done = {
            name: sum(1 for c in calls if c.function == name)
            for name in ("audience", "client_outcome", "letters")
        }
        clients = self._clients_of.get(campaign_id)
        if clients is None:
            try:  # written once by the audience function: read once
                clients = self._clients_of[campaign_id] = json.loads(
                    self.read(DATA_BUCKET, clients_key(campaign_id))
                )
            except Exception:  # not written yet: the audience is still being found
                clients = None
        if clients is None:
            return {"audience": (done["audience"], 1), "clients": (0, 0), "letter batches": (0, 0)}
        batches = sum(int(c.get("batch_count", 0)) for c in clients)
        if done["client_outcome"] >= len(clients):  # every client finished: declined ones wrote no batch
            batches = done["letters"]
        return {
            "audience": (1, 1),
            "clients": (min(done["client_outcome"], len(clients)), len(clients)),
            "letter batches": (min(done["letters"], batches), batches),
        }

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())

    def _stored(self, bucket: str, key: str) -> bytes:
        """An object of this runtime's private S3, read from moto's store: the export copies every PDF, and moving
        them through boto3 and moto's responses cost a second of the one core at 100k members."""
        from moto.s3.models import s3_backends

        try:
            stored = s3_backends[ACCOUNT]["aws"].get_object(bucket, key)
        except Exception:  # not where moto keeps it in this version: ask the API
            stored = None
        return bytes(stored.value) if stored is not None else self.read(bucket, key)

    def export(self, campaign_id: str) -> dict | None:
        """Copy the letters and report.json from the private S3 into OUT (letters/<client_id>/…)."""
        s3 = self.client("s3")
        prefix = f"campaigns/{campaign_id}/"
        paginator = s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=LETTERS_BUCKET, Prefix=prefix):
            for item in page.get("Contents", []):
                relative = item["Key"][len(prefix) :]
                target = self.out_dir / "letters" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._stored(LETTERS_BUCKET, item["Key"]))
        notices = f"prescriber-notices/{campaign_id}/"  # issue 17: beside the letters, their own folder
        for page in paginator.paginate(Bucket=LETTERS_BUCKET, Prefix=notices):
            for item in page.get("Contents", []):
                target = self.out_dir / "prescriber-notices" / item["Key"][len(notices) :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._stored(LETTERS_BUCKET, item["Key"]))
        try:
            report = json.loads(self.read(DATA_BUCKET, f"{prefix}report.json"))
        except s3.exceptions.NoSuchKey:
            return None
        return report
