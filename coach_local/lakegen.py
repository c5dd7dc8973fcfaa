"""A synthetic claims lake in the shape of docs/data-contract.md, deterministic by seed.

Realistic on purpose: Faker names and addresses (about 10% Spanish speakers with Spanish names), clients of very
different sizes (Zipf), members with several chronic drugs filled month after month, reversed claims, opted-out,
deceased, ineligible and unreachable members, email consent, confidential addresses, sensitive-class drugs.
Vectorised and streamed: members are built from pools of Faker values with numpy indices, and claims are written
one month partition at a time, so memory stays flat as the lake grows.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from coach.lake_schema import TABLES
from faker import Faker

from coach_local.lakegen_branding import brand_clients
from coach_local.lakegen_outcomes import Behaviour, alternative_ndcs, event_drugs, simulate
from coach_local.prescribers.synthetic import therapy_prescribers, write_prescribers

Progress = Callable[[str, int, int], None]
ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "date": pa.date32(),
    "int": pa.int32(),
    "bool": pa.bool_(),
    "decimal": pa.decimal128(18, 2),
    "list<string>": pa.list_(pa.string()),
    "map<string,string>": pa.map_(pa.string(), pa.string()),
}


def arrow_schema(table: str) -> pa.Schema:
    """The Parquet schema of a lake table: coach.lake_schema's columns, in its order, as Arrow types."""
    return pa.schema([(c.name, ARROW_TYPES[c.type]) for c in TABLES[table].columns])


# (ndc, product name, ingredient, sensitive_class, share of members on it, fills per year)
DRUGS: list[tuple[str, str, str, str | None, float, float]] = [
    ("11523716001", "Claritin 10 mg tablet", "loratadine", None, 0.030, 7),
    ("11523716002", "Claritin 10 mg tablet (90)", "loratadine", None, 0.006, 4),
    ("00093734801", "Loratadine 10 mg tablet", "loratadine", None, 0.012, 7),
    ("00186074231", "Prilosec 20 mg capsule", "omeprazole", None, 0.030, 10),
    ("00093505601", "Omeprazole 20 mg capsule", "omeprazole", None, 0.040, 10),
    ("00006074031", "Zocor 20 mg tablet", "simvastatin", None, 0.030, 11),
    ("00093715410", "Simvastatin 20 mg tablet", "simvastatin", None, 0.040, 11),
    ("00071015523", "Lipitor 20 mg tablet", "atorvastatin", None, 0.050, 11),
    ("50580072601", "Zyrtec 10 mg tablet", "cetirizine", None, 0.020, 6),
    ("00088221905", "Allegra 180 mg tablet", "fexofenadine", None, 0.015, 6),
    ("00378018001", "Metformin 500 mg tablet", "metformin", None, 0.080, 11),
    ("00093505698", "Lisinopril 10 mg tablet", "lisinopril", None, 0.090, 11),
    ("00172376210", "Amlodipine 5 mg tablet", "amlodipine", None, 0.060, 11),
    ("00378395277", "Levothyroxine 50 mcg tablet", "levothyroxine", None, 0.050, 11),
    ("00781107001", "Amoxicillin 500 mg capsule", "amoxicillin", None, 0.080, 1.5),
    ("00054429731", "Albuterol inhaler", "albuterol", None, 0.040, 3),
    ("00006095254", "Singulair 10 mg tablet", "montelukast", None, 0.020, 10),
    ("00173071520", "Flonase nasal spray", "fluticasone", None, 0.020, 4),
    ("00597008717", "Plavix 75 mg tablet", "clopidogrel", None, 0.015, 11),
    ("00078035705", "Diovan 80 mg tablet", "valsartan", None, 0.020, 11),
    ("00456320530", "Lexapro 10 mg tablet", "escitalopram", "behavioral_health", 0.040, 10),
    ("00049490066", "Zoloft 50 mg tablet", "sertraline", "behavioral_health", 0.040, 10),
    ("00173069500", "Wellbutrin XL 150 mg", "bupropion", "behavioral_health", 0.015, 10),
    ("61958070101", "Truvada tablet", "emtricitabine/tenofovir", "hiv", 0.004, 11),
    ("49702023113", "Triumeq tablet", "abacavir/dolutegravir/lamivudine", "hiv", 0.002, 11),
    ("12496120803", "Suboxone film", "buprenorphine/naloxone", "substance_use", 0.004, 11),
    ("00056015130", "Naltrexone 50 mg tablet", "naltrexone", "substance_use", 0.002, 8),
    ("00052027301", "Ortho Tri-Cyclen tablet", "norgestimate/ethinyl estradiol", "reproductive", 0.030, 11),
    ("00009074630", "Depo-Provera injection", "medroxyprogesterone", "reproductive", 0.006, 4),
    ("00002143380", "Humalog KwikPen", "insulin lispro", None, 0.010, 10),
    ("00169413013", "Ozempic pen", "semaglutide", None, 0.015, 11),
    ("00310075139", "Crestor 10 mg tablet", "rosuvastatin", None, 0.030, 11),
]
ELECTIONS = ("always", "ask", "never")

