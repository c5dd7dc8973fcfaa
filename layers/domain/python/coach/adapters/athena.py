"""The claims engine on AWS: the same AUDIENCE_SQL run by Athena with ExecutionParameters, its result UNLOADed
to S3 (JSON, gzip, partitioned by client) and read back from S3 — never paged through GetQueryResults (only the
one-count results of the lake's data-quality rules, coach.lake_rules, are read that way)."""

from __future__ import annotations

import gzip
import json
import random
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from botocore.exceptions import ClientError

from coach.adapters.aws import client
from coach.audience.engine import AudienceParams, AudienceQueryFailed, ClientDirectoryEntry
from coach.audience.sql import AUDIENCE_SQL
from coach.brief.sql import BRIEF_SQL, BriefParams
from coach.lake_rules import Problem, Rule, client_problems, lake_rules, normalise_elections
from coach.lake_schema import MONTH_PATTERN
from coach.letters.branding import BRANDING_COLUMNS, LOGO_LOCATION, Branding, branding_of, cell_problems
from coach.outcomes.sql import CohortMember, OutcomeParams
from coach.prescribers.rules import prescriber_rules, rule_sql
from coach.prescribers.sql import PRESCRIBER_SQL

RULES_AT_ONCE = 10  # lake-check queries running together: well inside Athena's concurrent-query quota
THROTTLED = {"TooManyRequestsException", "ThrottlingException", "Throttling"}
MEMBER_COLUMNS = (
    "member_id",
    "first_name",
    "last_name",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "language",
    "email",
    "email_consent",
    "preferred_channel",
    "confidential_address",
    "drug_name",
    "last_fill_date",
    "reachable",
)
CLIENTS_SQL = (
    "SELECT client_id, name, account_team_emails, client_contact_emails, elections, escalation_email, "
    + ", ".join(BRANDING_COLUMNS)  # the client's letterhead (coach.letters.branding): null where unset
    + " FROM clients"
)


def sql_literal(value: str) -> str:
    """ExecutionParameters are SQL literals: a string is quoted, its quotes doubled (no injection through values)."""
    return "'" + value.replace("'", "''") + "'"


def lake_checks() -> list[tuple[Rule, str]]:
    """Every rule the lake check runs on Athena, with its Trino SQL: coach.lake_rules' and the prescribers table's
    (coach.prescribers.rules, as `coach lake check` runs them locally). The Glue table of prescribers is always
    declared; a lake without prescribers/ reads as an empty table, and its rules count nothing."""
    return [(rule, rule.sql("athena")) for rule in lake_rules(with_event=True)] + [
        (rule, rule_sql(rule, "athena")[0]) for rule in prescriber_rules()
    ]


