"""Cached factories that build this runtime's adapters from the settings (nothing built at import time).

On AWS every port has its AWS adapter. The local runtime injects what AWS has no twin for here: its claims engine
(DuckDB over a lake folder), through `use_claims_engine`, so that nothing local ships in the Lambda layer; and where
letters are rendered (`use_letter_renderer`: worker processes, the cores a Lambda fleet would be)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from coach.adapters.audit_archive import S3AuditArchive
from coach.adapters.digest_store import DynamoDigestStore
from coach.adapters.dynamodb import DynamoApprovalStore
from coach.adapters.eventbus import EventBridgePublisher
from coach.adapters.feed_state import DynamoFeedState
from coach.adapters.mail import SesMailer
from coach.adapters.openfda import OpenFdaClient
from coach.adapters.s3 import S3ObjectStore
from coach.adapters.secrets import api_key
from coach.adapters.stepfunctions import StateMachineStarter, StepFunctionsCallbacks
from coach.feeds.tables import Bundle
from coach.ports import ClaimsEngine, DigestScheduler, LetterRenderer
from coach.settings import settings

_claims_engine_factory: Callable[[], ClaimsEngine] | None = None
_letter_renderer: LetterRenderer | None = None


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
def audit_archive() -> S3AuditArchive | None:
    """The write-once copy of the decision trail; None where no audit bucket is configured."""
    bucket = settings().audit_bucket
    return S3AuditArchive(bucket) if bucket else None


@cache
def starter() -> StateMachineStarter:
    return StateMachineStarter(settings().state_machine_arn)


@cache
def feed_state() -> DynamoFeedState:
    return DynamoFeedState(settings().feed_state_table)


@cache
def event_publisher() -> EventBridgePublisher:
    return EventBridgePublisher()


@cache
def openfda() -> OpenFdaClient:
    """With an API key from Secrets Manager when the stack names one (a higher openFDA rate limit)."""
    secret = settings().openfda_api_key_secret
    return OpenFdaClient(api_key=api_key(secret) if secret else None)


def feed_archive(source: str) -> Bundle:
    """The archive FDA publishes for a file-based feed, downloaded now."""
    from coach.adapters.fda_files import ARCHIVES, download

    return Bundle.from_zip(download(ARCHIVES[source]), ARCHIVES[source])


def use_claims_engine(factory: Callable[[], ClaimsEngine] | None) -> None:
    """The local runtime's claims engine (None: back to Athena). Takes effect at the next `claims_engine()`."""
    global _claims_engine_factory
    _claims_engine_factory = factory
    claims_engine.cache_clear()


@cache
def claims_engine() -> ClaimsEngine:
    if _claims_engine_factory is not None:
        return _claims_engine_factory()
    from coach.adapters.athena import AthenaClaimsEngine

    s = settings()
    if not (s.athena_workgroup and s.athena_database and s.athena_output):
        raise RuntimeError("the claims engine needs ATHENA_WORKGROUP, ATHENA_DATABASE and ATHENA_OUTPUT")
    return AthenaClaimsEngine(
        workgroup=s.athena_workgroup,
        database=s.athena_database,
        output_s3_uri=s.athena_output,
        lake_uri=s.lake_uri or None,
    )


def use_letter_renderer(renderer: LetterRenderer | None) -> None:
    """The local runtime's renderer (None: render in this process, as a Lambda does)."""
    global _letter_renderer
    _letter_renderer = renderer


def letter_renderer() -> LetterRenderer:
    if _letter_renderer is not None:
        return _letter_renderer
    from coach.letters.render import render_letters

    return render_letters


def reset() -> None:
    """Forget every cached adapter and setting (the local runtime calls this for each fresh run)."""
    from coach.adapters.aws import reset_clients

    for factory in (
        objects,
        mailer,
        approval_store,
        callbacks,
        audit_archive,
        starter,
        feed_state,
        event_publisher,
        openfda,
        claims_engine,
        settings,
        digest_store,
    ):
        factory.cache_clear()
    reset_clients()


# --- digests (coach.approvals.digest): the store beside the approvals, and who wakes the sender --------------
_digest_scheduler: DigestScheduler | None = None


@cache
def digest_store() -> DynamoDigestStore:
    return DynamoDigestStore(settings().approvals_table)


def use_digest_scheduler(scheduler: DigestScheduler | None) -> None:
    """The local runtime's timer (None: SQS, as on AWS)."""
    global _digest_scheduler
    _digest_scheduler = scheduler


def digest_scheduler() -> DigestScheduler:
    if _digest_scheduler is not None:
        return _digest_scheduler
    from coach.adapters.sqs import SqsDigestScheduler

    return SqsDigestScheduler(settings().digest_queue_url)