# The brief's columns (coach.lake_schema BRIEF_*), drawn from their own random stream so every other column stays
# what the seed made it before. Cost of 30 days' supply (USD): brands hundreds, generics a few dollars.
COST_PER_30_DAYS = {
    "11523716001": 95.0, "11523716002": 90.0, "00093734801": 12.0, "00186074231": 210.0, "00093505601": 9.0,
    "00006074031": 160.0, "00093715410": 5.0, "00071015523": 320.0, "50580072601": 35.0, "00088221905": 60.0,
    "00378018001": 4.0, "00093505698": 4.0, "00172376210": 5.0, "00378395277": 12.0, "00781107001": 8.0,
    "00054429731": 65.0, "00006095254": 190.0, "00173071520": 45.0, "00597008717": 240.0, "00078035705": 180.0,
    "00456320530": 250.0, "00049490066": 9.0, "00173069500": 380.0, "61958070101": 1900.0, "49702023113": 3100.0,
    "12496120803": 520.0, "00056015130": 60.0, "00052027301": 95.0, "00009074630": 85.0, "00002143380": 540.0,
    "00169413013": 935.0, "00310075139": 230.0,
}  # fmt: skip
UNIT_PER_30_DAYS = {
    "00054429731",
    "00173071520",
    "00009074630",
    "00002143380",
    "00169413013",
}  # one pen/inhaler
AGE_BANDS = ((0, 18, 0.20), (18, 45, 0.38), (45, 65, 0.30), (65, 95, 0.12))  # (from, to, share of members)


def _birth_dates(rng: np.random.Generator, count: int, as_of: date) -> pa.Array:
    band = rng.choice(len(AGE_BANDS), count, p=[b[2] for b in AGE_BANDS])
    low, high = np.array([b[0] for b in AGE_BANDS])[band], np.array([b[1] for b in AGE_BANDS])[band]
    age_days = ((low + rng.random(count) * (high - low)) * 365.25).astype("timedelta64[D]")
    return pa.array(np.datetime64(as_of) - age_days, pa.date32(), mask=rng.random(count) < 0.005)


def _money(values: np.ndarray, missing: np.ndarray | None = None) -> pa.Array:
    return pa.array(np.round(values, 2), pa.float64(), mask=missing).cast(pa.decimal128(18, 2), safe=False)


def _payments(rng: np.random.Generator, drug: np.ndarray, days: np.ndarray) -> dict[str, pa.Array]:
    """plan_paid, member_paid, quantity of each claim (by index into DRUGS): the drug's cost for its days' supply
    shared between the plan and a copay by cost tier (90 days cost the member two and a half copays)."""
    monthly = np.array([COST_PER_30_DAYS[d[0]] for d in DRUGS])[drug]
    cost = monthly * days / 30 * rng.uniform(0.9, 1.1, len(drug))
    copay = np.where(monthly < 20, 10.0, np.where(monthly < 300, 40.0, 75.0)) * np.where(days >= 90, 2.5, 1.0)
    member = np.minimum(cost, copay)
    per_day = np.array([1 / 30 if d[0] in UNIT_PER_30_DAYS else 1.0 for d in DRUGS])[drug]
    missing = rng.random(len(drug)) < 0.01  # a few claims without the pricing fields (older adjudication)
    return {
        "plan_paid": _money(cost - member, missing),
        "member_paid": _money(member, missing),
        "quantity": _money(np.ceil(days * per_day)),
    }


