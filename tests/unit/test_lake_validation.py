"""Bring your own lake: a lake that breaks the contract gets a one-line error naming the file and the column."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from coach.audience.engine import LakeError

from coach_local.claims.lake import open_lake, read_clients
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

FILL = date(2002, 10, 1)


@pytest.fixture
def lake(tmp_path) -> Path:
    return write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "A", "B")],
        [("M1", CLARITIN_NDC, FILL, "paid")],
    )


def rewrite(path: Path, change) -> None:
    table = change(pq.read_table(path))
    pq.write_table(table, path)


def test_valid_lake_opens(lake):
    open_lake(lake).close()


def test_missing_column_names_the_column_and_the_file(lake):
    path = lake / "members" / "members.parquet"
    rewrite(path, lambda t: t.drop(["opted_out"]))
    with pytest.raises(LakeError) as caught:
        open_lake(lake)
    assert "opted_out" in str(caught.value) and "members.parquet" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_mistyped_column_names_the_column(lake):
    path = lake / "members" / "members.parquet"
    rewrite(
        path,
        lambda t: t.set_column(
            t.schema.get_field_index("deceased"), "deceased", pa.array(["no"] * t.num_rows)
        ),
    )
    with pytest.raises(LakeError, match="'deceased' has type VARCHAR, expected bool"):
        open_lake(lake)


def test_missing_table_folder(lake):
    import shutil

    shutil.rmtree(lake / "drugs")
    with pytest.raises(LakeError, match="drugs"):
        open_lake(lake)


def test_empty_table_is_an_error_not_an_empty_audience(lake):
    rewrite(lake / "members" / "members.parquet", lambda t: t.slice(0, 0))
    with pytest.raises(LakeError, match="members is empty"):
        open_lake(lake)


def test_unreadable_file_is_named(lake):
    (lake / "drugs" / "drugs.parquet").write_bytes(b"PAR1 not really parquet")
    with pytest.raises(LakeError, match="drugs.parquet: unreadable"):
        open_lake(lake)


def test_hyphenated_ndc_in_drug_catalog_is_rejected(lake):
    rewrite(
        lake / "drugs" / "drugs.parquet",
        lambda t: t.set_column(0, "ndc", pa.array(["11523-7160-01"] + t.column("ndc").to_pylist()[1:])),
    )
    with pytest.raises(LakeError, match="'ndc'.*11 digits"):
        open_lake(lake)


def test_bad_election_value_is_rejected(lake):
    rewrite(
        lake / "clients" / "clients.parquet",
        lambda t: t.set_column(
            t.schema.get_field_index("elections"),
            "elections",
            pa.array([[("otc_switch", "sometimes")]], pa.map_(pa.string(), pa.string())),
        ),
    )
    with pytest.raises(LakeError, match="'elections'.*always, ask or never"):
        read_clients(lake)


def test_csv_lake_with_header_works(tmp_path, lake):
    csv_lake = tmp_path / "csv"
    for table in ("members", "drugs", "claims"):
        for parquet in (lake / table).rglob("*.parquet"):
            target = csv_lake / parquet.relative_to(lake).with_suffix(".csv")
            target.parent.mkdir(parents=True, exist_ok=True)
            rows = pq.read_table(parquet).to_pylist()
            with target.open("w", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows([{k: ("" if v is None else v) for k, v in r.items()} for r in rows])
    (csv_lake / "clients").mkdir()
    (csv_lake / "clients" / "clients.csv").write_text(
        "client_id,name,account_team_emails,client_contact_emails,elections,escalation_email\n"
        'C1,One,a@pbm.example;b@pbm.example,hr@one.example,"{""otc_switch"": ""always""}",\n'
    )
    con = open_lake(csv_lake)
    assert (
        con.execute("SELECT count(*) FROM claims WHERE fill_date = DATE '2002-10-01'").fetchall()[0][0] == 1
    )
    assert con.execute("SELECT deceased FROM members").fetchall()[0][0] is False
    [c] = read_clients(csv_lake)
    assert c["account_team_emails"] == ["a@pbm.example", "b@pbm.example"] and c["elections"] == {
        "otc_switch": "always"
    }
