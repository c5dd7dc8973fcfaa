"""The claims lake's schema, written once: every table, every column with its contract type, whether it may be
null, its allowed values and the claims partitioning. The Glue tables (CDK), the local validator and lake check,
the synthetic lake generator and the test lakes all derive from it (docs/data-contract.md lists the accepted forms).

Pure Python on purpose: the domain ships to Lambda without duckdb or pyarrow, and the CDK app imports it too.
"""

from __future__ import annotations

from dataclasses import dataclass

# Contract types (what docs/data-contract.md calls them), and the Glue/Hive type each is declared as on AWS.
STRING, DATE, INT, BOOL, DECIMAL = "string", "date", "int", "bool", "decimal"
LIST_OF_STRINGS, MAP_OF_STRINGS = "list<string>", "map<string,string>"
CONTRACT_TYPES = (STRING, DATE, INT, BOOL, DECIMAL, LIST_OF_STRINGS, MAP_OF_STRINGS)
GLUE_TYPES = {
    STRING: "string",
    DATE: "date",
    INT: "int",
    BOOL: "boolean",
    DECIMAL: "decimal(18,2)",
    LIST_OF_STRINGS: "array<string>",
    MAP_OF_STRINGS: "map<string,string>",
}

NDC_PATTERN = "[0-9]{11}"
CLIENT_ID_PATTERN = "[A-Za-z0-9_.-]{1,64}"
MONTH_PATTERN = "[0-9]{4}-(0[1-9]|1[0-2])"
EVENT_TYPES = ("otc_switch", "patent_expiry", "generic_launch", "new_drug", "recall", "formulary_change")
ELECTIONS = ("always", "ask", "never")
CLAIM_STATUSES = ("paid", "reversed")
CHANNELS = ("mail", "email")
SENSITIVE_CLASSES = ("hiv", "substance_use", "behavioral_health", "reproductive")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = False  # may a row leave it empty (null, or a blank CSV cell)?
    required: bool = (
        True  # must every file of the table have it? (optional columns are validated when present)
    )
    values: tuple[str, ...] = ()  # the allowed values of an enum (compared lower-cased and trimmed)
    pattern: str | None = (
        None  # the whole value must match (a regular expression both DuckDB and Athena read)
    )

    def __post_init__(self) -> None:
        if self.type not in CONTRACT_TYPES:
            raise ValueError(f"column {self.name}: unknown contract type {self.type}")


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    key: str  # unique in the table
    partition: str | None = None  # a Hive partition column (folder name=value), not stored in the files

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _strings(*names: str, nullable: bool = False) -> tuple[Column, ...]:
    return tuple(Column(name, STRING, nullable=nullable) for name in names)


# The pharmacist's brief (coach.brief): optional columns, checked when present, read as null when absent; a brief
# without them says which figures it cannot give (docs/data-contract.md).
BRIEF_CLAIM_COLUMNS = (
    Column("plan_paid", DECIMAL, nullable=True, required=False),  # USD the plan paid for the fill
    Column("member_paid", DECIMAL, nullable=True, required=False),  # USD the member paid (copay, coinsurance)
    Column("quantity", DECIMAL, nullable=True, required=False),  # units dispensed (tablets, mL, pens)
)
BRIEF_MEMBER_COLUMNS = (Column("birth_date", DATE, nullable=True, required=False),)

CLAIMS = Table(
    "claims",
    (
        Column("claim_id", STRING),
        Column("member_id", STRING),
        Column("ndc", STRING, pattern=NDC_PATTERN),
        Column("fill_date", DATE),
        Column("days_supply", INT),
        Column("claim_status", STRING, values=CLAIM_STATUSES),
        Column("prescriber_npi", STRING, nullable=True, required=False),
        Column("pharmacy_npi", STRING, nullable=True, required=False),
        *BRIEF_CLAIM_COLUMNS,
    ),
    key="claim_id",
    partition="fill_month",
)
MEMBERS = Table(
    "members",
    (
        Column("member_id", STRING),
        Column("client_id", STRING, pattern=CLIENT_ID_PATTERN),
        *_strings("first_name", "last_name"),
        # a member without a usable address is valid: unreachable by mail (the audience rule says so)
        *_strings("address_line1", "address_line2", "city", "state", "postal_code", nullable=True),
        Column("language", STRING, nullable=True),  # empty: English
        Column("email", STRING, nullable=True),
        Column("email_consent", BOOL),
        Column("preferred_channel", STRING, nullable=True, values=CHANNELS),  # empty: mail
        Column("eligibility_end", DATE, nullable=True),  # empty: still eligible
        Column("deceased", BOOL),
        Column("opted_out", BOOL),
        Column("confidential_address", BOOL),
        *BRIEF_MEMBER_COLUMNS,
    ),
    key="member_id",
)
DRUGS = Table(
    "drugs",
    (
        Column("ndc", STRING, pattern=NDC_PATTERN),
        Column("name", STRING),
        Column("ingredient", STRING),
        Column("sensitive_class", STRING, nullable=True, values=SENSITIVE_CLASSES),
    ),
    key="ndc",
)
CLIENTS = Table(
    "clients",
    (
        Column("client_id", STRING, pattern=CLIENT_ID_PATTERN),
        Column("name", STRING),
        Column("account_team_emails", LIST_OF_STRINGS),
        Column("client_contact_emails", LIST_OF_STRINGS),
        Column("elections", MAP_OF_STRINGS, nullable=True),  # keys: event types; values: ELECTIONS
        Column("escalation_email", STRING, nullable=True),
        # The client's own letterhead (coach.letters.branding, docs/templates.md): optional, validated when present.
        *(
            Column(name, STRING, nullable=True, required=False)
            for name in (
                "plan_name",
                "letterhead_name",
                "return_address_line1",
                "return_address_line2",
                "return_city",
                "return_state",
                "return_postal_code",
                "member_services_phone",
                "member_services_hours",
                "signature",
                "logo",  # a PNG or JPEG: a path relative to the lake (logos/acme.png) or an s3:// location
            )
        ),
    ),
    key="client_id",
)
# Prescribers (issue 17): optional in a lake (without it every prescriber is unknown and counted so). An NPI
# failing its check digit or a prescriber without a usable address is a warning of the lake check, not an error:
# the campaign goes on and counts them (coach.prescribers).
PRESCRIBERS = Table(
    "prescribers",
    (
        Column("npi", STRING),
        Column("name", STRING),
        *_strings("address_line1", "address_line2", "city", "state", "postal_code", nullable=True),
        Column("fax", STRING, nullable=True),
        Column("accepts_fax", BOOL),
        Column("accepts_mail", BOOL),
    ),
    key="npi",
)
OPTIONAL_TABLES = ("prescribers",)  # a lake without these folders is complete
TABLES: dict[str, Table] = {t.name: t for t in (CLAIMS, MEMBERS, DRUGS, CLIENTS, PRESCRIBERS)}


def glue_columns(table: str) -> list[tuple[str, str]]:
    """(name, Glue type) of every column the Glue table declares, in the schema's order (partition excluded)."""
    return [(c.name, GLUE_TYPES[c.type]) for c in TABLES[table].columns]