@dataclass(frozen=True)
class LakeStats:
    members: int
    clients: int
    claims: int
    months: int

    def __str__(self) -> str:
        return f"{self.members:,} members, {self.clients} clients, {self.claims:,} claims over {self.months} months"


def _pool(fake: Faker, method: str, size: int) -> np.ndarray:
    return np.array([getattr(fake, method)() for _ in range(size)], dtype=object)


def _month_starts(as_of: date, months: int) -> list[date]:
    first = date(as_of.year, as_of.month, 1)
    starts = []
    for back in range(months - 1, -1, -1):
        year, month = divmod(first.year * 12 + first.month - 1 - back, 12)
        starts.append(date(year, month + 1, 1))
    return starts


def _clients(rng: np.random.Generator, fake: Faker, count: int) -> tuple[list[dict], np.ndarray]:
    weights = 1.0 / np.arange(1, count + 1) ** 1.1  # a few large clients, many small ones
    weights = rng.permutation(weights)
    rows = []
    for index in range(count):
        client_id = f"C{index + 1:04d}"
        slug = f"client{index + 1:04d}"
        elections = {}
        draw = rng.random()
        if draw < 0.15:
            elections["otc_switch"] = "always"
        elif draw < 0.22:
            elections["otc_switch"] = "never"
        if rng.random() < 0.2:
            elections["patent_expiry"] = str(rng.choice(ELECTIONS))
        rows.append(
            {
                "client_id": client_id,
                "name": fake.company(),
                "account_team_emails": [
                    f"{name}.{slug}@pbm.example"
                    for name in ("lead", "pharmacist", "manager")[: int(rng.integers(1, 4))]
                ],
                "client_contact_emails": [f"benefits@{slug}.example"]
                + ([f"hr@{slug}.example"] if rng.random() < 0.5 else []),
                "elections": elections,
                "escalation_email": f"vp@{slug}.example" if rng.random() < 0.9 else None,
            }
        )
    return rows, weights / weights.sum()


class _NamePools:
    """Faker values drawn once; members pick from them with numpy indices (Faker per member is too slow at scale)."""

    def __init__(self, size: int, seed: int) -> None:
        en, es = Faker("en_US"), Faker(["es_MX", "es_ES"])
        en.seed_instance(seed)
        es.seed_instance(seed + 1)
        self.first_en, self.last_en = _pool(en, "first_name", size), _pool(en, "last_name", size)
        self.first_es, self.last_es = _pool(es, "first_name", size), _pool(es, "last_name", size)
        self.streets, self.cities = _pool(en, "street_address", size), _pool(en, "city", size)
        self.states, self.zips = _pool(en, "state_abbr", size), _pool(en, "zipcode", size)


def member_ids(start: int, count: int) -> np.ndarray:
    return np.char.add("M", np.char.zfill(np.arange(start + 1, start + count + 1).astype("U9"), 9))


