"""Hypothesis profiles. The test gate (`make test`, CI) is reproducible: property tests draw
the same examples on every machine and every run (derandomize, no example database), so a
failure seen in CI is the failure seen locally. `make explore` runs the same property tests
with fresh random seeds and more examples to find new counterexamples; a find becomes a
fixed strategy or an explicit @example."""

import os

from hypothesis import settings

settings.register_profile("gate", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False, database=None, print_blob=True)
settings.load_profile(os.environ.get("MLC_HYPOTHESIS_PROFILE", "gate"))
