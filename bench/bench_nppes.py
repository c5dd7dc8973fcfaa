"""make bench-nppes: `coach prescribers import` on a generated NPPES dissemination file of 2 million rows with the
published 330-column header (about 2.3 GB, shaped like the real file: every field quoted, most empty), beside a
plain `csv.DictReader` pass over the same file. Each runs in a fresh process; reports rows per second and peak
memory (VmHWM). The import must stay under 1 GiB."""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ROWS = 2_000_000
LIMIT = 1 << 30

IMPORT = r"""
import json, sys, time
from pathlib import Path
from coach_local.prescribers.nppes import import_nppes
started = time.perf_counter()
stats = import_nppes(Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - started
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(json.dumps({"rows": stats.rows, "written": stats.written, "seconds": seconds, "peak_kib": int(hwm)}))
"""
DICTREADER = r"""
import csv, json, sys, time
started = time.perf_counter()
rows = 0
with open(sys.argv[1], newline="", encoding="utf-8") as handle:
    for row in csv.DictReader(handle):
        rows += 1
seconds = time.perf_counter() - started
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(json.dumps({"rows": rows, "seconds": seconds, "peak_kib": int(hwm)}))
"""


def generate(path: Path, rows: int) -> None:
    """The published header, then `rows` prescribers (about one in ten an organisation, one in fifty deactivated)."""
    from coach.prescribers.npi import with_check_digit

    from coach_local.prescribers.nppes_header import NPPES_HEADER

    index = {name: i for i, name in enumerate(NPPES_HEADER)}
    varying = [
        "NPI",
        "Entity Type Code",
        "Provider Organization Name (Legal Business Name)",
        "Provider Last Name (Legal Name)",
        "Provider First Name",
        "Provider Credential Text",
        "Provider First Line Business Practice Location Address",
        "Provider Business Practice Location Address City Name",
        "Provider Business Practice Location Address State Name",
        "Provider Business Practice Location Address Postal Code",
        "Provider Business Practice Location Address Country Code (If outside U.S.)",
        "Provider Business Practice Location Address Telephone Number",
        "Provider Business Practice Location Address Fax Number",
        "Provider Enumeration Date",
        "Last Update Date",
        "Healthcare Provider Taxonomy Code_1",
        "Healthcare Provider Primary Taxonomy Switch_1",
    ]
    cells = [""] * len(NPPES_HEADER)
    for slot, name in enumerate(varying):
        cells[index[name]] = f"{{{slot}}}"
    template = '"' + '","'.join(cells) + '"\r\n'
    header = '"' + '","'.join(NPPES_HEADER) + '"\r\n'
    deactivated = '"{0}"' + ',""' * (len(NPPES_HEADER) - 1) + "\r\n"
    lasts = ["SMITH", "GARCIA", "NGUYEN", "OKAFOR", "MUELLER", "ROSSI", "KIM", "PATEL", "COHEN", "SILVA"]
    firsts = ["ANA", "BEN", "CHEN", "DAVID", "EMMA", "FATIMA", "GRACE", "HUGO", "IRIS", "JUAN"]
    cities = [("SPRINGFIELD", "IL", "627011234"), ("BOSTON", "MA", "02108"), ("AUSTIN", "TX", "787010001")]
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        for n in range(rows):
            npi = with_check_digit(str(100_000_000 + n))
            if n % 50 == 49:
                out.write(deactivated.format(npi))
                continue
            city, state, zip_code = cities[n % 3]
            organisation = n % 10 == 9
            out.write(
                template.format(
                    npi,
                    "2" if organisation else "1",
                    f"PRAIRIE HEALTH {n} LLC" if organisation else "",
                    "" if organisation else lasts[n % 10],
                    "" if organisation else firsts[(n // 10) % 10],
                    "" if organisation else "MD",
                    f"{n % 9000 + 1} MAIN ST",
                    city,
                    state,
                    zip_code,
                    "US",
                    "2175550100",
                    "2175550142" if n % 3 else "",
                    "05/23/2005",
                    "07/08/2020",
                    "207R00000X",
                    "Y",
                )
            )


def measure(code: str, *args: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench" / "nppes")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    source = args.dir / f"npidata_pfile_bench_{args.rows}.csv"
    if not source.exists():
        started = time.perf_counter()
        partial = source.with_suffix(".partial")
        generate(partial, args.rows)
        partial.replace(source)
        print(
            f"generated {source} ({source.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s"
        )
    size_gb = source.stat().st_size / 1e9
    ours = measure(IMPORT, str(source), str(args.dir / "lake"))
    plain = measure(DICTREADER, str(source))
    with source.open(encoding="utf-8") as handle:
        columns = len(next(csv.reader(handle)))
    print(f"NPPES file: {args.rows:,} rows, {size_gb:.2f} GB, {columns} columns")
    print(f"{'':28} {'seconds':>8} {'rows/s':>10} {'peak MiB':>9}")
    for name, run in (("coach prescribers import", ours), ("csv.DictReader pass", plain)):
        rate = run["rows"] / run["seconds"]
        print(f"{name:28} {run['seconds']:8.1f} {rate:10,.0f} {run['peak_kib'] / 1024:9.0f}")
    print(json.dumps({"rows": args.rows, "gb": round(size_gb, 2), "import": ours, "dictreader": plain}))
    if ours["peak_kib"] * 1024 >= LIMIT:
        sys.exit(f"the import peaked at {ours['peak_kib'] / 1024:.0f} MiB: over 1 GiB")


if __name__ == "__main__":
    main()
