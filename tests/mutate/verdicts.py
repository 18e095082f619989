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
    "compiler/output/writer.py": {
        "check_relative_path | string | \"/\" -> 'XX/' #2": (
            "an absolute path starts with an empty segment, which _SAFE_SEGMENT rejects anyway"
        ),
        "check_relative_path | string | \"\\\\\" -> 'XX\\\\'": (
            "a backslash is outside _SAFE_SEGMENT's character class, so such a segment is rejected anyway"
        ),
        "_libc | boolop | ctypes.util.find_library(\"c\") or \"libc.so.6\" -> ctypes.util.find_library('c') and 'libc.so.6'": (
            'on glibc find_library("c") is "libc.so.6": both forms load the same library'
        ),
        "_libc | string | \"c\" -> 'XXc'": 'the fallback "libc.so.6" loads the same C library on glibc',
        "_libc | string | \"libc.so.6\" -> 'XXlibc.so.6'": "the fallback is used only when find_library finds no C library",
        "_libc | remove | return None -> pass": "the function then ends and returns None all the same",
        "_libc_renameat2 | remove | return None -> pass": (
            "reached only on a C library without renameat2; glibc and musl export it on every Linux this runs on"
        ),
        "_libc_syncfs | remove | return None -> pass": (
            "reached only on a C library without syncfs; glibc and musl export it on every Linux this runs on"
        ),
        "_libc_renameat2 | remove | func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c... -> pass": (
            "argtypes documents the C signature; ctypes' default conversions of these ints and bytes pass the same values"
        ),
        "_libc_syncfs | remove | func.argtypes = [ctypes.c_int] -> pass": (
            "argtypes documents the C signature; ctypes passes a Python int as a C int by default"
        ),
    },
}
