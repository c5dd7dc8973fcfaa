"""The difference of two proportions (lettered minus held out) with a 95% interval.

Newcombe's hybrid score interval (Newcombe 1998, method 10) combines one interval per group: Wilson's score
interval, or Clopper–Pearson's exact interval for a group with fewer than SMALL_CELL members on either side of the
outcome (Wilson is too narrow there). Both stay inside [0, 1] and behave at 0% and 100%, where Wald does not."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

Z95 = 1.959963984540054
ALPHA = 0.05
SMALL_CELL = 5  # fewer members than this with (or without) the outcome in a group: its interval is exact


@dataclass(frozen=True)
class Difference:
    lettered_rate: float
    held_out_rate: float
    difference: float
    low: float
    high: float
    method: str  # "newcombe-wilson" or "newcombe-exact"

    def covers(self, value: float) -> bool:
        return self.low <= value <= self.high


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _log_pmf(k: int, n: int, p: float) -> float:
    return (
        math.lgamma(n + 1)
        - math.lgamma(k + 1)
        - math.lgamma(n - k + 1)
        + k * math.log(p)
        + (n - k) * math.log1p(-p)
    )


def _cdf(k: int, n: int, p: float) -> float:
    """P(X <= k) for X ~ Binomial(n, p), summed from whichever tail is shorter."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if k <= n - k:
        return min(1.0, sum(math.exp(_log_pmf(i, n, p)) for i in range(k + 1)))
    return max(0.0, 1.0 - sum(math.exp(_log_pmf(i, n, p)) for i in range(k + 1, n + 1)))


def _solve(f: Callable[[float], float], target: float) -> float:
    """The p in (0, 1) where the decreasing function f(p) equals target (bisection to 1e-10)."""
    low, high = 0.0, 1.0
    for _ in range(60):
        mid = (low + high) / 2
        if f(mid) > target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _upper(successes: int, n: int, alpha: float) -> float:
    """The exact upper bound: the p at which seeing `successes` or fewer has probability alpha / 2."""
    return 1.0 if successes == n else _solve(lambda p: _cdf(successes, n, p), alpha / 2)


def clopper_pearson(successes: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    # the lower bound of x successes is one minus the upper bound of the n - x failures
    return 1.0 - _upper(n - successes, n, alpha), _upper(successes, n, alpha)


def _interval(successes: int, n: int) -> tuple[float, float, bool]:
    exact = min(successes, n - successes) < SMALL_CELL
    low, high = clopper_pearson(successes, n) if exact else wilson(successes, n)
    return low, high, exact


def difference(lettered: int, lettered_n: int, held_out: int, held_out_n: int) -> Difference:
    """Rate among the lettered minus rate among the held out, with Newcombe's 95% interval."""
    if lettered_n <= 0 or held_out_n <= 0:
        raise ValueError("both groups need at least one member")
    p1, p2 = lettered / lettered_n, held_out / held_out_n
    l1, u1, exact1 = _interval(lettered, lettered_n)
    l2, u2, exact2 = _interval(held_out, held_out_n)
    d = p1 - p2
    return Difference(
        lettered_rate=p1,
        held_out_rate=p2,
        difference=d,
        low=d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        high=d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
        method="newcombe-exact" if exact1 or exact2 else "newcombe-wilson",
    )
