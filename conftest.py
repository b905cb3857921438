"""What this repository's own test runs share; the harness's pytest plugin is not here.

The plugin (`harness.plugin`: services, targets, the run folder) loads through its entry
point, so a project that installs the harness gets it without this file. This file holds
what only our own `pytest suites` and `pytest benchmarks` runs need:

- Hypothesis profiles, chosen by `HYPOTHESIS_PROFILE`:
  - `dev` (the default): 20 examples per property, for a developer's edit-run loop;
  - `ci` (what `make test` sets): Hypothesis' own 100 examples, and the seed of a failing
    example printed (`print_blob`) so that CI's failure can be replayed on a laptop.
  Both drop Hypothesis' per-example deadline: on a shared 2-core machine an example's
  time is the machine's load, not the code's. Speed is measured in `benchmarks/`.
  A test's own `@settings(max_examples=...)` still wins over the profile.
- The folders collection must never enter: the venvs, `node_modules` (Azurite's), and
  the run folders under `reports/`.
"""

from __future__ import annotations

import os

from hypothesis import settings

PROFILES = {
    "dev": settings(max_examples=20, deadline=None),
    "ci": settings(max_examples=100, deadline=None, print_blob=True),
}
PROFILE_VARIABLE = "HYPOTHESIS_PROFILE"

for _name, _profile in PROFILES.items():
    settings.register_profile(_name, _profile)

_chosen = os.environ.get(PROFILE_VARIABLE, "dev")
if _chosen not in PROFILES:
    raise ValueError(
        f"{PROFILE_VARIABLE}={_chosen!r} is not a Hypothesis profile of this repository; "
        f"use one of: {', '.join(PROFILES)}"
    )
settings.load_profile(_chosen)

collect_ignore_glob = [".venv*", "node_modules", "reports"]
