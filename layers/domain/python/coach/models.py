"""The shapes that cross a boundary: the market event of docs/data-contract.md and the workflow payloads.

Workflow payloads carry ids, counts and S3 keys only (docs/architecture.md, decision 2): nothing here may hold a member field.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from coach.addresses import deliverable, has_unsafe_characters, neutralised
from coach.ndc import normalise_ndc
from coach.outcomes.policy import CampaignMeasurement

EventType = Literal["otc_switch", "patent_expiry", "generic_launch", "new_drug", "recall", "formulary_change"]
EVENT_TYPES: tuple[str, ...] = EventType.__args__  # type: ignore[attr-defined]
SensitiveClass = Literal["hiv", "substance_use", "behavioral_health", "reproductive"]
Election = Literal["always", "ask", "never"]
Decision = Literal["approved", "declined", "no_response", "auto", "not_asked"]
Role = Literal["account_team", "client"]


def _one_line(value: str) -> str:
    """Drug names and ingredients go into email subjects and letters: a line break or control character there
    would fail the approval email long after intake accepted the event, so it is refused here instead (and a
    bidirectional override, which would show the subject reversed)."""
    if has_unsafe_characters(value):
        raise ValueError("must be one line of text without control characters or bidirectional overrides")
    return value


def _page_text(value: str) -> str:
    """The event summary reaches pages, emails and letters: line breaks are its own, but no NUL, escape or other
    control, and no bidirectional override."""
    if has_unsafe_characters(value.replace("\n", "").replace("\r", "").replace("\t", "")):
        raise ValueError("must not hold control characters or bidirectional overrides")
    return value


ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(_one_line)
]
_EARLIEST = date(1950, 1, 1)
_LATEST = date(2100, 12, 31)


class Drug(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: ShortText
    ingredient: ShortText | None = None
    ndcs: list[str] = Field(default_factory=list, max_length=500)

    @field_validator("ndcs")
    @classmethod
    def _normalise(cls, ndcs: list[str]) -> list[str]:
        # `\d` also matches full-width and other scripts' digits, which no claim ever carries: never silently unmatched
        for ndc in ndcs:
            if not ndc.isascii():
                raise ValueError(f"NDC {ndc[:20]!r} must be written with the digits 0-9 (and hyphens)")
        return sorted({normalise_ndc(ndc) for ndc in ndcs})

    @model_validator(mode="after")
    def _something_to_match(self) -> Drug:
        if not self.ndcs and not self.ingredient:
            raise ValueError("drug needs ndcs or ingredient (or both) so claims can be matched")
        return self


class MarketEvent(BaseModel):
    """The `detail` of a Drug Market Event. An unknown field is refused by name: a typo in an optional field
    (`alternative` for `alternatives`) must not silently drop what it meant."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    event_type: EventType
    drug: Drug
    effective_date: date
    announced_on: date
    summary: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        AfterValidator(_page_text),
    ]
    source_url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://\S+$")] | None = None
    alternatives: list[ShortText] = Field(default_factory=list, max_length=50)
    recall_class: Literal["I", "II", "III"] | None = None
    # otc_switch: what 30 days' supply costs over the counter (USD); the brief uses the playbook's when absent
    otc_price_per_30_days: float | None = Field(default=None, ge=0, le=10_000)

    @field_validator("effective_date", "announced_on")
    @classmethod
    def _plausible(cls, value: date) -> date:
        if not _EARLIEST <= value <= _LATEST:
            raise ValueError(f"date {value.isoformat()} is outside {_EARLIEST.year}–{_LATEST.year}")
        return value

    @model_validator(mode="after")
    def _recall_class_only_for_recalls(self) -> MarketEvent:
        if self.event_type == "recall" and self.recall_class is None:
            raise ValueError("recall events need recall_class (I, II or III)")
        if self.event_type != "recall" and self.recall_class is not None:
            raise ValueError(f"recall_class is only for recalls, not {self.event_type}")
        return self


