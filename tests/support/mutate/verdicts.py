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
        "stage_env | string | \"\" -> 'XX'": (
            "`made` then lacks the top level, so os.makedirs(<staging>/, exist_ok=True) runs once on a directory that exists"
        ),
        "stage_env | remove | made.add(parent) -> pass": "makedirs(exist_ok=True) runs again for each file: slower, the same tree",
        "stage_env | string | \"O_NOFOLLOW\" -> 'XXO_NOFOLLOW'": (
            "O_CREAT | O_EXCL already fails on any existing name, a symlink included, in a staging tree mlc just created"
        ),
        "stage_env | number | 0 -> 1": "the getattr default is used only where os.O_NOFOLLOW does not exist (not on Linux)",
        "make_durable | string | \"O_NOFOLLOW\" -> 'XXO_NOFOLLOW'": (
            "links are skipped before the open, so only regular files mlc staged are opened, with or without O_NOFOLLOW"
        ),
        "make_durable | number | 0 -> 1": "the getattr default is used only where os.O_NOFOLLOW does not exist (not on Linux)",
        "<module> | number | 0 -> 1": "_NOFOLLOW's getattr default is used only where os.O_NOFOLLOW does not exist (not on Linux)",
        "_is_link | remove | return False -> pass": "the function then returns None, which is as false as False for its callers",
        "swap_in | remove | env_dir.unlink() -> pass": (
            "rename and renameat2 act on a link itself, never on its target: a planted out/<env> link is replaced "
            "(or exchanged, then unlinked by remove_tree) all the same"
        ),
        "write_env | remove | out_dir.mkdir(parents=True, exist_ok=True) -> pass": (
            "stage_env creates the staging directory with parents=True, which creates out/ all the same"
        ),
        "_libc_syncfs | remove | func.argtypes = [ctypes.c_int] -> pass": (
            "argtypes documents the C signature; ctypes passes a Python int as a C int by default"
        ),
    },
    "compiler/analysis/graph.py": {
        "DependencyGraph.workload_order | remove | continue -> pass": (
            "the search runs on an acyclic graph: visiting a node again adds the same pairs to a set (slower, same result)"
        ),
        "DependencyGraph.workload_order | remove | seen.add(node) -> pass": (
            "the search runs on an acyclic graph: visiting a node again adds the same pairs to a set (slower, same result)"
        ),
        "DependencyGraph.lineage | string | \"internal\" -> 'XXinternal'": (
            "the model fills every schema default, so a component always has its classification"
        ),
        "DependencyGraph.lineage | string | \"internal\" -> 'XXinternal' #2": (
            "the model fills every schema default, so a component always has its classification"
        ),
        "build_graph | string | \"reads\" -> 'XXreads'": (
            "reads edges then take the last branch, which builds the same edge (target -> component)"
        ),
        "build_graph | string | \"model\" -> 'XXmodel'": (
            "model edges then take the last branch, which builds the same edge (target -> component)"
        ),
        "<module> | string | \"any other component\" -> 'XXany other component'": (
            "`after` accepts every component type, so its wording is never shown"
        ),
    },
    "compiler/plan/compiled.py": {
        "plan | remove | raise PlanErrors(problems) from None -> pass": (
            "problems then holds the MLC-E060 errors, so the next statement raises PlanErrors(problems) all the same; "
            "only the exception's __context__ differs, which the pipeline turns into the same diagnostics"
        ),
    },
    "compiler/output/cache.py": {
        "_hash_tree | remove | return -> pass": "rglob of a missing directory yields nothing: the digest is the same",
    },
    "compiler/output/diffing.py": {
        "platform_in_memory | number | 1 -> 2": (
            "only [0], the part before the first /, is used: splitting once or twice gives the same cluster name"
        ),
        "render_markdown | number | 1 -> 2 #5": (
            "only [0], the first path segment, is looked up in _FILE_WEIGHT: splitting once or twice gives the same segment"
        ),
        "render_markdown | number | 4 -> 5": (
            "the weight of a file outside the four weighted folders only has to exceed argocd's 3; no folder weighs 4 or 5"
        ),
        "render_markdown | number | 4 -> 5 #2": (
            "sorting on t[:5] adds the EnvDiff after (weight, size, env, path), which never tie: env and path name one file"
        ),
        "<module> | number | 64 -> 65": (
            "CHUNK only bounds how many environments are compiled at a time (memory); the diffs, in name order, are the same"
        ),
        "_read | remove | return None -> pass": "the function then ends and returns None all the same",
        'diff_against_base | remove | sides["head"][part].pop(o.env, None) -> pass': (
            "a blocked or invalid outcome has no platform needs (build.py sets them only when artifacts were emitted), "
            "so the head side never holds one to remove"
        ),
    },
    "compiler/core/secrets_scan.py": {
        "<module> | string | r\"\\A(sha256:)?[a-f0-9]{64}\\Z\" -> 'XX\\\\A(sha256:)?[a-f0-9]{64}\\\\Z'": (
            "a 64-character lower-case hex token has two character classes, which the entropy check never flags; "
            '(":" is not a token character, so the "sha256:" prefix never reaches it): the check is redundant'
        ),
        "_made_of_words | number | 1 -> 2": (
            "a piece starting with a capital is [A-Z][a-z]+ (rest lower-case from index 1) or [A-Z]+ (no lower case): "
            "piece[2:].islower() agrees with piece[1:].islower() on every piece of length >= 3"
        ),
        "_high_entropy_token | string | r\"//\\1\" -> 'XX//\\\\1'": (
            "the prefix only joins the token with the URL's scheme-side text; the slashes, and so the path test, are the same"
        ),
        "find_secret | remove | return None -> pass": (
            "no format matches fewer than 8 characters (the shortest, a password in a URL, is '://:abc@'), nor does the "
            "entropy check (24): a shorter text gets None all the same, only later"
        ),
        "_made_of_words | string | \"-_\" -> 'XX-_'": (
            'the only extra pieces it accepts, "X" and "XX", are capitals of length <= 5, already words'
        ),
    },
    "compiler/targets/terraform/gcp_iam.py": {
        "identity_file | string | \"engine\" -> 'XXengine'": (
            'the model fills the schema default engine "postgres", so .get() always finds the engine'
        ),
        "identity_file | string | \"postgres\" -> 'XXpostgres'": (
            'the model fills the schema default engine "postgres", so the .get() default is never used'
        ),
    },
}
