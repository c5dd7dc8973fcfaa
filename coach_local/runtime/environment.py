"""The local runtime's names (region, account, buckets, table) and the process environment a run sets and restores."""

from __future__ import annotations

import json
import os
from pathlib import Path

REGION = "us-east-1"
ACCOUNT = "123456789012"
DATA_BUCKET = "coach-local-data"
LETTERS_BUCKET = "coach-local-letters"
AUDIT_BUCKET = "coach-local-audit"
APPROVALS_TABLE = "coach-local-approvals"
SENDER = "pharmacist@pbm.example"
OPERATOR = "operations@pbm.example"
CLINICAL_REVIEWERS = "clinical-pharmacist@pbm.example"  # who reviews a feed's candidate locally
CLINICAL_ESCALATION = "chief-pharmacist@pbm.example"
# A follow-up year lasts one playbook day locally: 90 days pass in 2.5 s when a day is 10 s (coach.outcomes)
FOLLOW_UP_SHRINK = 1 / 365
LOGGER_NAME = "automated-pharmacist"


def local_variables(
    *,
    base_url: str,
    lake_dir: Path,
    outbox: Path,
    batch_size: int,
    time_scale: float,
    measurement_overrides: dict | None = None,
) -> dict[str, str]:
    """What the deployed stack sets on its functions, pointed at moto, the lake folder and OUT/outbox."""
    return {
        "COACH_FOLLOW_UP_TIME_SCALE": repr(time_scale * FOLLOW_UP_SHRINK),
        "COACH_MEASUREMENT_OVERRIDES": json.dumps(measurement_overrides or {}),
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
        "APPROVAL_BASE_URL": base_url,
        "LAKE_URI": str(lake_dir.resolve()),
        "BATCH_SIZE": str(batch_size),
        "OUTBOX_DIR": str(outbox.resolve()),
        "OPERATOR_EMAIL": OPERATOR,
        "COACH_TIME_SCALE": repr(time_scale),
        "POWERTOOLS_SERVICE_NAME": LOGGER_NAME,
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "AutomatedPharmacist",
        "POWERTOOLS_LOG_LEVEL": "INFO",
        "AUDIT_BUCKET": AUDIT_BUCKET,
        "CLINICAL_REVIEWER_EMAILS": CLINICAL_REVIEWERS,
        "CLINICAL_ESCALATION_EMAILS": CLINICAL_ESCALATION,
    }


class Environment:
    """Sets variables for the run and puts back what was there before (or removes them)."""

    def __init__(self) -> None:
        self._backup: dict[str, str | None] = {}

    def set(self, values: dict[str, str]) -> None:
        for name, value in values.items():
            self._backup.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    def restore(self) -> None:
        for name, value in self._backup.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._backup.clear()
