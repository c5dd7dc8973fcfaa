"""Fuzz the feed parsers: whatever a recall's text or an openFDA record holds, the NDC reader returns only
11-digit NDCs (every NDC written in a published shape among them) and the recall mapping either makes a candidate
intake would accept or refuses the record with a reason naming it. Nothing else escapes."""

from __future__ import annotations

from typing import Any

from coach.feeds.candidate import FeedDataError
from coach.feeds.ndc_text import find_ndcs
from coach.feeds.recalls import map_recall
from coach.models import MarketEvent
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.strategies import fuzz_settings

SHAPES = [(4, 4, 2), (5, 3, 2), (5, 4, 1), (5, 4, 2)]


@st.composite
def written_ndc(draw) -> tuple[str, str]:
    """An NDC as a recall writes it, and its 11-digit form."""
    shape = draw(st.sampled_from(SHAPES))
    parts = [draw(st.text("0123456789", min_size=n, max_size=n)) for n in shape]
    eleven = parts[0].zfill(5) + parts[1].zfill(4) + parts[2].zfill(2)
    return "-".join(parts), eleven


words = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)


@fuzz_settings()
@given(before=words, ndc=written_ndc(), after=words)
def test_an_ndc_written_among_any_words_is_found_as_eleven_digits(before, ndc, after):
    written, eleven = ndc
    found, _ = find_ndcs(f"{before} NDC {written} {after}")
    assert eleven in found
    assert all(len(n) == 11 and n.isascii() and n.isdigit() for n in found)


@fuzz_settings()
@given(text=st.text(max_size=300))
def test_any_text_gives_only_eleven_digit_ndcs_and_never_raises(text):
    found, unreadable = find_ndcs(text)
    assert all(len(n) == 11 and n.isascii() and n.isdigit() for n in found)
    assert all(len(n) == 10 and n.isdigit() for n in unreadable)


scalar = st.one_of(st.none(), st.integers(), st.text(max_size=60), st.booleans())
records = st.fixed_dictionaries(
    {
        "recall_number": st.one_of(st.just("D-0001-2027"), scalar),
        "classification": st.one_of(st.sampled_from(["Class I", "Class II", "Class III"]), scalar),
        "report_date": st.one_of(st.sampled_from(["20261125", "19991231"]), scalar),
        "recall_initiation_date": st.one_of(st.just("20261101"), scalar),
        "product_description": st.one_of(st.text(max_size=200), st.just("Tablets, NDC 0085-1128-01")),
        "code_info": st.one_of(st.text(max_size=100), scalar),
        "status": scalar,
        "recalling_firm": scalar,
        "reason_for_recall": scalar,
        "openfda": st.one_of(
            st.just({}),
            st.fixed_dictionaries(
                {},
                optional={
                    "brand_name": st.lists(st.text(max_size=40), max_size=2),
                    "substance_name": st.lists(st.text(max_size=40), max_size=2),
                    "package_ndc": st.lists(
                        st.one_of(st.just("0085-1128-01"), st.text(max_size=14)), max_size=3
                    ),
                    "product_ndc": st.lists(st.text(max_size=12), max_size=2),
                },
            ),
        ),
    }
)


@fuzz_settings()
@given(record=records)
def test_a_record_makes_a_valid_candidate_or_a_named_refusal(record: dict[str, Any]):
    try:
        candidate = map_recall(record)
    except FeedDataError as exc:
        assert str(exc) and len(str(exc)) < 600 and "Traceback" not in str(exc)
        return
    MarketEvent.model_validate(candidate.detail)
    assert candidate.detail["drug"]["ndcs"] or candidate.missing == ("drug.ndcs",)
