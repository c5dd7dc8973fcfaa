"""`coach prescribers import`: the prescribers/ table from the NPPES Data Dissemination file, streamed.

The file is about 9 million rows and several GB: Arrow's CSV reader reads it in blocks, only the ten columns the
table needs are converted, and each block is written as one row group of prescribers/prescribers.parquet, so
memory stays at a few blocks whatever the file's size. Rows without an entity type (deactivated NPIs, which
NPPES publishes with every other field empty) are skipped and counted. NPPES records no notice preference: a
prescriber with a practice fax number is written `accepts_fax`, and every prescriber `accepts_mail`; a PBM that
knows better edits the table."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from coach.lake_schema import PRESCRIBERS

from coach_local.inputs import BadInput
from coach_local.prescribers.nppes_header import NPPES_HEADER

BLOCK_BYTES = 16 << 20  # Arrow reads (and holds) the file a block at a time
SOURCE = {
    "npi": "NPI",
    "entity": "Entity Type Code",
    "organization": "Provider Organization Name (Legal Business Name)",
    "last": "Provider Last Name (Legal Name)",
    "first": "Provider First Name",
    "credential": "Provider Credential Text",
    "address_line1": "Provider First Line Business Practice Location Address",
    "address_line2": "Provider Second Line Business Practice Location Address",
    "city": "Provider Business Practice Location Address City Name",
    "state": "Provider Business Practice Location Address State Name",
    "postal_code": "Provider Business Practice Location Address Postal Code",
    "fax": "Provider Business Practice Location Address Fax Number",
}
SCHEMA = pa.schema([(c.name, pa.bool_() if c.type == "bool" else pa.string()) for c in PRESCRIBERS.columns])


@dataclass(frozen=True)
class ImportStats:
    rows: int  # data rows read
    written: int  # prescribers written
    skipped: int  # deactivated NPIs (no entity type)

    def __str__(self) -> str:
        return f"{self.written:,} prescribers written from {self.rows:,} rows ({self.skipped:,} deactivated NPIs skipped)"


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot read the NPPES file ({exc})") from exc
    missing = [name for name in SOURCE.values() if name not in header]
    if missing:
        raise BadInput(
            f"{path}: not an NPPES dissemination file: no column {missing[0]!r} in its header "
            f"({len(header)} columns; the published file has {len(NPPES_HEADER)})"
        )
    return header


def _blank_to_null(values: pa.Array) -> pa.Array:
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _prescribers(batch: pa.RecordBatch) -> pa.Table:
    col = {key: pc.utf8_trim_whitespace(batch.column(name)) for key, name in SOURCE.items()}
    person = pc.binary_join_element_wise(col["first"], col["last"], " ")
    credentialed = pc.binary_join_element_wise(person, col["credential"], ", ")
    person = pc.if_else(pc.equal(col["credential"], ""), person, credentialed)
    name = pc.if_else(pc.equal(col["entity"], "2"), col["organization"], person)
    postal = col["postal_code"]
    zip_plus_four = pc.binary_join_element_wise(
        pc.utf8_slice_codeunits(postal, 0, 5), pc.utf8_slice_codeunits(postal, 5, 9), "-"
    )
    postal = pc.if_else(pc.equal(pc.utf8_length(postal), 9), zip_plus_four, postal)
    fax = _blank_to_null(col["fax"])
    table = pa.table(
        {
            "npi": col["npi"],
            "name": _blank_to_null(name),
            "address_line1": _blank_to_null(col["address_line1"]),
            "address_line2": _blank_to_null(col["address_line2"]),
            "city": _blank_to_null(col["city"]),
            "state": _blank_to_null(col["state"]),
            "postal_code": _blank_to_null(postal),
            "fax": fax,
            "accepts_fax": pc.is_valid(fax),
            "accepts_mail": pa.array([True] * len(batch), pa.bool_()),
        },
        schema=SCHEMA,
    )
    return table.filter(pc.is_in(col["entity"], pa.array(["1", "2"])))


def import_nppes(nppes: Path, lake: Path) -> ImportStats:
    """Writes lake/prescribers/prescribers.parquet (the folder's earlier files replaced) from the NPPES file."""
    nppes, lake = Path(nppes), Path(lake)
    _header(nppes)
    folder = lake / PRESCRIBERS.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in [*folder.glob("*.parquet"), *folder.glob("*.csv")]:
        old.unlink()
    wanted = list(SOURCE.values())
    reader = pacsv.open_csv(
        nppes,
        read_options=pacsv.ReadOptions(block_size=BLOCK_BYTES),
        convert_options=pacsv.ConvertOptions(
            include_columns=wanted, column_types={name: pa.string() for name in wanted}
        ),
    )
    rows = written = 0
    target = folder / "prescribers.parquet"
    with pq.ParquetWriter(target, SCHEMA) as writer:
        for batch in reader:
            table = _prescribers(batch)
            rows += batch.num_rows
            written += table.num_rows
            if table.num_rows:
                writer.write_table(table)
    return ImportStats(rows=rows, written=written, skipped=rows - written)
