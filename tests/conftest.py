"""Test-suite settings: Hypothesis profiles and the `noengine` guard.

Hypothesis example counts are tunable without editing code:
HYPOTHESIS_PROFILE=dev|ci|thorough picks a profile (ci when CI=true, dev
otherwise) and HYPOTHESIS_MAX_EXAMPLES=N overrides the count. dev is the
quick one (the fast tier, `pytest -m "not slow"`, runs on it); ci is what
CI and `CI=true tox` run. Properties whose every example encodes or decodes
images take a share of the profile's count (helpers.examples), so the
environment sets their strength too. No deadlines: these machines are noisy
and timing is measured in benchmarks/.

Tests marked `noengine` never load an image engine, so pyvips cannot change
their outcome and tox's nopyvips env leaves them out; the guard below holds
them to it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=25, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("ci", max_examples=300, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("thorough", max_examples=3000, **_COMMON)  # type: ignore[arg-type]

_profile = os.environ.get("HYPOTHESIS_PROFILE") or (
    "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
)
_override = os.environ.get("HYPOTHESIS_MAX_EXAMPLES", "").strip()
if _override.isdigit():
    settings.register_profile(
        "override", settings.get_profile(_profile), max_examples=int(_override)
    )
    _profile = "override"
settings.load_profile(_profile)


@pytest.fixture(autouse=True)
def _noengine_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """A `noengine` test fails if it asks for an image engine. Every engine
    is made through engines._make, so counting those calls is enough; the
    engine is still made, so preflight code that catches errors cannot hide
    the call. (No monkeypatch fixture: other tests pay nothing.)"""
    if request.node.get_closest_marker("noengine") is None:
        yield
        return
    from preflight._imaging import engines

    made: list[str] = []
    make = engines._make

    def counted(name: str) -> engines.Engine:
        made.append(name)
        return make(name)

    engines._make = counted  # type: ignore[assignment]
    try:
        yield
    finally:
        engines._make = make  # type: ignore[method-assign]
    assert not made, f"marked noengine, but it loaded the {', '.join(sorted(set(made)))} engine"