def _members(
    rng: np.random.Generator,
    pools: _NamePools,
    start: int,
    count: int,
    client_ids: np.ndarray,
    client_weights: np.ndarray,
    as_of: date,
    births: pa.Array,
) -> pa.Table:
    spanish = rng.random(count) < 0.10
    pick = lambda arr: arr[rng.integers(0, len(arr), count)]  # noqa: E731
    first = np.where(spanish, pick(pools.first_es), pick(pools.first_en))
    last = np.where(spanish, pick(pools.last_es), pick(pools.last_en))
    street = np.where(rng.random(count) < 0.01, "", pick(pools.streets))
    apartments = np.char.add("Apt ", rng.integers(1, 999, count).astype("U3")).astype(object)
    line2 = np.where(rng.random(count) < 0.15, apartments, None)  # type: ignore[call-overload]  # numpy's stubs reject a None fill
    ids = member_ids(start, count)
    has_email = rng.random(count) < 0.45
    emails = np.where(has_email, np.char.add(np.char.lower(ids), "@mail.example").astype(object), None)  # type: ignore[call-overload]  # as above
    consent = has_email & (rng.random(count) < 0.6)
    prefers_email = consent & (rng.random(count) < 0.5)
    ineligible = rng.random(count) < 0.06
    ended = np.datetime64(as_of) - rng.integers(1, 400, count).astype("timedelta64[D]")
    language = np.where(spanish, "es", np.where(rng.random(count) < 0.01, "vi", "en"))
    return pa.table(
        {
            "member_id": pa.array(ids, pa.string()),
            "client_id": pa.array(
                client_ids[rng.choice(len(client_ids), count, p=client_weights)], pa.string()
            ),
            "first_name": pa.array(first, pa.string()),
            "last_name": pa.array(last, pa.string()),
            "address_line1": pa.array(street, pa.string()),
            "address_line2": pa.array(line2, pa.string()),
            "city": pa.array(pick(pools.cities), pa.string()),
            "state": pa.array(pick(pools.states), pa.string()),
            "postal_code": pa.array(pick(pools.zips), pa.string()),
            "language": pa.array(language, pa.string()),
            "email": pa.array(emails, pa.string()),
            "email_consent": pa.array(consent, pa.bool_()),
            "preferred_channel": pa.array(np.where(prefers_email, "email", "mail"), pa.string()),
            "eligibility_end": pa.array(ended, pa.date32(), mask=~ineligible),
            "deceased": pa.array(rng.random(count) < 0.01, pa.bool_()),
            "opted_out": pa.array(rng.random(count) < 0.03, pa.bool_()),
            "confidential_address": pa.array(rng.random(count) < 0.01, pa.bool_()),
            "birth_date": births,
        },
        schema=arrow_schema("members"),
    )


MEMBER_CHUNK = 500_000


