"""Hypothesis profiles for the bad-input fuzz (issue 6, item 3).

- `ci` (the default under pytest): ~400 examples per property, derandomized so a failure reproduces.
- `fuzz` (`HYPOTHESIS_PROFILE=fuzz`, `make fuzz`): 10,000 examples per property, fresh random seeds.

The profiles are registered here but not loaded globally (that would change the settings of the other
hypothesis tests in a full run); each fuzz property applies the active one through `strategies.fuzz_settings`,
which also scales the slow lake properties down (50 in `ci`, 500 in `fuzz`).
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

_COMMON: dict = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
        HealthCheck.function_scoped_fixture,
    ],
    "print_blob": True,
    "phases": [
        phase for phase in Phase if phase is not Phase.explain
    ],  # explaining a failure here takes minutes
}
settings.register_profile("ci", max_examples=400, derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=10_000, **_COMMON)
