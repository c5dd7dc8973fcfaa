"""Every port the domain talks to, in one place. Adapters implement them: `coach.adapters` for AWS (S3, SES,
DynamoDB, Athena, Step Functions) and in memory (tests); `coach_local` for the local runtime's claims engine."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from datetime import date

    from coach.approvals.delegation import Delegation
    from coach.approvals.digest_records import DigestRecord, QueuedAsk
    from coach.approvals.records import AuditRecord, DecisionRecord, Delivery, LinkRecord, LinkState, OpenLink
    from coach.audience.engine import AudienceParams, ClientDirectoryEntry
    from coach.brief.sql import BriefParams
    from coach.lake_rules import Problem
    from coach.letters.branding import Branding
    from coach.models import MemberRecord
    from coach.outcomes.sql import CohortMember, OutcomeParams


class NotFound(KeyError):
    """An object or record that does not exist."""


class ObjectStore(Protocol):
    """S3-shaped object storage (buckets named per call)."""

    def put(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    def put_new(
        self, bucket: str, key: str, body: bytes, content_type: str = "application/octet-stream"
    ) -> bool:
        """Write only when no object has this key (S3: a conditional write, If-None-Match *): one call instead of
        a HeadObject then a PutObject. False when one already had it (it is left as it was)."""
        ...

    def get(self, bucket: str, key: str) -> bytes: ...

    def exists(self, bucket: str, key: str) -> bool: ...

    def list_keys(self, bucket: str, prefix: str) -> Iterator[str]: ...

    def put_stream(
        self, bucket: str, key: str, chunks: Iterable[bytes], content_type: str = "application/octet-stream"
    ) -> int:
        """Write one object from chunks without holding it whole (S3: a multipart upload); returns its size."""
        ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str = "application/pdf"


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str | None = None
    sender: str = ""
    # Stable id: a retry with the same key sends nothing new (docs/architecture.md, decision 6).
    idempotency_key: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class Mailer(Protocol):
    def send(self, email: Email) -> str:
        """Send and return the provider's message id."""
        ...


class WorkflowCallbacks(Protocol):
    """Step Functions' task-token callbacks."""

    def succeed(self, task_token: str, output: dict) -> None: ...

    def fail(self, task_token: str, error: str, cause: str) -> None: ...


class ExecutionStarter(Protocol):
    def start(self, name: str, input_json: str) -> bool:
        """Start the campaign's execution; False when one of that name already ran (a duplicate event)."""
        ...


class ApprovalStore(Protocol):
    def put_link(self, link: LinkRecord) -> None: ...

    def get_link(self, link_hash: str) -> LinkRecord | None: ...

    def group_links(self, group: str) -> list[LinkRecord]: ...

    def groups_links(self, groups: Sequence[str]) -> dict[str, list[LinkRecord]]:
        """group → its links (what group_links returns), for several groups at once: the links of all of them are
        read together (DynamoDB: one Query per group, then BatchGetItem)."""
        ...

    def supersede(self, link_hash: str) -> bool:
        """pending → superseded; False when the link was no longer pending."""
        ...

    def close_link(self, link_hash: str) -> bool:
        """pending → closed (its wait is over); False when the link was no longer pending."""
        ...

    def set_link_state(self, link_hash: str, state: LinkState) -> None: ...

    def retarget(self, link_hash: str, task_token: str) -> bool:
        """A pending link answers `task_token` from now on; False when the link was no longer pending."""
        ...

    def open_links(self) -> list[OpenLink]:
        """Every link still pending (an answered group's other links included: callers check the decision)."""
        ...

    def claim_decision(self, decision: DecisionRecord) -> bool:
        """Record the group's decision unless one exists; True when this call recorded it."""
        ...

    def get_decision(self, group: str) -> DecisionRecord | None: ...

    def decisions(self, groups: Sequence[str]) -> dict[str, DecisionRecord]:
        """group → its decision, for those of `groups` that have one (DynamoDB: BatchGetItem, 100 a call)."""
        ...

    def set_delivery(self, decision: DecisionRecord, delivery: Delivery) -> bool:
        """pending → delivered | closed for exactly this decision; False if it changed meanwhile."""
        ...

    def reopen(self, group: str, task_token: str) -> bool:
        """Forget a decision that never reached the waiting task `task_token` (it was for an older wait)."""
        ...

    def append_audit(self, record: AuditRecord) -> bool:
        """Write once; False (and nothing written) when that exact record already exists."""
        ...

    def audit(self, campaign_id: str) -> list[AuditRecord]:
        """The campaign's whole trail, in time order (the report, the archive)."""
        ...

    def question_audit(self, campaign_id: str, client_id: str, role: str) -> list[AuditRecord]:
        """One question's records (its campaign, client and role), in time order, without reading the others."""
        ...


