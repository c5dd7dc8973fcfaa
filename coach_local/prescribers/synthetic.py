"""The synthetic lake's prescribers (coach_local.lakegen): a practice pool about one prescriber per 40 members,
with the faults a real directory has so the reports have something to count: about 2% of NPIs failing their check
digit, about 3% of prescribers without a usable fax or address, and claims naming an NPI the directory does not
list (1%) or none (0.5%). Members get a birth date, about 10% none ("where the lake has it").
Each uses its own generator seeded from the lake's seed: the other tables stay what the seed always made."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from coach.lake_schema import PRESCRIBERS
from coach.prescribers.npi import with_check_digit
from faker import Faker

SEED_OFFSET = 17_017
UNKNOWN_NPI = 0.01
NO_NPI = 0.005


def prescriber_count(members: int) -> int:
    return max(60, members // 40)


def birth_dates(start: int, count: int, as_of: date) -> pa.Array:
    rng = np.random.default_rng(SEED_OFFSET + start)
    days = rng.integers(18 * 365, 90 * 365, count).astype("timedelta64[D]")
    return pa.array(np.datetime64(as_of) - days, pa.date32(), mask=rng.random(count) < 0.10)


def write_prescribers(out: Path, members: int, seed: int) -> np.ndarray:
    """Writes prescribers/prescribers.parquet; returns every listed NPI (valid or not), in row order."""
    count = prescriber_count(members)
    rng = np.random.default_rng(seed + SEED_OFFSET)
    fake = Faker("en_US")
    fake.seed_instance(seed + SEED_OFFSET)
    nine = rng.choice(np.arange(100_000_000, 200_000_000), count, replace=False).astype("U9")
    npis = np.array([with_check_digit(n) for n in nine], dtype=object)
    broken = rng.random(count) < 0.02
    npis[broken] = [n[:9] + str((int(n[9]) + 1) % 10) for n in npis[broken]]  # a wrong check digit
    unreachable = rng.random(count) < 0.03
    accepts_fax = (rng.random(count) < 0.6) & ~unreachable
    accepts_mail = (rng.random(count) < 0.9) & ~unreachable
    rows = []
    for index in range(count):
        rows.append(
            {
                "npi": npis[index],
                "name": f"Dr. {fake.first_name()} {fake.last_name()}",
                "address_line1": fake.street_address(),
                "address_line2": "Suite 100" if index % 7 == 0 else None,
                "city": fake.city(),
                "state": fake.state_abbr(),
                "postal_code": fake.zipcode(),
                "fax": f"{rng.integers(200, 999)}-555-{rng.integers(1000, 9999)}"
                if accepts_fax[index]
                else None,
                "accepts_fax": bool(accepts_fax[index]),
                "accepts_mail": bool(accepts_mail[index]),
            }
        )
    schema = pa.schema(
        [(c.name, pa.bool_() if c.type == "bool" else pa.string()) for c in PRESCRIBERS.columns]
    )
    (out / "prescribers").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), out / "prescribers" / "prescribers.parquet")
    return npis


def therapy_prescribers(npis: np.ndarray, therapies: int, seed: int) -> np.ndarray:
    """The prescriber NPI of each therapy ("" for none)."""
    rng = np.random.default_rng(seed + SEED_OFFSET + 1)
    chosen = npis[rng.integers(0, len(npis), therapies)].astype("U10")
    draw = rng.random(therapies)
    unknown = rng.integers(900_000_000, 999_999_999, therapies).astype("U9")
    rare = draw < UNKNOWN_NPI  # valid NPIs (the directory lists none starting with 9): unknown, not invalid
    chosen[rare] = [with_check_digit(n) for n in unknown[rare]]
    return np.where(draw > 1 - NO_NPI, "", chosen)
