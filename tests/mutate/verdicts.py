"""Surviving mutants judged equivalent: module -> mutant key -> why no test can tell it apart.

A key is printed by `make mutate` for each mutant ("scope | operator | before -> after").
Only a mutant that changes no observable behaviour belongs here; any other survivor needs
a test.
"""

from __future__ import annotations

EQUIVALENT: dict[str, dict[str, str]] = {
    "compiler/policy/checks_security.py": {
        "plaintext_credentials | compare | len(parts) > 2 -> len(parts) >= 2": (
            "a two-part pointer is /<top-level key>; /components is the only one with parts[1] == "
            '"components" and its text, the key "components", never looks like a credential'
        ),
        "grants_without_wildcards | string | \"*\" -> 'XX*'": (
            'only differs for a store whose name contains "*"; store names are DNS labels (schema), '
            "so `s not in stores` already reports every pattern"
        ),
    },
}
