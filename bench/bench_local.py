"""make bench-local: `coach run` at a real PBM's size (issue 20), against the floor measured in the same run.

For each size, a generated lake (coach_local/lakegen.py, seed 7; kept in .bench/local/ and reused) and a decisions
file (most clients approve; every 7th client's account team declines, every 11th client declines) are run with
`coach run` in a child process, timed from start to exit. Printed per size: wall time, the floor (the campaign's
audience stage, from its report, plus its printed letters at the renderer's single-batch rate, measured in this
run), wall ÷ floor, peak memory (the runtime's and its function worker's peaks added), and whether every client's outcome in report.json is the
one its decisions and election call for (the benchmark exits 1 if not, listing the differences). Also the child's
CPU time against the same floor with letters at the renderer's rate per CPU second, and the load average: on a
shared machine wall times move with the load, CPU times much less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
EVENT = ROOT / "coach_local" / "events" / "claritin_otc.json"
EVENT_TYPE = "otc_switch"
WORK = ROOT / ".bench" / "local"
SIZES = {"20k": (20_000, 40), "100k": (100_000, 100), "400k": (400_000, 400)}
BATCH = 500  # BATCH_SIZE of the local runtime: the batch the renderer is measured on


def renderer_rate(letters: int = BATCH) -> tuple[float, float]:
    """Letters per second of one batch of `letters`, in a warm process (fonts parsed, as in a warm container): per
    second of wall time and per second of CPU time (the second hardly moves when other work shares the machine)."""
    from bench_letters import members, ours

    people = members(letters)
    ours(people[:1])
    cpu = time.process_time()
    seconds, _ = ours(people)
    return letters / seconds, letters / (time.process_time() - cpu)


def lake_for(size: str) -> Path:
    from coach_local.lakegen import generate_lake

    members, clients = SIZES[size]
    lake = WORK / f"lake-{size}"
    stamp = lake / ".complete"
    if not stamp.exists():
        print(f"generating the {size} lake ({members:,} members, {clients} clients) in {lake} …", flush=True)
        generate_lake(lake, members=members, clients=clients, seed=7)
        stamp.write_text("seed 7\n")
    return lake


def clients_of(lake: Path) -> list[dict[str, Any]]:
    import pyarrow.parquet as pq

    return [dict(row) for row in pq.read_table(lake / "clients").to_pylist()]


def decisions_for(clients: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    decisions: dict[str, dict[str, str]] = {}
    for number, client in enumerate(sorted(c["client_id"] for c in clients), start=1):
        if number % 7 == 0:
            decisions[client] = {"account_team": "decline"}
        elif number % 11 == 0:
            decisions[client] = {"client": "decline"}
    return decisions


def expected(row: dict[str, Any], decisions: dict[str, dict[str, str]]) -> tuple[str, str, bool]:
    """(account team decision, client decision, letters sent?) the decisions file and the election call for."""
    if row["election"] == "never":
        return "not_asked", "auto", False
    chosen = decisions.get(row["client_id"], {})
    if chosen.get("account_team", "approve") == "decline":
        return "declined", "not_asked", False
    if row["election"] == "always":
        return "approved", "auto", row["reachable"] > 0
    if chosen.get("client", "approve") == "decline":
        return "approved", "declined", False
    return "approved", "approved", row["reachable"] > 0


def mismatches(report: dict[str, Any], decisions: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    for row in report["clients"]:
        got = (row["account_team_decision"], row["client_decision"], row["letters"] > 0)
        want = expected(row, decisions)
        if got != want:
            problems.append(f"{row['client_id']} ({row['election']}): got {got}, expected {want}")
        elif want[2] and row["letters"] != row["reachable"]:
            problems.append(f"{row['client_id']}: {row['letters']} letters for {row['reachable']} reachable")
    return problems


def run_coach(
    lake: Path, out: Path, decisions_file: Path, render_processes: int
) -> tuple[float, int, int, float]:
    """`coach run` in a child: (wall seconds, exit code, its peak RSS in KiB, CPU seconds, user and system; with its
    function worker: wait4 adds a child's usage to its parent's once reaped)."""
    command = [
        str(ROOT / ".venv" / "bin" / "coach"),
        "run",
        "--event",
        str(EVENT),
        "--lake",
        str(lake),
        "--out",
        str(out),
        "--decisions",
        str(decisions_file),
        "--render-processes",
        str(render_processes),
        "--json",
    ]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode not in (0, 1) and child.stderr is not None:
        sys.stderr.write(child.stderr.read().decode(errors="replace")[-2000:])
    return wall, child.returncode, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime


def bench(size: str, rates: tuple[float, float], render_processes: int) -> bool:
    lake = lake_for(size)
    clients = clients_of(lake)
    decisions = decisions_for(clients)
    out = WORK / f"out-{size}"
    decisions_file = WORK / f"decisions-{size}.json"
    decisions_file.write_text(json.dumps(decisions, indent=1), encoding="utf-8")
    wall, code, _, cpu = run_coach(lake, out, decisions_file, render_processes)
    rate, cpu_rate = rates
    try:
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        print(f"{size}: no report.json (coach run exited {code})")
        return False
    stages = {stage["function"]: stage for stage in report["local_run"]["stages"]}
    audience = float(stages["audience"]["wall_seconds"])
    printed = int(report["totals"]["mailed"])
    memory = report["local_run"]["peak_memory_mib"]  # the runtime's and its function workers' own peaks
    floor = audience + printed / rate
    cpu_floor = audience + printed / cpu_rate  # the audience stage's wall: DuckDB uses every core it can
    problems = mismatches(report, decisions)
    members, client_count = SIZES[size]
    print(
        f"{size:>5} ({members:,} members, {client_count} clients): {report['status']}, "
        f"{len(report['clients'])} clients affected, {report['totals']['letters']:,} letters "
        f"({printed:,} printed)\n"
        f"       wall {wall:7.1f} s   floor {floor:6.1f} s (audience {audience:.1f} s + {printed:,} letters at "
        f"{rate:,.0f}/s)   ratio {wall / floor:5.1f}x   peak memory {memory['total']:,} MiB "
        f"(runtime {memory['runtime']:,} + workers {'+'.join(map(str, memory['workers'])) or '0'})   "
        f"outcomes match the decisions: {'yes' if not problems else f'NO ({len(problems)})'}\n"
        f"       cpu  {cpu:7.1f} s   floor {cpu_floor:6.1f} s (letters at {cpu_rate:,.0f} per CPU second)   "
        f"ratio {cpu / cpu_floor:5.1f}x   (CPU against CPU: what a loaded machine changes least)",
        flush=True,
    )
    for problem in problems[:20]:
        print(f"         {problem}")
    return report["status"] == "succeeded" and not problems


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--sizes", default="100k,400k", help=f"comma-separated, of {', '.join(SIZES)} (default: 100k,400k)"
    )
    parser.add_argument(
        "--render-processes",
        type=int,
        default=0,
        help="coach run --render-processes (default 0: in its process)",
    )
    args = parser.parse_args()
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size {', '.join(unknown)}: use {', '.join(SIZES)}")
    WORK.mkdir(parents=True, exist_ok=True)
    rates = renderer_rate()
    print(
        f"renderer, one batch of {BATCH} letters in a warm process: {rates[0]:,.0f} letters/s "
        f"({rates[1]:,.0f} per CPU second); load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    ok = [bench(size, rates, args.render_processes) for size in sizes]
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