class MarketEventEnvelope(BaseModel):
    """The EventBridge envelope; other envelope fields (id, time, account…) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    source: Literal["coach.market-feed"]
    detail_type: Literal["Drug Market Event"] = Field(alias="detail-type")
    detail: MarketEvent


class Waits(BaseModel):
    """Callback-wait timeouts in seconds, already scaled for the runtime they run on."""

    model_config = ConfigDict(extra="forbid")

    account_team_seconds: int = Field(ge=1)
    client_seconds: int = Field(ge=1)
    reminders: int = Field(ge=0, le=5)
    escalate: bool


TemplatePins = Annotated[
    dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")],
        Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")],
    ],
    Field(min_length=1),
]


class CampaignInput(BaseModel):
    """The state machine's input, written by intake."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    event: MarketEvent
    playbook: dict  # the resolved Playbook as JSON (coach.playbooks.Playbook)
    mandatory: bool
    waits: Waits
    # Letter batches rendered at once per client (the Letters map's MaxConcurrencyPath).
    letters_max_concurrency: int = Field(default=50, ge=1, le=1000)
    # The approved letter template versions this campaign sends, pinned at intake: language → SHA-256.
    template_sha256: TemplatePins
    # A feed's candidate: the clinical review that comes first (coach.review.models.ReviewBlock); None otherwise
    review: dict | None = None
    # the holdout and follow-up of coach.outcomes, resolved at intake (None: the campaign measures nothing)
    measurement: CampaignMeasurement | None = None


class ClientWork(BaseModel):
    """One affected client, as the audience stage hands it to the per-client branch (counts and keys only)."""

    model_config = ConfigDict(extra="ignore")

    client_id: str
    client_name: str
    affected: int = Field(ge=0)
    reachable: int = Field(ge=0)
    election: Election
    batches_key: str
    batch_count: int = Field(ge=0)
    contacts_key: str
    # Why the client's name or contacts cannot be used (columns and positions, never a value): its branch asks and
    # sends nothing, ends `invalid_contacts`, and the operator is alerted; other clients go on.
    contacts_error: str | None = None
    # Members whose own data could not be used, by reason (counts only): never a failure of the batch
    data_issues: dict[str, int] = Field(default_factory=dict)
    brief_key: str | None = None  # the pharmacist's brief (coach.brief), in the data bucket
    # The languages its letters will be written in (coach.letters.templates.LANGUAGES); empty: not recorded
    languages: list[str] = Field(default_factory=list)
    # Prescribers the client's approval would notify (coach.prescribers.estimate); None: none are told
    prescribers: int | None = None
    # reachable members held out by the campaign's holdout (coach.outcomes.holdout): no letter; reachable counts them
    held_out: int = Field(default=0, ge=0)


class AudienceSummary(BaseModel):
    """What the audience stage returns into workflow state."""

    clients_key: str
    client_count: int
    affected: int
    reachable: int


class LetterBatchRequest(BaseModel):
    """One Distributed Map item of the letters stage: a batch of reachable members of one client."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    client_id: str
    batch_key: str
    batch_index: int = Field(ge=0)
    event: MarketEvent
    template_id: str
    template_sha256: TemplatePins  # the campaign's pinned versions: a batch never renders another


class LetterBatchResult(BaseModel):
    client_id: str
    batch_index: int
    letters: int
    emails: int
    pdf_key: str | None
    manifest_key: str
    skipped: bool = False  # already complete from an earlier attempt: nothing rendered or sent


class ClientOutcome(BaseModel):
    model_config = ConfigDict(extra="ignore")

    client_id: str
    client_name: str
    election: Election
    affected: int
    reachable: int
    account_team_decision: Decision
    client_decision: Decision
    letters: int = 0
    emails: int = 0
    outcome: str
    data_issues: dict[str, int] = Field(default_factory=dict)


class MemberRecord(BaseModel):
    """One reachable member in an audience batch file (S3, KMS-encrypted). PHI: never in state or logs."""

    model_config = ConfigDict(extra="ignore")

    member_id: str
    client_id: str
    first_name: str
    last_name: str
    # A reachable member has a usable mailing address, a consented email, or both (docs/data-contract.md).
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    language: str = "en"
    email: str | None = None
    email_consent: bool = False
    preferred_channel: Literal["mail", "email"] = "mail"
    confidential_address: bool = False
    drug_name: str
    last_fill_date: date

    @property
    def has_mailing_address(self) -> bool:
        """The audience rule's usable address: street, city, a two-letter state and a postal code."""
        return bool(
            (self.address_line1 or "").strip()
            and (self.city or "").strip()
            and len((self.state or "").strip()) == 2
            and (self.postal_code or "").strip()
        )

    @property
    def can_email(self) -> bool:
        return bool((self.email or "").strip() and self.email_consent)

    @property
    def channel(self) -> Literal["mail", "email"]:
        """Email when the member consented and prefers it, or consented and has no usable address; else paper."""
        if self.can_email and (self.preferred_channel == "email" or not self.has_mailing_address):
            return "email"
        return "mail"

    @field_validator(
        "first_name",
        "last_name",
        "address_line1",
        "address_line2",
        "city",
        "state",
        "postal_code",
        "drug_name",
    )
    @classmethod
    def _printable(cls, value: str | None) -> str | None:
        # one member's stray control or bidi character never fails a batch: it is neutralised for the letter
        return neutralised(value) if value is not None else None

    @model_validator(mode="after")
    def _deliverable_email(self) -> MemberRecord:
        """An email this member would be sent that is no deliverable address is no email: paper when there is an
        address, else the member is not reachable (checked only when it would be used: it costs ~50 µs)."""
        used = self.email_consent and (self.preferred_channel == "email" or not self.has_mailing_address)
        if self.email and used:  # spaces around an address are harmless; a line break or control is not
            self.email = self.email.strip(" ") if deliverable(self.email.strip(" ")) else None
        return self

    @model_validator(mode="after")
    def _reachable(self) -> MemberRecord:
        if not self.has_mailing_address and not self.can_email:
            raise ValueError("no usable mailing address and no consented email (not reachable)")
        return self


