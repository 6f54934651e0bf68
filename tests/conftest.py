# Test-suite settings. Hypothesis example counts are tunable without editing
# code: HYPOTHESIS_PROFILE=dev|ci|thorough picks a profile (ci when CI=true,
# dev otherwise) and HYPOTHESIS_MAX_EXAMPLES=N overrides the count. No
# deadlines: these machines are noisy and timing is measured in benchmarks/.

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", max_examples=100, **_COMMON)  # type: ignore[arg-type]
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
