"""A hand-built lake where every client and member is chosen to exercise one path of the workflow."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from coach_local.lakegen import arrow_schema

CLARITIN_NDC = "11523716001"
OTHER_NDC = "00093505601"


def member(member_id: str, client_id: str, first: str | None, last: str | None, **overrides) -> dict:
    row = {
        "member_id": member_id,
        "client_id": client_id,
        "first_name": first,
        "last_name": last,
        "address_line1": f"{member_id[-3:]} Main St",
        "address_line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "language": "en",
        "email": None,
        "email_consent": False,
        "preferred_channel": "mail",
        "eligibility_end": None,
        "deceased": False,
        "opted_out": False,
        "confidential_address": False,
    }
    row.update(overrides)
    return row


def client(client_id: str, name: str, elections: dict[str, str] | None = None) -> dict:
    return {
        "client_id": client_id,
        "name": name,
        "account_team_emails": [
            f"team-{client_id.lower()}@pbm.example",
            f"lead-{client_id.lower()}@pbm.example",
        ],
        "client_contact_emails": [f"benefits@{client_id.lower()}.example"],
        "elections": elections or {},
        "escalation_email": f"vp@{client_id.lower()}.example",
    }


def prescriber(npi: str, name: str | None, **overrides) -> dict:
    row = {
        "npi": npi,
        "name": name,
        "address_line1": "1 Clinic Way",
        "address_line2": None,
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62701",
        "fax": None,
        "accepts_fax": False,
        "accepts_mail": True,
    }
    row.update(overrides)
    return row


def write_lake(
    root: Path,
    clients: list[dict],
    members: list[dict],
    fills: list[tuple],
    prescribers: list[dict] | None = None,
) -> Path:
    """fills: (member_id, ndc, fill_date, claim_status[, prescriber_npi]); prescribers/ only when given."""
    (root / "members").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(
            members,
            schema=arrow_schema("members"),
        ),
        root / "members" / "members.parquet",
    )
    (root / "clients").mkdir()
    pq.write_table(
        pa.Table.from_pylist(
            clients,
            schema=arrow_schema("clients"),
        ),
        root / "clients" / "clients.parquet",
    )
    (root / "drugs").mkdir()
    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "ndc": CLARITIN_NDC,
                    "name": "Claritin 10 mg tablet",
                    "ingredient": "loratadine",
                    "sensitive_class": None,
                },
                {
                    "ndc": OTHER_NDC,
                    "name": "Simvastatin 20 mg tablet",
                    "ingredient": "simvastatin",
                    "sensitive_class": None,
                },
            ],
            schema=arrow_schema("drugs"),
        ),
        root / "drugs" / "drugs.parquet",
    )
    by_month: dict[str, list[dict]] = {}
    if prescribers is not None:
        (root / "prescribers").mkdir()
        pq.write_table(
            pa.Table.from_pylist(prescribers, schema=arrow_schema("prescribers")),
            root / "prescribers" / "prescribers.parquet",
        )
    for index, (member_id, ndc, fill_date, status, *npi) in enumerate(fills):
        by_month.setdefault(fill_date.strftime("%Y-%m"), []).append(
            {
                "claim_id": f"CL{index:06d}",
                "member_id": member_id,
                "ndc": ndc,
                "fill_date": fill_date,
                "days_supply": 30,
                "claim_status": status,
                "prescriber_npi": npi[0] if npi else None,
                "pharmacy_npi": None,
            }
        )
    schema = arrow_schema("claims")
    for month, rows in by_month.items():
        folder = root / "claims" / f"fill_month={month}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")
    return root
