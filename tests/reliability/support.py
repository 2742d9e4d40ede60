"""Shared pieces of the reliability suite: hypothesis profiles, the run counters, messages.

Profiles (how many examples each property runs):

- ``reliability-ci`` (default): 200 examples per property, so the suite stays under ~2 minutes.
- ``long``: 5000 examples per property. Select it with ``JUANJI_HYPOTHESIS_PROFILE=long`` or
  ``pytest tests/reliability --hypothesis-profile=long``.

Every example, fuzz input, injected fault and resumed run calls :func:`count`; the totals are
written at the end of the session to ``test-artifacts/reliability-counts.json`` (summed over
pytest-xdist workers) and quoted in ``docs/reliability.md``.
"""

from __future__ import annotations

import os
import re
from collections import Counter

from hypothesis import HealthCheck, settings

PROFILES = {"reliability-ci": 200, "long": 5000}
for _name, _n in PROFILES.items():
    # deadline: an example that takes over 10 s (tiny shapes take milliseconds) is a hang
    settings.register_profile(_name, max_examples=_n, deadline=10_000,
                              suppress_health_check=[HealthCheck.too_slow])

COUNTS: Counter = Counter()


def profile_name() -> str:
    """The environment variable wins, then ``--hypothesis-profile=long``, then the CI profile."""
    name = os.environ.get("JUANJI_HYPOTHESIS_PROFILE")
    if name is None:
        name = "long" if settings.get_current_profile_name() == "long" else "reliability-ci"
    if name not in PROFILES:
        raise ValueError(f"JUANJI_HYPOTHESIS_PROFILE must be one of {sorted(PROFILES)}, "
                         f"got {name!r}")
    return name


def prop_settings(scale: float = 1.0) -> settings:
    """The profile's settings; ``scale`` < 1 for properties whose examples are slow."""
    name = profile_name()
    return settings(settings.get_profile(name),
                    max_examples=max(1, int(PROFILES[name] * scale)))


def count(category: str, n: int = 1) -> None:
    """Record ``n`` more examples/inputs/faults/runs under ``category``."""
    COUNTS[category] += n


NAMES_AN_ARGUMENT = re.compile(r"`[A-Za-z_][\w\[\].]*`")


def assert_clear_refusal(err: BaseException, *allowed: type) -> None:
    """A refusal is one of ``allowed`` (default ValueError/TypeError) and names an argument."""
    allowed = allowed or (ValueError, TypeError)
    assert isinstance(err, allowed), f"{type(err).__name__}: {err}"
    assert NAMES_AN_ARGUMENT.search(str(err)), f"message names no `argument`: {err}"
