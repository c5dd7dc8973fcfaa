"""The embedded local runtime (docs/architecture.md, decision 7): moto for AWS, DuckDB for Athena, the real ASL and
handlers. By concern: `environment` (names and variables), `logs` (where log lines go), `provisioning` (the
deployed resources, in moto), `eventbridge` (rule delivery and status-change events), `redrive` (its emulation),
`local` (the LocalRuntime that puts them together)."""

from coach_local.runtime.environment import (
    ACCOUNT,
    APPROVALS_TABLE,
    DATA_BUCKET,
    LETTERS_BUCKET,
    REGION,
    SENDER,
)
from coach_local.runtime.local import MOTO_CONFIG, CampaignRun, LocalRuntime
from coach_local.runtime.provisioning import ASL_PATH, STATE_MACHINE, render_definition, substitutions

__all__ = [
    "ACCOUNT",
    "APPROVALS_TABLE",
    "ASL_PATH",
    "DATA_BUCKET",
    "LETTERS_BUCKET",
    "MOTO_CONFIG",
    "REGION",
    "SENDER",
    "STATE_MACHINE",
    "CampaignRun",
    "LocalRuntime",
    "render_definition",
    "substitutions",
]
