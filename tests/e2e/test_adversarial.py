"""Whole-pipeline properties over random specs (issue 11).

- every VALID spec (tests/support/spec_strategies.py: all component types, inheritance with an
  abstract parent, waivers) compiles (exit 0 or 1) and every emitted object validates
  against its upstream schema; compile is deterministic and idempotent;
- every MUTATION of a valid spec (type swaps, deletions, nulls, unicode, huge numbers, deep
  nesting, wrong types, renamed keys) ends in exit 0, 1 or 2, with located diagnostics on
  exit 2 and out/ untouched, never a traceback; a few run in a subprocess with a timeout
  to prove there is no hang.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.spec_strategies import (
    REPO,
    compile_args,
    emitted_files,
    fast,
    parse_file,
    projects,
    run_main,
    snapshot,
    to_yaml,
    write_project,
)
from tests.support.validators import validate_k8s_object, validate_kustomization, validate_output_dir, validate_terraform_module

LOCATED = re.compile(r"^environments/[a-z0-9][-a-z0-9]*\.yaml:\d+:\d+: error MLC-E\d{3}: \S")
SUMMARY = re.compile(r"^\d+ problems? found; nothing was written$")


def fresh(tmp_path: Path, tag: str) -> Path:
    import uuid

    root = tmp_path / f"{tag}-{uuid.uuid4().hex[:8]}"
    root.mkdir()
    return root


def validate_files(files: dict[str, bytes], provider: str) -> list[str]:
    """Upstream-schema validation of one environment's emitted files (from bytes: this also
    proves every file parses back)."""
    errors: list[str] = []
    terraform: dict[str, Any] = {}
    for path, data in sorted(files.items()):
        if path.startswith("terraform/"):
            terraform[path.rsplit("/", 1)[1]] = parse_file(path, data)
        elif path.endswith("kustomization.yaml"):
            errors += [f"{path}: {e}" for e in validate_kustomization(parse_file(path, data))]
        elif path.startswith(("kubernetes/", "argo/", "argocd/")):
            errors += [f"{path}: {e}" for e in validate_k8s_object(parse_file(path, data))]
        else:
            parse_file(path, data)  # plan.json, the manifest: must at least parse
    if terraform:
        errors += validate_terraform_module(terraform, {"gcp": "google", "azure": "azurerm"}.get(provider, "aws"))
    return errors


# --- valid specs --------------------------------------------------------------------------
@fast(40)
@given(projects())
def test_every_valid_spec_compiles_and_every_object_validates(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> None:
    root = write_project(fresh(tmp_path, "valid"), documents)
    code, _, err = run_main(*compile_args(root))
    assert code in (0, 1), err
    assert "internal error" not in err and "Traceback" not in err
    provider = (documents.get("base") or documents["e1"]).get("cloud", documents["e1"].get("cloud", {})).get("provider", "aws")
    # the emitters run on every valid spec, whatever the policies say
    files = emitted_files(root)
    assert validate_files(files, provider) == []
    if code == 0:
        assert validate_output_dir(root / "out" / "e1") == []
        written = snapshot(root / "out" / "e1")
        findings_free = {p: d for p, d in files.items() if p not in ("plan.json", ".mlc-manifest.json")}
        assert {p: d for p, d in written.items() if p in findings_free} == findings_free  # what was written is what the emitters produced
        assert set(written) == set(files)
    else:
        assert "error MLC-" in err and not (root / "out" / "e1").exists()


@fast(12)
@given(projects())
def test_compile_is_deterministic_and_idempotent(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> None:
    root = write_project(fresh(tmp_path, "det"), documents)
    code, _, err = run_main(*compile_args(root))
    if code != 0:
        return  # blocked by policy: nothing written (covered above)
    first = snapshot(root / "out")
    code, out, err = run_main(*compile_args(root))
    assert code == 0 and snapshot(root / "out") == first
    assert not re.search(r"\b[1-9][0-9]* (added|changed|removed)\b", out), out
    other = root.parent / (root.name + "-other-out")
    assert run_main(*compile_args(root, other))[0] == 0
    # the same bytes wherever out/ is, except atlantis.yaml's project dirs, which name out/'s place
    # in the repository ("out/<env>/terraform"; "<env>/terraform" for an out/ outside the project)
    elsewhere = snapshot(other)
    assert elsewhere.pop("atlantis.yaml") == first["atlantis.yaml"].replace(b"    dir: out/", b"    dir: ")
    assert elsewhere == {p: d for p, d in first.items() if p != "atlantis.yaml"}
    assert run_main("compile", "--project", str(root), "--today", "2026-06-01", "--check")[0] == 0


@fast(3)
@given(projects())
def test_output_is_identical_across_processes_with_different_hash_seeds(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> None:
    """Random specs (not just the examples) compiled in two processes with different
    PYTHONHASHSEED: any set iteration order leaking into output would show."""
    root = write_project(fresh(tmp_path, "seed"), documents)
    trees = []
    for seed in ("1", "99"):
        out = root / f"out-{seed}"
        done = subprocess.run(
            [sys.executable, "-m", "compiler", *compile_args(root, out)],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, "PYTHONHASHSEED": seed},
            timeout=120,
        )
        assert done.returncode in (0, 1), done.stderr
        tree = snapshot(out)
        if "atlantis.yaml" in tree:  # its project dirs name the output folder (out-1, out-99)
            tree["atlantis.yaml"] = tree["atlantis.yaml"].replace(f"dir: out-{seed}/".encode(), b"dir: OUT/")
        trees.append(tree)
    assert trees[0] == trees[1]


# --- mutations --------------------------------------------------------------------------
def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, prefix + (index,))
    return out


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


REPLACEMENTS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([10**19, -(2**63) - 1, 10**400, 1e308, -0.0, 1e-320]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30),
    st.sampled_from(
        [
            "\u202eevil",
            "prod\n",
            "../../etc",
            "a" * 300,
            "",
            " ",
            "null",
            "~",
            "0o17",
            "1e3",
            "yes",
            "no",
            "2026-01-01",
            "{{x}}",
            "${x}",
            "-",
        ]
    ),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.sampled_from(["type", "from", "min", "max", "secret", "x"]), st.integers(), max_size=3),
    st.integers(70, 200).map(lambda d: _nest("deep", d)),
)


@st.composite
def mutated_projects(draw: Any) -> dict[str, dict[str, Any]]:
    documents = draw(projects())
    for _ in range(draw(st.integers(1, 4))):
        name = draw(st.sampled_from(sorted(documents)))
        tree = documents[name]
        path = draw(st.sampled_from(_paths(tree)[1:]))
        parent = tree
        for token in path[:-1]:
            parent = parent[token]
        key = path[-1]
        op = draw(st.sampled_from(["delete", "replace", "replace", "rename", "swap-type"]))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(REPLACEMENTS)
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.sampled_from([str(key) + "s", str(key).upper(), str(key) + "\u200b", "../" + str(key), "a" * 64]))] = parent.pop(
                key
            )
        elif op == "swap-type":
            value = parent[key]
            parent[key] = [value] if not isinstance(value, list) else {"items": value} if draw(st.booleans()) else str(value)
    return documents


def assert_clean_failure(code: int, err: str) -> None:
    """Exit 0/1/2; exit 2 is nothing but located diagnostics and the summary line."""
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 2:
        lines = [line for line in err.splitlines() if line]
        assert lines and SUMMARY.match(lines[-1]), err
        for line in lines[:-1]:
            assert LOCATED.match(line), f"not a located diagnostic: {line!r}"


@fast(150)
@given(mutated_projects())
def test_mutated_specs_fail_cleanly_and_leave_out_untouched(tmp_path: Path, documents: dict[str, dict[str, Any]]) -> None:
    root = fresh(tmp_path, "mut")
    try:
        write_project(root, documents)
    except (UnicodeEncodeError, RecursionError):
        return  # not representable as a YAML file: nothing to test
    sentinel = root / "out" / "e1" / "kubernetes" / "keep.yaml"
    sentinel.parent.mkdir(parents=True)
    sentinel.write_text("old\n")
    before = snapshot(root / "out")
    code, _, err = run_main(*compile_args(root))
    assert_clean_failure(code, err)
    if code == 2:
        assert snapshot(root / "out") == before


@fast(60)
@given(st.data())
def test_mutated_yaml_text_fails_cleanly(tmp_path: Path, data: Any) -> None:
    """Mutations of the TEXT (not the data): cut lines, re-indent, inject YAML syntax."""
    documents = data.draw(projects())
    name = data.draw(st.sampled_from(sorted(documents)))
    lines = to_yaml(documents[name]).splitlines()
    for _ in range(data.draw(st.integers(1, 3))):
        i = data.draw(st.integers(0, len(lines) - 1))
        op = data.draw(st.sampled_from(["drop", "dup", "indent", "dedent", "inject"]))
        if op == "drop":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "indent":
            lines[i] = " " + lines[i]
        elif op == "dedent":
            lines[i] = lines[i].lstrip()
        else:
            lines.insert(
                i,
                data.draw(
                    st.sampled_from(
                        [
                            "&a x: 1",
                            "<<: *a",
                            "? [a, b]\n: 1",
                            "!!python/object/apply:os.system ['id']",
                            "x: !!binary aGVsbG8=",
                            "%YAML 1.1",
                            "---",
                            "...",
                            "x: *nope",
                            "\t- tab",
                            "\ufeffx: 1",
                        ]
                    )
                ),
            )
        if not lines:
            lines = [""]
    root = write_project(fresh(tmp_path, "txt"), {n: d for n, d in documents.items() if n != name}, raw={name: "\n".join(lines) + "\n"})
    code, _, err = run_main(*compile_args(root))
    assert_clean_failure(code, err)


HOSTILE_FILES = {
    "deep-nesting": "a: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep-block-nesting": "".join(" " * i + f"k{i}:\n" for i in range(3000)) + " " * 3000 + "v\n",
    "alias-bomb": "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n" for i in range(1, 12)),
    "huge-int": "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\nbudget: {monthly_usd: " + "9" * 100_000 + "}\n",
    "long-line": "apiVersion: mlc/v1\nkind: " + "x" * 900_000 + "\n",
    "many-keys": "".join(f"k{i}: {i}\n" for i in range(40_000)),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
def test_hostile_files_end_in_a_subprocess_without_hanging(tmp_path: Path, case: str) -> None:
    """Real process, real timeout: a hang or a crash of the interpreter would show here."""
    root = write_project(tmp_path, {}, raw={"e1": HOSTILE_FILES[case]})
    done = subprocess.run([sys.executable, "-m", "compiler", *compile_args(root)], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 2, done.stderr[-2000:]
    assert_clean_failure(done.returncode, done.stderr)


def test_two_training_jobs_may_share_a_checkpoint_store(tmp_path: Path) -> None:
    image = "registry.example.com/ml/t:1@sha256:" + "ab" * 32
    components = {
        "ckpt": {"type": "object_store", "size_gb": 1, "lifecycle": {"expire_after_days": 30}},
        "a": {"type": "training_job", "image": image, "checkpoint_to": "ckpt", "max_runtime_hours": 1},
        "b": {"type": "training_job", "image": image, "checkpoint_to": "ckpt", "max_runtime_hours": 1},
    }
    document = {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": "e1"},
        "cloud": {"provider": "aws", "region": "eu-west-1", "account": "123456789012"},
        "cluster": {"name": "c1", "node_pools": {"cpu": {"instance_type": "m6i.2xlarge", "min": 1, "max": 3}}},
        "gitops": {"repo": "https://git.example.com/ml/platform.git"},
        "budget": {"monthly_usd": 100000},
        "components": components,
    }
    root = write_project(tmp_path, {"e1": document})
    code, _, err = run_main("validate", "--project", str(root))
    assert code == 0, err
