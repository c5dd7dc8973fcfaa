"""A hand-built lake where every client and member is chosen to exercise one path of the workflow."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

CLARITIN_NDC = "11523716001"
OTHER_NDC = "00093505601"


def member(member_id: str, client_id: str, first: str, last: str, **overrides) -> dict:
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


def write_lake(
    root: Path, clients: list[dict], members: list[dict], fills: list[tuple[str, str, date, str]]
) -> Path:
    """fills: (member_id, ndc, fill_date, claim_status)."""
    (root / "members").mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(
            members,
            schema=pa.schema(
                [
                    ("member_id", pa.string()),
                    ("client_id", pa.string()),
                    ("first_name", pa.string()),
                    ("last_name", pa.string()),
                    ("address_line1", pa.string()),
                    ("address_line2", pa.string()),
                    ("city", pa.string()),
                    ("state", pa.string()),
                    ("postal_code", pa.string()),
                    ("language", pa.string()),
                    ("email", pa.string()),
                    ("email_consent", pa.bool_()),
                    ("preferred_channel", pa.string()),
                    ("eligibility_end", pa.date32()),
                    ("deceased", pa.bool_()),
                    ("opted_out", pa.bool_()),
                    ("confidential_address", pa.bool_()),
                ]
            ),
        ),
        root / "members" / "members.parquet",
    )
    (root / "clients").mkdir()
    pq.write_table(
        pa.Table.from_pylist(
            clients,
            schema=pa.schema(
                [
                    ("client_id", pa.string()),
                    ("name", pa.string()),
                    ("account_team_emails", pa.list_(pa.string())),
                    ("client_contact_emails", pa.list_(pa.string())),
                    ("elections", pa.map_(pa.string(), pa.string())),
                    ("escalation_email", pa.string()),
                ]
            ),
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
            ]
        ),
        root / "drugs" / "drugs.parquet",
    )
    by_month: dict[str, list[dict]] = {}
    for index, (member_id, ndc, fill_date, status) in enumerate(fills):
        by_month.setdefault(fill_date.strftime("%Y-%m"), []).append(
            {
                "claim_id": f"CL{index:06d}",
                "member_id": member_id,
                "ndc": ndc,
                "fill_date": fill_date,
                "days_supply": 30,
                "claim_status": status,
                "prescriber_npi": None,
                "pharmacy_npi": None,
            }
        )
    schema = pa.schema(
        [
            ("claim_id", pa.string()),
            ("member_id", pa.string()),
            ("ndc", pa.string()),
            ("fill_date", pa.date32()),
            ("days_supply", pa.int32()),
            ("claim_status", pa.string()),
            ("prescriber_npi", pa.string()),
            ("pharmacy_npi", pa.string()),
        ]
    )
    for month, rows in by_month.items():
        folder = root / "claims" / f"fill_month={month}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), folder / "part-0.parquet")
    return root
