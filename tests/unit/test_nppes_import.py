"""`coach prescribers import --nppes FILE --out LAKE`: the prescribers/ table from the NPPES dissemination file
(its published 330-column header), streamed block by block; the lake check then reads it like any table."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from coach_local.claims.check import check_lake
from coach_local.cli import app
from coach_local.inputs import BadInput
from coach_local.prescribers import nppes
from coach_local.prescribers.nppes_header import NPPES_HEADER
from tests.workflow.tiny_lake import CLARITIN_NDC, client, member, write_lake

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "nppes" / "npidata_pfile_sample.csv"


def rows(lake: Path) -> list[dict]:
    return pq.read_table(lake / "prescribers" / "prescribers.parquet").to_pylist()


def test_the_sample_has_the_published_header():
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle))
    assert header == list(NPPES_HEADER) and len(header) == 330
    assert header[:2] == ["NPI", "Entity Type Code"] and header[-1] == "Certification Date"


def test_import_writes_one_prescriber_per_active_npi_with_the_practice_address(tmp_path):
    result = CliRunner().invoke(
        app, ["prescribers", "import", "--nppes", str(SAMPLE), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # the console wraps a long lake path's line
    assert "4 prescribers written from 5 rows (1 deactivated NPIs skipped)" in said
    by_npi = {row["npi"]: row for row in rows(tmp_path)}
    assert set(by_npi) == {"1234567893", "1245319599", "1003000126", "1003000142"}
    ruiz = by_npi["1234567893"]
    assert ruiz["name"] == "ANA RUIZ, M.D."
    assert (ruiz["address_line1"], ruiz["address_line2"], ruiz["city"], ruiz["state"]) == (
        "800 E CARPENTER ST",
        "SUITE 200",
        "SPRINGFIELD",
        "IL",
    )  # the practice location, not the mailing address (PO BOX 42)
    assert ruiz["postal_code"] == "62769-1234"
    assert (ruiz["fax"], ruiz["accepts_fax"], ruiz["accepts_mail"]) == ("2175550142", True, True)
    clinic = by_npi["1245319599"]
    assert clinic["name"] == "PRAIRIE FAMILY HEALTH CLINIC LLC"
    assert (clinic["fax"], clinic["accepts_fax"]) == (None, False)


def test_the_imported_table_passes_the_lake_check(tmp_path):
    lake = write_lake(
        tmp_path / "lake",
        [client("C1", "One")],
        [member("M1", "C1", "A", "B")],
        [("M1", CLARITIN_NDC, date(2002, 10, 1), "paid", "1234567893")],
    )
    nppes.import_nppes(SAMPLE, lake)
    assert check_lake(lake).problems == []


def test_a_file_without_an_nppes_column_is_refused_naming_it(tmp_path):
    broken = tmp_path / "npidata_pfile_broken.csv"
    with (
        SAMPLE.open(newline="", encoding="utf-8") as source,
        broken.open("w", newline="", encoding="utf-8") as out,
    ):
        reader, writer = csv.reader(source), csv.writer(out, quoting=csv.QUOTE_ALL)
        for line in reader:
            writer.writerow(line[:28] + line[29:])  # drop the practice address's first line
    with pytest.raises(BadInput, match="Provider First Line Business Practice Location Address"):
        nppes.import_nppes(broken, tmp_path / "lake")


def test_a_large_file_is_read_in_blocks_each_written_as_it_comes(tmp_path, monkeypatch):
    big = tmp_path / "npidata_pfile_big.csv"
    shutil.copy(SAMPLE, big)
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        body = handle.read().split("\r\n", 1)[1]
    with big.open("a", encoding="utf-8", newline="") as handle:
        for _ in range(400):
            handle.write(body)
    monkeypatch.setattr(nppes, "BLOCK_BYTES", 64 << 10)
    stats = nppes.import_nppes(big, tmp_path / "lake")
    assert (stats.rows, stats.written) == (401 * 5, 401 * 4)
    assert pq.ParquetFile(tmp_path / "lake" / "prescribers" / "prescribers.parquet").num_row_groups > 1
