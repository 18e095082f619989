"""Surviving mutants judged equivalent: module -> mutant key -> why no test can tell it apart.

A key is printed by `make mutate` for each mutant ("scope | operator | before -> after").
Only a mutant that changes no observable behaviour belongs here; any other survivor needs
a test.
"""

from __future__ import annotations

EQUIVALENT: dict[str, dict[str, str]] = {}
