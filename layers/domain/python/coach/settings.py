"""Runtime settings read from the environment once, lazily (never at import time)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


class MissingSetting(RuntimeError):
    pass


def _get(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None or value == "":
        raise MissingSetting(f"environment variable {name} is not set")
    return value


@dataclass(frozen=True)
class Settings:
    region: str
    data_bucket: str
    letters_bucket: str
    approvals_table: str
    sender_email: str
    approval_base_url: str
    lake_uri: str  # the claims lake (Athena reads it through the Glue tables; the local runtime, a folder)
    batch_size: int
    outbox_dir: str | None
    athena_workgroup: str | None
    athena_database: str | None
    athena_output: str | None
    operator_email: str | None
    config_set: str | None
    time_scale: float  # 1 on AWS; the local runtime shrinks days to seconds
    audit_bucket: str | None = None  # the Object Lock bucket of the decision trail; unset: not archived
    state_machine_arn_value: str | None = None  # intake (starts campaigns) and the open-waits gauge
    letters_max_concurrency: int = (
        50  # the Letters map's MaxConcurrencyPath, written into the execution input
    )
    feed_state_table_value: str | None = None  # the market feeds' watermarks and content hashes
    openfda_api_key_secret: str | None = (
        None  # a Secrets Manager secret holding an openFDA API key; unset: none
    )
    # the clinical pharmacists who review a feed's candidate, and who is asked when nobody has (comma-separated)
    clinical_reviewer_emails: str = ""
    clinical_escalation_emails: str = ""
    # digests (coach.approvals.digest): 0 quiet seconds sends every ask at once, as before digests existed
    digest_quiet_seconds: float = 0.0
    digest_max_seconds: float = 0.0
    digest_queue_url_value: str | None = None

    @property
    def digest_queue_url(self) -> str:
        if not self.digest_queue_url_value:
            raise MissingSetting("environment variable DIGEST_QUEUE_URL is not set")
        return self.digest_queue_url_value

    # coach.outcomes, local runtime only: event type → a playbook's measurement block (the demo's holdout), and the
    # follow-up wait's own time scale (unset: time_scale)
    measurement_overrides: str | None = None
    follow_up_time_scale: float | None = None

    @property
    def state_machine_arn(self) -> str:
        if not self.state_machine_arn_value:
            raise MissingSetting("environment variable STATE_MACHINE_ARN is not set")
        return self.state_machine_arn_value

    @property
    def feed_state_table(self) -> str:
        if not self.feed_state_table_value:
            raise MissingSetting("environment variable FEED_STATE_TABLE is not set")
        return self.feed_state_table_value

    @staticmethod
    def from_env() -> Settings:
        return Settings(
            region=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
            data_bucket=_get("DATA_BUCKET"),
            letters_bucket=_get("LETTERS_BUCKET"),
            approvals_table=_get("APPROVALS_TABLE"),
            sender_email=_get("SENDER_EMAIL"),
            approval_base_url=_get("APPROVAL_BASE_URL").rstrip("/"),
            lake_uri=os.environ.get("LAKE_URI", ""),
            batch_size=int(os.environ.get("BATCH_SIZE", "2000")),
            outbox_dir=os.environ.get("OUTBOX_DIR") or None,
            athena_workgroup=os.environ.get("ATHENA_WORKGROUP") or None,
            athena_database=os.environ.get("ATHENA_DATABASE") or None,
            athena_output=os.environ.get("ATHENA_OUTPUT") or None,
            operator_email=os.environ.get("OPERATOR_EMAIL") or None,
            config_set=os.environ.get("SES_CONFIGURATION_SET") or None,
            time_scale=float(os.environ.get("COACH_TIME_SCALE", "1")),
            audit_bucket=os.environ.get("AUDIT_BUCKET") or None,
            state_machine_arn_value=os.environ.get("STATE_MACHINE_ARN") or None,
            letters_max_concurrency=int(os.environ.get("LETTERS_MAX_CONCURRENCY", "50")),
            feed_state_table_value=os.environ.get("FEED_STATE_TABLE") or None,
            openfda_api_key_secret=os.environ.get("OPENFDA_API_KEY_SECRET") or None,
            clinical_reviewer_emails=os.environ.get("CLINICAL_REVIEWER_EMAILS", ""),
            clinical_escalation_emails=os.environ.get("CLINICAL_ESCALATION_EMAILS", ""),
            digest_quiet_seconds=float(os.environ.get("DIGEST_QUIET_SECONDS", "0")),
            digest_max_seconds=float(os.environ.get("DIGEST_MAX_SECONDS", "0")),
            digest_queue_url_value=os.environ.get("DIGEST_QUEUE_URL") or None,
            measurement_overrides=os.environ.get("COACH_MEASUREMENT_OVERRIDES") or None,
            follow_up_time_scale=float(os.environ["COACH_FOLLOW_UP_TIME_SCALE"])
            if os.environ.get("COACH_FOLLOW_UP_TIME_SCALE")
            else None,
        )


@cache
def settings() -> Settings:
    return Settings.from_env()
