"""Cached factories that pick the adapters for this runtime from the settings (nothing built at import time)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from coach.adapters.aws import S3ObjectStore, StepFunctionsCallbacks
from coach.adapters.mail import SesMailer
from coach.approvals.store import DynamoApprovalStore
from coach.settings import settings

if TYPE_CHECKING:
    from coach.audience.engine import ClaimsEngine


@cache
def objects() -> S3ObjectStore:
    return S3ObjectStore()


@cache
def mailer() -> SesMailer:
    s = settings()
    return SesMailer(ledger_table=s.approvals_table, outbox_dir=s.outbox_dir, configuration_set=s.config_set)


@cache
def approval_store() -> DynamoApprovalStore:
    return DynamoApprovalStore(settings().approvals_table)


@cache
def callbacks() -> StepFunctionsCallbacks:
    return StepFunctionsCallbacks()


@cache
def claims_engine() -> ClaimsEngine:
    s = settings()
    if s.claims_engine == "duckdb":
        from coach.audience.duckdb_engine import DuckDbClaimsEngine

        return DuckDbClaimsEngine(s.lake_uri)
    from coach.audience.athena_engine import AthenaClaimsEngine

    if not (s.athena_workgroup and s.athena_database and s.athena_output):
        raise RuntimeError("CLAIMS_ENGINE=athena needs ATHENA_WORKGROUP, ATHENA_DATABASE and ATHENA_OUTPUT")
    return AthenaClaimsEngine(
        workgroup=s.athena_workgroup, database=s.athena_database, output_s3_uri=s.athena_output
    )


def reset() -> None:
    """Forget every cached adapter and setting (the local runtime calls this for each fresh run)."""
    from coach.adapters.aws import reset_clients

    for factory in (objects, mailer, approval_store, callbacks, claims_engine, settings):
        factory.cache_clear()
    reset_clients()