def generate_lake(
    out_dir: Path,
    *,
    members: int = 20_000,
    clients: int = 40,
    seed: int = 7,
    months: int = 30,
    as_of: date = date(2002, 11, 30),
    progress: Progress | None = None,
    behaviour: Behaviour | None = None,
) -> LakeStats:
    """Write claims/ (fill_month=YYYY-MM partitions), members/, drugs/, clients/, prescribers/ under out_dir
    (replaced). `behaviour`: what members on an event's drug do after it (coach_local.lakegen_outcomes)."""
    out = Path(out_dir)
    for table in ("claims", "members", "drugs", "clients", "prescribers"):
        shutil.rmtree(out / table, ignore_errors=True)
        (out / table).mkdir(parents=True)
    rng = np.random.default_rng(seed)
    brief_rng = np.random.default_rng([seed, 15])
    fake = Faker("en_US")
    fake.seed_instance(seed)
    client_rows, client_weights = _clients(rng, fake, clients)
    shutil.rmtree(out / "logos", ignore_errors=True)
    brand_clients(client_rows, out)  # a few clients' own letterhead and logo (coach_local.lakegen_branding)
    pq.write_table(
        pa.Table.from_pylist(
            client_rows,
            schema=arrow_schema("clients"),
        ),
        out / "clients" / "clients.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [{"ndc": d[0], "name": d[1], "ingredient": d[2], "sensitive_class": d[3]} for d in DRUGS],
            schema=arrow_schema("drugs"),
        ),
        out / "drugs" / "drugs.parquet",
    )
    client_ids = np.array([c["client_id"] for c in client_rows], dtype=object)
    pools = _NamePools(max(200, min(5000, members // 4)), seed)
    for part, start in enumerate(range(0, members, MEMBER_CHUNK)):
        size = min(MEMBER_CHUNK, members - start)
        births = _birth_dates(brief_rng, size, as_of)
        chunk = _members(rng, pools, start, size, client_ids, client_weights, as_of, births)
        pq.write_table(chunk, out / "members" / f"part-{part:05d}.parquet")
        if progress:
            progress("members", min(start + MEMBER_CHUNK, members), members)
    all_ids = member_ids(0, members)

    # Therapies: (member, drug, first month, monthly fill probability).
    shares = np.array([d[4] for d in DRUGS])
    per_member = rng.binomial(len(DRUGS), shares.mean(), members) + (rng.random(members) < 0.3)
    t_member = np.repeat(np.arange(members), per_member)
    t_drug = rng.choice(len(DRUGS), len(t_member), p=shares / shares.sum())
    t_start = rng.integers(-months // 2, months, len(t_member))
    t_prob = np.array([d[5] for d in DRUGS])[t_drug] / 12.0
    # One prescriber per therapy (refills keep their prescriber), from their own generator: the other columns
    # stay what this seed always made.
    prescriber_npis = write_prescribers(out, members, seed)
    t_npi = therapy_prescribers(prescriber_npis, len(t_member), seed)
    ndcs = np.array([d[0] for d in DRUGS], dtype=object)

    starts = _month_starts(as_of, months)
    total = 0
    for index, month in enumerate(starts):
        active = (t_start <= index) & (rng.random(len(t_member)) < t_prob)
        rows = int(active.sum())
        if rows and behaviour is not None and month > behaviour.announced_on:
            rows = (
                0  # after the event every claim is simulated (below); the draws above keep the lake the same
            )
        if rows:
            next_month = (
                starts[index + 1]
                if index + 1 < len(starts)
                else date(month.year + month.month // 12, month.month % 12 + 1, 1)
            )
            days = (min(next_month, as_of + timedelta(days=1)) - month).days
            fill = np.datetime64(month) + rng.integers(0, max(days, 1), rows).astype("timedelta64[D]")
            if behaviour is not None:  # the announcement's month: ordinary fills stop on the announcement day
                kept = fill <= np.datetime64(behaviour.announced_on)
                positions = np.flatnonzero(active)[kept]
                active = np.zeros_like(active)
                active[positions] = True
                fill, rows = fill[kept], int(kept.sum())
            claim_ids = np.char.add(f"CL{month:%Y%m}-", np.arange(rows).astype("U9"))

            def npi(count: int = rows) -> np.ndarray:
                return np.char.add("1", rng.integers(100_000_000, 999_999_999, count).astype("U9"))

            supply = rng.choice([30, 30, 30, 90], rows).astype(np.int32)
            table = pa.table(
                {
                    "claim_id": pa.array(claim_ids, pa.string()),
                    "member_id": pa.array(all_ids[t_member[active]], pa.string()),
                    "ndc": pa.array(ndcs[t_drug[active]].astype("U11"), pa.string()),
                    "fill_date": pa.array(fill, pa.date32()),
                    "days_supply": pa.array(supply, pa.int32()),
                    "claim_status": pa.array(
                        np.where(rng.random(rows) < 0.03, "reversed", "paid"), pa.string()
                    ),
                    "prescriber_npi": pa.array(
                        t_npi[active], pa.string(), mask=(npi() == "") | (t_npi[active] == "")
                    ),
                    "pharmacy_npi": pa.array(npi(), pa.string(), mask=rng.random(rows) < 0.05),
                    **_payments(brief_rng, t_drug[active], supply),
                },
                schema=arrow_schema("claims"),
            )
            folder = out / "claims" / f"fill_month={month:%Y-%m}"
            folder.mkdir()
            pq.write_table(table, folder / "part-00000.parquet")
            total += rows
        if progress:
            progress("claims", index + 1, len(starts))
    if behaviour is not None:
        on_drug = np.isin(t_drug, event_drugs(behaviour, DRUGS))
        members_on, first = np.unique(t_member[on_drug], return_index=True)
        total += simulate(
            out,
            behaviour,
            member_ids=all_ids,
            on_drug=members_on,
            drug_ndcs=ndcs[t_drug[on_drug][first]].astype("U11"),
            alternatives=alternative_ndcs(behaviour, DRUGS),
            seed=seed + 1,
        )
    return LakeStats(members=members, clients=clients, claims=total, months=months)