class ClaimsEngine(Protocol):
    def audience_rows(self, params: AudienceParams) -> Iterator[dict]:
        """Affected members (member fields, last_fill_date, drug_name, reachable), ordered by client, member."""
        ...

    def clients(self) -> dict[str, ClientDirectoryEntry]: ...

    def brief_rows(self, params: BriefParams) -> list[dict]:
        """coach.brief.sql.BRIEF_SQL's rows: counts and sums per client and age band, state, language, channel."""

    def prescriber_rows(self, params: AudienceParams) -> Iterator[dict]:
        """The prescriber query (coach.prescribers.sql): see PrescriberRowSource."""
        ...

    def lake_problems(self, announced_on: date) -> list[Problem]:
        """Every data-quality rule of coach.lake_rules over the lake (counts and columns, never values)."""
        ...

    def outcome_counts(self, params: OutcomeParams, cohort: Sequence[CohortMember]) -> list[dict]:
        """coach.outcomes.sql.OUTCOME_SQL over the cohort: per (client_id, held_out) the members and the count of
        each outcome (switched, refilled, no_fill); counts only."""
        ...


class PrescriberRowSource(Protocol):
    """The claims engine's prescriber query (coach.prescribers.sql); both engines implement it."""

    def prescriber_rows(self, params: AudienceParams) -> Iterator[dict]:
        """One row per affected member who may appear on a notice, with the prescriber of the most recent
        matching claim and that prescriber's prescribers/ columns, ordered by NPI, client, member."""
        ...


class AuditArchive(Protocol):
    """The write-once copy of the decision trail (S3 Object Lock on AWS)."""

    def archive_records(self, records: Iterable[AuditRecord]) -> list[str]:
        """One object per record; the keys written now (records archived before are skipped)."""
        ...

    def archive_campaign(self, records: Sequence[AuditRecord], campaign_id: str) -> str:
        """One snapshot of a campaign's whole trail; its key."""
        ...


class LetterRenderer(Protocol):
    """Pure computation: one batch's letters (member, rendered markup, language) → the PDF and, per letter, (first
    page, page count). `coach.letters.render.render_letters` in a Lambda; the local runtime may render elsewhere."""

    def __call__(
        self,
        letters: list[tuple[MemberRecord, str, str]],
        today: date | None = None,
        branding: Branding | None = None,  # the client's letterhead (coach.letters.branding); None: the PBM's
    ) -> tuple[bytes, list[tuple[int, int]]]: ...


class FeedState(Protocol):
    """What a market feed remembers between polls, per source: a watermark and one short value per key (a
    record's content hash, a group's last state, an index entry). DynamoDB on AWS, a JSON folder locally."""

    def get_watermark(self, source: str) -> str | None: ...

    def set_watermark(self, source: str, value: str) -> None: ...

    def get_values(self, source: str, keys: Iterable[str]) -> dict[str, str]:
        """The stored value of each key that has one (keys never stored are absent)."""
        ...

    def put_values(self, source: str, values: dict[str, str]) -> None: ...

    def replace_values(self, source: str, values: dict[str, str]) -> None:
        """Make `values` the source's whole set: keys not in it are forgotten (a rebuilt index)."""
        ...


class EventPublisher(Protocol):
    def put(self, source: str, detail_type: str, details: Sequence[dict]) -> None:
        """Put one event per detail on the bus; raises when any is not accepted."""
        ...


# --- digests and delegates (coach.approvals.digest, coach.approvals.delegation) ----------------------------------
class Delegations(Protocol):
    """Who decides for an approver who is away (the approvals table on AWS and locally)."""

    def delegations_of(self, approver: str) -> list[Delegation]: ...

    def put_delegation(self, delegation: Delegation) -> None: ...


class DigestStore(Delegations, Protocol):
    def queue_ask(self, ask: QueuedAsk) -> bool:
        """Keep the ask in its person's queue (one per question: a newer attempt replaces an older one, an older
        one never replaces a newer). False when a newer attempt is already queued."""
        ...

    def queued_asks(self, person: str) -> list[QueuedAsk]: ...

    def drop_ask(self, ask: QueuedAsk) -> bool:
        """Remove this very ask (not one that replaced it meanwhile)."""
        ...

    def put_digest(self, digest: DigestRecord) -> None: ...

    def get_digest(self, digest_hash: str) -> DigestRecord | None: ...


class DigestScheduler(Protocol):
    """Wakes the digest sender for a person after a delay (an SQS delivery delay on AWS, a timer locally). The task
    token lets the local runtime hold that ask's wait until its email is out (coach_local/runtime/answers.py)."""

    def schedule(self, person: str, delay_seconds: float, task_token: str) -> None: ...
