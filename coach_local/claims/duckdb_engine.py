"""The embedded claims engine: DuckDB over a local lake folder, bound parameters only."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import duckdb
from coach.audience.engine import AudienceParams, AudienceQueryFailed, ClientDirectoryEntry
from coach.audience.sql import AUDIENCE_SQL
from coach.brief.sql import BRIEF_SQL, BriefParams
from coach.lake_rules import Problem
from coach.outcomes.sql import OUTCOME_SQL, CohortMember, OutcomeParams

from coach_local.claims.branding import client_branding
from coach_local.claims.lake import check_claims_partitions, open_lake, quiet_connect, read_clients

FETCH_ROWS = 10_000


def _files_signature(lake: Path) -> tuple:
    """What changes when a lake's table files do (added, removed, rewritten)."""
    return tuple(
        (str(path), stat.st_mtime_ns, stat.st_size)
        for table in ("claims", "members", "drugs")
        for path in sorted((lake / table).rglob("*"))
        if path.is_file() and (stat := path.stat())
    )


class DuckDbClaimsEngine:
    def __init__(self, lake_dir: str | Path) -> None:
        self.lake_dir = Path(lake_dir)
        self._lock = threading.Lock()
        self._opened: tuple[tuple, duckdb.DuckDBPyConnection] | None = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the lake's validated views. The lake is opened (every file described, every value rule run)
        once for as long as its files stay the same: the audience and the brief of one campaign share that work."""
        signature = _files_signature(self.lake_dir)
        with self._lock:
            if self._opened is None or self._opened[0] != signature:
                if self._opened is not None:
                    self._opened[1].close()
                self._opened = None
                self._opened = (signature, open_lake(self.lake_dir))
            return quiet_connect(self._opened[1].cursor())

    def audience_rows(self, params: AudienceParams) -> Iterator[dict]:
        con = self._connect()
        try:
            check_claims_partitions(con, self.lake_dir, *params.bindings()[4:6])
            try:
                cursor = con.execute(AUDIENCE_SQL, params.bindings())
            except duckdb.Error as exc:
                raise AudienceQueryFailed(f"DuckDB: {str(exc).splitlines()[0][:300]}") from exc
            names = [d[0] for d in cursor.description]
            while batch := cursor.fetchmany(FETCH_ROWS):
                for values in batch:
                    yield dict(zip(names, values, strict=True))
        finally:
            con.close()

    def brief_rows(self, params: BriefParams) -> list[dict]:
        con = self._connect()
        try:
            cursor = con.execute(BRIEF_SQL, params.bindings())
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        except duckdb.Error as exc:
            raise AudienceQueryFailed(f"DuckDB (brief): {str(exc).splitlines()[0][:300]}") from exc
        finally:
            con.close()

    def prescriber_rows(self, params: AudienceParams) -> Iterator[dict]:
        """The prescriber query (coach.prescribers.sql) over this lake."""
        from coach_local.prescribers.engine import prescriber_rows

        return prescriber_rows(self.lake_dir, params)

    def outcome_counts(self, params: OutcomeParams, cohort: Sequence[CohortMember]) -> list[dict]:
        """The one outcome query, its cohort a table registered on the connection (never in the SQL text)."""
        import pyarrow as pa

        rows = pa.table(
            {
                "client_id": pa.array([c[0] for c in cohort], pa.string()),
                "member_id": pa.array([c[1] for c in cohort], pa.string()),
                "held_out": pa.array([c[2] for c in cohort], pa.bool_()),
            }
        )
        con = open_lake(self.lake_dir)
        try:
            con.register("cohort_rows", rows)
            sql = OUTCOME_SQL.format(cohort="SELECT client_id, member_id, held_out FROM cohort_rows")
            try:
                cursor = con.execute(sql, params.bindings())
            except duckdb.Error as exc:
                raise AudienceQueryFailed(f"DuckDB: {str(exc).splitlines()[0][:300]}") from exc
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, values, strict=True)) for values in cursor.fetchall()]
        finally:
            con.close()

    def lake_problems(self, announced_on: date) -> list[Problem]:
        from coach_local.claims.check import check_lake

        return check_lake(self.lake_dir, announced_on=announced_on).problems

    def clients(self) -> dict[str, ClientDirectoryEntry]:
        return {
            row["client_id"]: ClientDirectoryEntry(
                client_id=row["client_id"],
                name=row["name"],
                account_team_emails=tuple(row["account_team_emails"]),
                client_contact_emails=tuple(row["client_contact_emails"]),
                elections=row["elections"],
                escalation_email=row["escalation_email"],
                branding=client_branding(Path(self.lake_dir), row),
            )
            for row in read_clients(self.lake_dir)
        }