class AthenaClaimsEngine:
    def __init__(
        self,
        *,
        workgroup: str,
        database: str,
        output_s3_uri: str,
        poll_seconds: float = 1.0,
        timeout_seconds: float = 840.0,
        lake_uri: str | None = None,
        athena: Any = None,
        s3: Any = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not output_s3_uri.startswith("s3://"):
            raise ValueError("ATHENA_OUTPUT must be an s3:// URI")
        self.workgroup, self.database = workgroup, database
        self.output = output_s3_uri.rstrip("/")
        self.poll_seconds, self.timeout_seconds = poll_seconds, timeout_seconds
        self.lake_uri = lake_uri.rstrip("/") + "/" if lake_uri else None
        self._athena, self._s3, self._sleep = athena, s3, sleep

    @property
    def athena(self) -> Any:
        return self._athena or client("athena")

    @property
    def s3(self) -> Any:
        return self._s3 or client("s3")

    def _call(self, operation: str, **kwargs: Any) -> dict:
        """Athena call with exponential backoff and jitter on throttling."""
        for attempt in range(8):
            try:
                return dict(getattr(self.athena, operation)(**kwargs))
            except ClientError as exc:
                if exc.response["Error"]["Code"] not in THROTTLED or attempt == 7:
                    raise
                self._sleep(min(20.0, 0.5 * 2**attempt) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def _start(self, query: str, parameters: list[str]) -> str:
        kwargs: dict[str, Any] = {
            "QueryString": query,
            "WorkGroup": self.workgroup,
            "QueryExecutionContext": {"Database": self.database},
        }
        if parameters:
            kwargs["ExecutionParameters"] = [sql_literal(p) for p in parameters]
        return str(self._call("start_query_execution", **kwargs)["QueryExecutionId"])

    def _wait(self, execution_id: str) -> None:
        deadline = time.monotonic() + self.timeout_seconds
        while True:
            status = self._call("get_query_execution", QueryExecutionId=execution_id)["QueryExecution"][
                "Status"
            ]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get(
                    "ErrorMessage", ""
                )
                raise AudienceQueryFailed(f"Athena query {execution_id} {state.lower()}: {reason}"[:900])
            if time.monotonic() > deadline:
                self._call("stop_query_execution", QueryExecutionId=execution_id)
                raise AudienceQueryFailed(
                    f"Athena query {execution_id} did not finish in {self.timeout_seconds:.0f} s"
                )
            self._sleep(self.poll_seconds)

    def _unload(self, select_sql: str, parameters: list[str], prefix: str, partition: str | None) -> str:
        partitioned = f", partitioned_by = ARRAY['{partition}']" if partition else ""
        query = (
            f"UNLOAD ({select_sql}) TO '{prefix}' WITH (format = 'JSON', compression = 'GZIP'{partitioned})"
        )
        execution_id = self._start(query, parameters)
        self._wait(execution_id)
        return execution_id

    def lake_problems(self, announced_on: date) -> list[Problem]:
        """Every rule of lake_checks() as one Athena query (started ten at a time, a count each), then the clients
        directory's rules. Problems name the table and column, never a value."""
        checks, problems = lake_checks(), []
        for wave in range(0, len(checks), RULES_AT_ONCE):
            started = [
                (rule, self._start(sql, [announced_on.isoformat()] if rule.needs_event else []))
                for rule, sql in checks[wave : wave + RULES_AT_ONCE]
            ]
            for rule, execution_id in started:
                self._wait(execution_id)
                result = self._call("get_query_results", QueryExecutionId=execution_id, MaxResults=2)
                rows = int(result["ResultSet"]["Rows"][-1]["Data"][0]["VarCharValue"])  # row 0 is the header
                if rows:
                    problems.append(rule.found(rows, f"{self.database}.{rule.table}"))
        problems += self._partition_problems()
        clients, where = self._client_rows(), f"{self.database}.clients"
        return problems + client_problems(clients, where) + cell_problems(clients, where)

    def _partition_problems(self) -> list[Problem]:
        """Partition projection reads only claims/fill_month=YYYY-MM/: claims anywhere else would be ignored
        silently, so the folder names are checked in S3 (names only: a listing, no object is read)."""
        if not self.lake_uri:
            return []
        bucket, _, root = self.lake_uri[5:].partition("/")
        prefix, problems = f"{root}claims/", []
        month = re.compile(f"^fill_month=({MONTH_PATTERN})/$")
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        for page in pages:
            for folder in page.get("CommonPrefixes", []):
                name = folder["Prefix"][len(prefix) :]
                if not month.match(name):
                    problems.append(
                        Problem(
                            "error",
                            f"{self.lake_uri}claims/{name}",
                            "fill_month",
                            "is a partition folder whose name is not a month (Athena would ignore its claims)",
                            "partition folders named fill_month=YYYY-MM (fill_month=2026-05, not 2026-5)",
                        )
                    )
            loose = [item for item in page.get("Contents", []) if item["Size"] > 0]
            if loose:
                problems.append(
                    Problem(
                        "error",
                        f"{self.lake_uri}claims/",
                        "fill_month",
                        "claims files outside the partition folders (Athena would ignore them)",
                        "every claims file in a fill_month=YYYY-MM folder",
                    )
                )
        return problems

    def _objects(self, prefix: str) -> list[str]:
        bucket, key_prefix = prefix[5:].split("/", 1)
        keys: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key_prefix):
            keys += [item["Key"] for item in page.get("Contents", []) if item["Size"] > 0]
        return sorted(keys)

    def _rows(self, bucket: str, key: str) -> Iterator[dict]:
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        text = (
            gzip.decompress(body).decode("utf-8")
            if key.endswith(".gz") or body[:2] == b"\x1f\x8b"
            else body.decode()
        )
        for line in text.splitlines():
            if line.strip():
                yield json.loads(line)

    def audience_rows(self, params: AudienceParams) -> Iterator[dict]:
        prefix = f"{self.output}/{params.campaign_id}/{uuid.uuid4().hex}/"
        inner = AUDIENCE_SQL.strip().rsplit("ORDER BY", 1)[0]
        select = f"SELECT {', '.join(MEMBER_COLUMNS)}, client_id FROM ({inner})"
        self._unload(select, params.bindings(), prefix, partition="client_id")
        bucket = prefix[5:].split("/", 1)[0]
        by_client: dict[str, list[str]] = {}
        for key in self._objects(prefix):
            part = next((p for p in key.split("/") if p.startswith("client_id=")), None)
            if part:
                by_client.setdefault(part.split("=", 1)[1], []).append(key)
        for client_id in sorted(by_client):  # contiguous per client, as the service needs
            for key in by_client[client_id]:
                for row in self._rows(bucket, key):
                    row["client_id"] = client_id
                    yield row

    def brief_rows(self, params: BriefParams) -> list[dict]:
        """BRIEF_SQL UNLOADed like the audience (a few rows per client: counts and sums), read back from S3."""
        prefix = f"{self.output}/{params.audience.campaign_id}/brief-{uuid.uuid4().hex}/"
        self._unload(BRIEF_SQL.strip(), params.bindings(), prefix, partition=None)
        bucket = prefix[5:].split("/", 1)[0]
        return [row for key in self._objects(prefix) for row in self._rows(bucket, key)]

    def prescriber_rows(self, params: AudienceParams) -> Iterator[dict]:
        """The prescriber query UNLOADed in ten parts by the NPI's last digit (UNLOAD keeps no order): each part is
        sorted in memory, so one prescriber's rows come together and only a tenth is held at a time."""
        prefix = f"{self.output}/{params.campaign_id}/prescribers/{uuid.uuid4().hex}/"
        inner = PRESCRIBER_SQL.strip().rsplit("ORDER BY", 1)[0]
        part = "CASE WHEN length(npi) = 10 THEN substr(npi, 10, 1) ELSE 'none' END AS npi_part"
        self._unload(f"SELECT *, {part} FROM ({inner})", params.bindings(), prefix, partition="npi_part")
        bucket = prefix[5:].split("/", 1)[0]
        by_part: dict[str, list[str]] = {}
        for key in self._objects(prefix):
            name = next((p for p in key.split("/") if p.startswith("npi_part=")), "npi_part=none")
            by_part.setdefault(name, []).append(key)
        for name in sorted(by_part):
            rows = [row for key in by_part[name] for row in self._rows(bucket, key)]
            rows.sort(key=lambda r: (r.get("npi") or "", r["client_id"], r["member_id"]))
            yield from rows

    def outcome_counts(self, params: OutcomeParams, cohort: Sequence[CohortMember]) -> list[dict]:
        from coach.adapters.athena_outcomes import outcome_counts

        return outcome_counts(self, params, cohort)

    def _client_rows(self) -> list[dict]:
        prefix = f"{self.output}/_clients/{uuid.uuid4().hex}/"
        self._unload(CLIENTS_SQL, [], prefix, partition=None)
        bucket = prefix[5:].split("/", 1)[0]
        rows = [row for key in self._objects(prefix) for row in self._rows(bucket, key)]
        for row in rows:
            row["elections"] = normalise_elections(dict(row.get("elections") or {}))
        return rows

    def clients(self) -> dict[str, ClientDirectoryEntry]:
        return {
            row["client_id"]: ClientDirectoryEntry(
                client_id=row["client_id"],
                name=row.get("name") or row["client_id"],
                account_team_emails=tuple(row.get("account_team_emails") or ()),
                client_contact_emails=tuple(row.get("client_contact_emails") or ()),
                elections=row["elections"],
                escalation_email=row.get("escalation_email"),
                branding=self._branding(row),
            )
            for row in self._client_rows()
        }

    def _branding(self, row: dict) -> Branding:
        """The client's letterhead; its logo read from S3: an s3:// location, or a path relative to the lake
        (BrandingError, naming the client, when it cannot be used)."""
        location = str(row.get("logo") or "").strip()
        logo = None
        if location and LOGO_LOCATION.match(location) and (self.lake_uri or location.startswith("s3://")):
            uri = location if location.lower().startswith("s3://") else f"{self.lake_uri}{location}"
            bucket, _, key = uri[5:].partition("/")
            try:
                logo = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
            except ClientError as exc:  # NoSuchKey: branding_of says the logo does not exist
                if exc.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                    raise
        return branding_of(row["client_id"], row, logo)
