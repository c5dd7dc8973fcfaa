"""make bench-audience: the audience query on generated lakes of 10M and 100M claims, partitioned Parquet (this
project's layout) side by side with an unpartitioned CSV copy of the same lake, in one run.

Reports per lake: query time (median of 5, each run in a fresh process), the pharmacist's brief query's time beside
it (coach.brief.sql: the same matching and lookback, counts and sums per client), the lake check's time before it
(`coach lake check`: every rule, every file), peak memory (VmHWM of that process),
and the fraction of the claims table's bytes the query must read (what Athena bills): for Parquet, the column
chunks of the columns it uses in the partitions inside the lookback; for CSV, every byte.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
QUERY_COLUMNS = {"member_id", "ndc", "fill_date", "claim_status"}
SIZES = {"1M": 44_000, "10M": 440_000, "100M": 4_400_000}  # members → about 10M / 100M claims over 36 months

CHILD = r"""
import json, sys, time
from pathlib import Path
from coach_local.claims.duckdb_engine import DuckDbClaimsEngine
from coach.audience.engine import AudienceParams
from coach.intake import plan_campaign
from coach_local.claims.check import check_lake
from coach_local.inputs import load_event
campaign = plan_campaign(load_event(Path(sys.argv[2]))).campaign
engine = DuckDbClaimsEngine(sys.argv[1])
started = time.perf_counter()
errors = check_lake(sys.argv[1], announced_on=campaign.event.announced_on).errors
check_seconds = time.perf_counter() - started
assert not errors, [e.line() for e in errors]
started = time.perf_counter()
rows = sum(1 for _ in engine.audience_rows(AudienceParams.for_campaign(campaign)))
seconds = time.perf_counter() - started
from coach.brief.service import brief_params, policy_of
started = time.perf_counter()
brief_rows = len(engine.brief_rows(brief_params(campaign, policy_of(campaign))))
brief_seconds = time.perf_counter() - started
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "brief_seconds": brief_seconds, "check_seconds": check_seconds, "rows": rows,
                  "peak_kib": peak}))
"""


def ensure_lake(name: str, members: int, base: Path) -> Path:
    from coach_local.lakegen import generate_lake

    lake = base / f"lake-{name}"
    marker = lake / ".generated.json"
    if not marker.exists():
        started = time.perf_counter()
        stats = generate_lake(lake, members=members, clients=400, months=36, seed=42)
        marker.write_text(json.dumps({"claims": stats.claims, "seconds": time.perf_counter() - started}))
    return lake


def ensure_csv_copy(lake: Path) -> Path:
    """The same lake with claims as ONE unpartitioned CSV file (fill_month kept as an ordinary column)."""
    copy = lake.parent / f"{lake.name}-csv"
    if (copy / ".done").exists():
        return copy
    for table in ("members", "drugs", "clients"):
        (copy / table).mkdir(parents=True, exist_ok=True)
        for part in (lake / table).glob("*.parquet"):
            target = copy / table / part.name
            if not target.exists():
                target.symlink_to(part)
    for extra in ("logos", "prescribers"):  # the clients' logos (inside the lake: copied), the optional table
        if (lake / extra).is_dir() and not (copy / extra).exists():
            shutil.copytree(lake / extra, copy / extra)
    folder = copy / "claims"
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * FROM read_parquet('{lake}/claims/**/*.parquet', hive_partitioning = true)) "
        f"TO '{folder}/claims.csv' (HEADER)"
    )
    (copy / ".done").write_text("ok")
    return copy


def parquet_fraction(lake: Path, first_month: str, last_month: str) -> float:
    total = read = 0
    for path in (lake / "claims").rglob("*.parquet"):
        month = path.parent.name.split("=", 1)[1]
        meta = pq.ParquetFile(path).metadata
        for group in range(meta.num_row_groups):
            for column in range(meta.num_columns):
                chunk = meta.row_group(group).column(column)
                total += chunk.total_compressed_size
                if first_month <= month <= last_month and chunk.path_in_schema in QUERY_COLUMNS:
                    read += chunk.total_compressed_size
    return read / total


def measure(lake: Path, runs: int) -> dict:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(lake), str(EVENT)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        results.append(json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1]))
    return {
        "median_s": statistics.median(r["seconds"] for r in results),
        "brief_s": statistics.median(r["brief_seconds"] for r in results),
        "check_s": statistics.median(r["check_seconds"] for r in results),
        "rows": results[0]["rows"],
        "peak_mib": max(r["peak_kib"] for r in results) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10M,100M")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--csv-runs", type=int, help="runs on the CSV copy (default: --runs; 0 skips it: its check is slow)"
    )
    parser.add_argument("--dir", type=Path, default=ROOT / ".bench")
    args = parser.parse_args()
    args.dir.mkdir(exist_ok=True)
    print(
        f"{'lake':6} {'layout':28} {'median s':>9} {'brief s':>8} {'check s':>8} {'peak MiB':>9} {'bytes read':>11} "
        f"{'rows':>8}"
    )
    for name in args.sizes.split(","):
        lake = ensure_lake(name, SIZES[name], args.dir)
        claims = json.loads((lake / ".generated.json").read_text())["claims"]
        ours = measure(lake, args.runs)
        fraction = parquet_fraction(lake, "2001-11", "2002-11")
        print(
            f"{name:6} {'partitioned Parquet (ours)':28} {ours['median_s']:9.2f} {ours['brief_s']:8.2f} "
            f"{ours['check_s']:8.2f} "
            f"{ours['peak_mib']:9.0f} "
            f"{fraction:10.1%} {ours['rows']:8,}"
        )
        print(
            f"{name:6} the brief query took {ours['brief_s'] / ours['median_s']:.2f}x the audience query's time "
            "(issue 15: under 1x)"
        )
        if args.csv_runs == 0:
            continue
        csv = measure(ensure_csv_copy(lake), args.csv_runs or args.runs)
        print(
            f"{name:6} {'unpartitioned CSV':28} {csv['median_s']:9.2f} {csv['brief_s']:8.2f} {csv['check_s']:8.2f} "
            f"{csv['peak_mib']:9.0f} {1:10.0%} "
            f"{csv['rows']:8,}"
        )
        print(
            f"{name:6} {claims:,} claims; speed-up {csv['median_s'] / ours['median_s']:.1f}x, "
            f"bytes read {fraction:.1%} of the CSV scan"
        )
        if ours["rows"] != csv["rows"]:
            raise SystemExit("the two layouts disagree on the audience: that is a bug")


if __name__ == "__main__":
    main()
