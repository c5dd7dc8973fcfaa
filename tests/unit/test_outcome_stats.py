"""The interval of the difference of two proportions, checked against published values."""

from __future__ import annotations

import pytest
from coach.outcomes.stats import clopper_pearson, difference, wilson


def test_newcombe_hybrid_score_interval_matches_newcombe_1998():
    # Newcombe (1998), Statistics in Medicine 17:873, table II, example (a): 56/70 vs 48/80, method 10
    d = difference(56, 70, 48, 80)
    assert d.difference == pytest.approx(0.2)
    assert (round(d.low, 4), round(d.high, 4)) == (0.0524, 0.3339)
    assert d.method == "newcombe-wilson"


def test_wilson_and_clopper_pearson_match_their_textbook_values():
    assert tuple(round(v, 4) for v in wilson(81, 263)) == (0.2553, 0.3662)
    assert tuple(round(v, 4) for v in clopper_pearson(3, 10)) == (0.0667, 0.6525)
    low, high = clopper_pearson(0, 10)
    assert low == 0.0 and high == pytest.approx(1 - 0.025**0.1)  # the exact bound at zero events
    assert clopper_pearson(10, 10)[1] == 1.0


def test_small_counts_use_exact_intervals_and_stay_inside_the_possible_range():
    d = difference(2, 40, 0, 8)
    assert d.method == "newcombe-exact"
    assert -1.0 <= d.low < 0 < d.difference < d.high <= 1.0


def test_equal_groups_are_centred_on_zero():
    d = difference(30, 100, 30, 100)
    assert d.difference == 0 and d.low == pytest.approx(-d.high) and d.covers(0.0)


def test_a_group_without_members_cannot_be_compared():
    with pytest.raises(ValueError, match="at least one member"):
        difference(3, 10, 0, 0)