class MemberDataError(ValueError):
    """A member row that cannot be a MemberRecord. The message names where and which field, never a value: it
    reaches Step Functions (the task's error cause) and the logs, where PHI must not go."""


def _clipped(text: str, limit: int) -> str:
    """At most `limit` characters on one line: control characters escaped, the rest cut (keys and the values a
    validator quotes, such as a bad NDC, come from a feed and may be huge or hold line breaks)."""
    text = text[: limit + 1]
    if not text.isprintable():
        text = "".join(
            c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii")
            for c in text
        )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_validation_error(exc: ValidationError, root: str) -> list[str]:
    """One line per problem, naming the field path (`root` for the whole object); the input is never echoed."""
    reasons = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(_clipped(str(part), 60) for part in error["loc"]) or root
        message = "unknown field (check its spelling)" if error["type"] == "extra_forbidden" else error["msg"]
        reasons.append(f"{where}: {_clipped(message, 300)}")
    return reasons


def parse_member(data: dict[str, Any] | str, where: str) -> MemberRecord:
    try:
        if isinstance(data, str):
            return MemberRecord.model_validate_json(data)
        return MemberRecord.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(describe_validation_error(exc, "(record)"))
        raise MemberDataError(f"{where}: member record rejected ({problems})") from None


# The error name a decline sends with SendTaskFailure; the ASL catches it by this name.
DECLINED_ERROR = "Coach.Declined"


class ApprovalRequest(BaseModel):
    """Input of the approval-request task (a `.waitForTaskToken` task): ask one role of one client to decide.

    `kind` is "ask" for the first request, "reminder" for a follow-up (its fresh links supersede the old ones)
    and "escalation" for the email to the client's escalation contact after the last reminder.
    """

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    client: ClientWork
    role: Role
    task_token: str = Field(min_length=1, max_length=2048)
    event: MarketEvent
    kind: Literal["ask", "reminder", "escalation"] = "ask"
    attempt: int = Field(default=0, ge=0)
    deadline_seconds: int = Field(ge=1)
    # The campaign's letter (coach.letters.specimen): the page shows these pinned versions. Absent: the event
    # type's template as deployed.
    template_id: str | None = None
    template_sha256: TemplatePins | None = None
    ask_client: bool | None = None  # the playbook asks the client after the account team (the thank-you page)


class Notice(BaseModel):
    """Input of the notify task: an informational email that asks nothing (counts only, never PHI)."""

    model_config = ConfigDict(extra="ignore")

    campaign_id: str
    kind: Literal["mandatory_account_team", "mandatory_client", "operator_alert", "invalid_contacts"]
    client: ClientWork | None = None
    event: MarketEvent | None = None
    stage: str | None = None
    error: str | None = None
    status: str = "FAILED"  # FAILED, TIMED_OUT or ABORTED: how the execution ended
    redrive_count: int = 0  # a redrive that fails again alerts again
    # a lake that broke the data contract: its problems (file or table, column, counts: never a value)
    lake_problems: list[str] = Field(default_factory=list, max_length=100)
