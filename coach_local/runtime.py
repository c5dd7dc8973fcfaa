"""The embedded local runtime (docs/architecture.md, decision 7): moto for AWS, DuckDB for Athena, the real ASL and handlers."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import boto3
from coach.adapters.dynamodb import table_definition
from coach.adapters.stepfunctions import execution_arn, history
from coach.catalog import FUNCTION_NAMES, asl_substitutions
from coach.notices import ALERT_STATUSES, STATUS_CHANGE, failure_event_pattern
from coach.settings import settings

from coach_local import moto_fixes
from coach_local.approval_server import ApprovalServer
from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach_local.dispatch import (
    FUNCTION_PREFIX,
    FunctionRegistry,
    function_arn,
    install,
    uninstall,
)
from coach_local.status import REDRIVE_SUFFIX, STATUS_FILE, StatusWriter, snapshot

if TYPE_CHECKING:  # moto loads when the runtime starts, not when this module is imported
    from moto.core.config import DefaultConfig
    from moto.events.utils import EventMessageType

ROOT = Path(__file__).resolve().parent.parent
ASL_PATH = ROOT / "step_definitions" / "campaign.asl.json"
REGION = "us-east-1"
ACCOUNT = "123456789012"
DATA_BUCKET = "coach-local-data"
LETTERS_BUCKET = "coach-local-letters"
APPROVALS_TABLE = "coach-local-approvals"
SENDER = "pharmacist@pbm.example"
STATE_MACHINE = "coach-campaign"
MOTO_CONFIG: DefaultConfig = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}
LOGGER_NAME = "automated-pharmacist"


def substitutions() -> dict[str, str]:
    return asl_substitutions(lambda name: function_arn(name, REGION, ACCOUNT), DATA_BUCKET)


def render_definition(text: str, subs: dict[str, str]) -> str:
    """Apply `${Name}` substitutions exactly as CDK's definition_substitutions does; unknown names are errors."""
    import re

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in subs:
            raise KeyError(f"step definition uses ${{{name}}} but no substitution is defined for it")
        return subs[name]

    return re.sub(r"\$\{([A-Za-z0-9_]+)\}", replace, text)


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
    ) -> None:
        self.out_dir = Path(out_dir)
        self.lake_dir = Path(lake_dir)
        self.time_scale = time_scale
        self.batch_size = batch_size
        self.port = port
        self.registry = FunctionRegistry()
        self._env_backup: dict[str, str | None] = {}
        self._mock: Any = None
        self.server: ApprovalServer | None = None
        self.state_machine_arn = ""
        self._log_file: io.TextIOBase | None = None
        self._saved_streams: list[tuple[logging.StreamHandler, Any]] = []
        self._status: StatusWriter | None = None
        self._attempts: dict[str, list[str]] = {}  # campaign → execution names (emulated redrives)
        self._delivered: set[str] = set()  # status-change events already delivered
        self._lock = threading.Lock()

    # --- lifecycle -------------------------------------------------------------------------------------
    def __enter__(self) -> LocalRuntime:
        from moto import mock_aws

        self.out_dir.mkdir(parents=True, exist_ok=True)
        (self.out_dir / "outbox").mkdir(exist_ok=True)
        self.server = ApprovalServer(self.registry, port=self.port)
        self._set_env(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_SECURITY_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "DATA_BUCKET": DATA_BUCKET,
                "LETTERS_BUCKET": LETTERS_BUCKET,
                "APPROVALS_TABLE": APPROVALS_TABLE,
                "SENDER_EMAIL": SENDER,
                "APPROVAL_BASE_URL": self.server.base_url,
                "LAKE_URI": str(self.lake_dir.resolve()),
                "BATCH_SIZE": str(self.batch_size),
                "OUTBOX_DIR": str((self.out_dir / "outbox").resolve()),
                "OPERATOR_EMAIL": "operations@pbm.example",
                "COACH_TIME_SCALE": repr(self.time_scale),
                "POWERTOOLS_SERVICE_NAME": LOGGER_NAME,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_METRICS_NAMESPACE": "AutomatedPharmacist",
                "POWERTOOLS_LOG_LEVEL": "INFO",
                "AUDIT_BUCKET": "coach-local-audit",
            }
        )
        self._mock = mock_aws(config=MOTO_CONFIG)
        self._mock.start()
        from coach import runtime as coach_runtime

        coach_runtime.reset()
        lake_dir = self.lake_dir
        coach_runtime.use_claims_engine(lambda: DuckDbClaimsEngine(lake_dir))
        install(self.registry)
        moto_fixes.install()
        self._capture_logs()
        self._create_resources()
        self.server.start()
        self._status = StatusWriter(self.out_dir / STATUS_FILE, self.status)
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
        if self._status is not None:
            self._status.stop()
            self._status = None
        if self.server:
            self.server.stop()
        self._wait_for_background_threads()
        uninstall()
        moto_fixes.uninstall()
        self._release_logs()
        if self._mock is not None:
            self._mock.stop()
        from coach import runtime as coach_runtime

        coach_runtime.use_claims_engine(None)
        coach_runtime.reset()
        self._restore_env()

    def _wait_for_background_threads(self, limit: float = 5.0) -> None:
        import threading

        deadline = time.monotonic() + limit
        for thread in list(threading.enumerate()):
            if thread is threading.current_thread() or not thread.daemon or thread.name == "approval-server":
                continue
            thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _set_env(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._env_backup.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def _restore_env(self) -> None:
        for name, value in self._env_backup.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._env_backup.clear()

    def _capture_logs(self) -> None:
        """Every handler's log lines go to OUT/logs/functions.log (the PHI tests scan it)."""
        import coach.observability  # noqa: F401  (creates the Powertools logger and its handler)

        (self.out_dir / "logs").mkdir(exist_ok=True)
        self._log_file = open(self.out_dir / "logs" / "functions.log", "a", encoding="utf-8")  # noqa: SIM115
        for handler in logging.getLogger(LOGGER_NAME).handlers:
            if isinstance(handler, logging.StreamHandler):
                self._saved_streams.append((handler, handler.setStream(self._log_file)))
        # moto's interpreter narrates its internals (and warns that tolerated failures have no effect, which
        # moto_fixes makes untrue): keep that in OUT/logs/moto.log, off the user's terminal.
        self._moto_log = logging.FileHandler(self.out_dir / "logs" / "moto.log", encoding="utf-8")
        self._moto_log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        moto_logger = logging.getLogger("moto.stepfunctions")
        moto_logger.addHandler(self._moto_log)
        moto_logger.propagate = False

    def _release_logs(self) -> None:
        moto_logger = logging.getLogger("moto.stepfunctions")
        moto_logger.removeHandler(self._moto_log)
        moto_logger.propagate = True
        self._moto_log.close()
        for handler, stream in self._saved_streams:
            handler.setStream(stream)
        self._saved_streams.clear()
        if self._log_file:
            self._log_file.close()
            self._log_file = None

    def client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    def _create_resources(self) -> None:
        s3 = self.client("s3")
        for bucket in (DATA_BUCKET, LETTERS_BUCKET):
            s3.create_bucket(Bucket=bucket)
        # the decision trail, as deployed: Object Lock in COMPLIANCE mode (stacks/constructs/storage.py)
        s3.create_bucket(Bucket=os.environ["AUDIT_BUCKET"], ObjectLockEnabledForBucket=True)
        s3.put_object_lock_configuration(
            Bucket=os.environ["AUDIT_BUCKET"],
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 6}},
            },
        )
        self.client("dynamodb").create_table(**table_definition(APPROVALS_TABLE))  # with the open-waits index
        ses = self.client("ses")
        ses.verify_domain_identity(Domain="pbm.example")
        ses.verify_email_identity(EmailAddress=SENDER)
        role = self.client("iam").create_role(
            RoleName="coach-local",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("handler.py", "def handler(event, context):\n    raise NotImplementedError\n")
        lam = self.client("lambda")
        for name in FUNCTION_NAMES:
            lam.create_function(
                FunctionName=FUNCTION_PREFIX + name,
                Runtime="python3.11",
                Role=role,
                Handler="handler.handler",
                Code={"ZipFile": buffer.getvalue()},
            )
        definition = render_definition(ASL_PATH.read_text(encoding="utf-8"), substitutions())
        self.state_machine_arn = self.client("stepfunctions").create_state_machine(
            name=STATE_MACHINE,
            definition=definition,
            roleArn=role,
            type="STANDARD",
        )["stateMachineArn"]
        os.environ["STATE_MACHINE_ARN"] = self.state_machine_arn
        settings.cache_clear()  # intake and the open-waits gauge read it
        self.client("events").put_rule(Name="coach-market-events", EventPattern=json.dumps(event_pattern()))

    # --- the flow ---------------------------------------------------------------------------------------
    def put_event(self, envelope: dict) -> dict:
        """EventBridge: match the rule's pattern, then deliver to the intake function as its target does."""
        from moto.events.models import EventPattern

        rule = self.client("events").describe_rule(Name="coach-market-events")
        matched = EventPattern.load(rule["EventPattern"]).matches_event(
            cast("EventMessageType", _as_bridge_event(envelope))
        )
        if not matched:
            return {
                "status": "unmatched",
                "reasons": [
                    "the event does not match the market-event rule "
                    "(source coach.market-feed, detail-type Drug Market Event)"
                ],
            }
        return dict(self.registry.invoke("intake", envelope))

    def execution_arn(self, campaign_id: str) -> str:
        """The campaign's latest attempt (the first execution, or its latest emulated redrive)."""
        attempts = self._attempts.get(campaign_id)
        name = attempts[-1] if attempts else campaign_id
        return execution_arn(self.state_machine_arn, name)

    def redrive(self, campaign_id: str) -> str:
        """Emulate RedriveExecution, which moto lacks: run the failed campaign again with the same input.

        AWS resumes at the failed state and re-runs only the failed child executions. Here every stage runs again,
        which is a stricter test of what a redrive relies on: audience files and letters land on the same keys,
        letter batches already complete are skipped, an approval already given is reused without asking again,
        and every email goes through the idempotency ledger, so nothing is sent twice."""
        sfn = self.client("stepfunctions")
        previous = sfn.describe_execution(executionArn=self.execution_arn(campaign_id))
        if previous["status"] not in ALERT_STATUSES:
            raise RuntimeError(
                f"{campaign_id} is {previous['status']}: only a failed, timed-out or stopped "
                "campaign can be redriven"
            )
        attempts = self._attempts.setdefault(campaign_id, [campaign_id])
        name = f"{campaign_id[:68]}{REDRIVE_SUFFIX}{len(attempts)}"
        sfn.start_execution(stateMachineArn=self.state_machine_arn, name=name, input=previous["input"])
        attempts.append(name)
        return name

    def describe(self, campaign_id: str) -> dict:
        return dict(
            self.client("stepfunctions").describe_execution(executionArn=self.execution_arn(campaign_id))
        )

    def wait(self, campaign_id: str, timeout: float = 600.0, poll: float = 0.2) -> CampaignRun:
        arn = self.execution_arn(campaign_id)
        deadline = time.monotonic() + timeout
        while True:
            d = self.describe(campaign_id)
            if d["status"] != "RUNNING":
                self._deliver_status_change(campaign_id, d)
                output = json.loads(d["output"]) if d.get("output") else None
                return CampaignRun(campaign_id, arn, d["status"], output, d.get("error"))
            if time.monotonic() > deadline:
                return CampaignRun(
                    campaign_id, arn, "TIMED_OUT_LOCALLY", None, "the local run did not finish"
                )
            time.sleep(poll)

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
        try:
            clients = json.loads(self.read(DATA_BUCKET, clients_key(campaign_id)))
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
                target.write_bytes(self.read(LETTERS_BUCKET, item["Key"]))
        try:
            report = json.loads(self.read(DATA_BUCKET, f"{prefix}report.json"))
        except s3.exceptions.NoSuchKey:
            return None
        return report

    def _deliver_status_change(self, campaign_id: str, execution: dict) -> None:
        """EventBridge's part, which moto does not play: a FAILED, TIMED_OUT or ABORTED execution emits a status-change
        event; the deployed rule (same pattern) sends it to the notify function, which alerts the operator."""
        from moto.events.models import EventPattern

        attempt = len(self._attempts.get(campaign_id, [campaign_id])) - 1
        key = f"{execution['executionArn']}#{execution['status']}"
        with self._lock:
            if key in self._delivered:
                return
            self._delivered.add(key)
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": STATUS_CHANGE,
            "source": "aws.states",
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": REGION,
            "resources": [execution["executionArn"]],
            "detail": {
                "executionArn": execution["executionArn"],
                "stateMachineArn": self.state_machine_arn,
                "name": execution["name"],
                "status": execution["status"],
                "startDate": int(execution["startDate"].timestamp() * 1000),
                "stopDate": int(execution["stopDate"].timestamp() * 1000)
                if execution.get("stopDate")
                else None,
                "input": execution.get("input"),
                "output": None,
                "error": execution.get("error"),
                "cause": execution.get("cause"),
                "redriveCount": attempt,
            },
        }
        if EventPattern.load(json.dumps(failure_event_pattern(self.state_machine_arn))).matches_event(
            cast("EventMessageType", event)
        ):
            self.registry.invoke("notify", event)


def event_pattern() -> dict:
    from coach.intake import EVENT_PATTERN

    return EVENT_PATTERN


def _as_bridge_event(envelope: dict) -> dict:
    """TestEventPattern needs the envelope fields EventBridge adds on delivery."""
    return {
        "id": "local",
        "account": ACCOUNT,
        "time": "2002-11-27T00:00:00Z",
        "region": REGION,
        "resources": [],
        "version": "0",
        **envelope,
    }
