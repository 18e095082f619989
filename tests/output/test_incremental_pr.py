"""The pull-request commands cost what the change costs (issue 19): `mlc check` and
`mlc compile --check` compile only the environments whose inputs changed since the cache
recorded them; `mlc cost --base` and `mlc diff --base` read from the revision only the
files the changed environments need. Counted (environments compiled, files read), not timed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

import compiler.build as build
import compiler.output.gitbase as gitbase
from compiler.cli import main
from compiler.frontend.project import Project
from tests.output.test_gitops import child, git, project_with

TODAY = date(2026, 1, 15)
PII_PUBLIC = "components:\n  data: {classification: pii, public: true}\n"
WAIVED = (
    "components:\n  data: {classification: pii, public: true}\n"
    'exceptions:\n  - {rule: MLC-SEC-002, component: data, reason: "open data set, approved", expires: "2026-06-30"}\n'
)


@pytest.fixture
def compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names build.compile_one is called with (jobs=1: in this process)."""
    names: list[str] = []
    real = build.compile_one

    def counting(project, env_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        names.append(env_name)
        return real(project, env_name, *args, **kwargs)

    monkeypatch.setattr(build, "compile_one", counting)
    return names


def _project(tmp_path: Path) -> Path:
    root = project_with(tmp_path, 6)
    (root / "environments" / "env01.yaml").write_text(child("env01", PII_PUBLIC))  # an error and a warning
    (root / "environments" / "env02.yaml").write_text(child("env02", WAIVED))  # a waived error and a warning
    return root


def _check(root: Path, compiled: list[str], today: date = TODAY, use_cache: bool = True) -> tuple[list[str], list[dict]]:
    compiled.clear()
    result = build.check_policies(Project.at(root), None, today, jobs=1, use_cache=use_cache)
    assert result.diagnostics == []
    return sorted(compiled), [f.to_dict() for f in result.findings]


def test_check_compiles_only_the_environments_whose_inputs_changed(tmp_path: Path, compiled: list[str]) -> None:
    root = _project(tmp_path)
    every = ["base", "env00", "env01", "env02", "env03", "env04", "env05"]
    names, full = _check(root, compiled)
    assert names == every
    assert [(f["environment"], f["rule"], f["severity"], f["waived"]) for f in full] == [
        ("env01", "MLC-GOV-006", "warning", False),
        ("env01", "MLC-SEC-002", "error", False),
        ("env02", "MLC-GOV-006", "warning", False),
        ("env02", "MLC-SEC-002", "error", True),
    ]
    # nothing changed: nothing compiled, the same findings (waiver reason, locations) from the cache
    assert _check(root, compiled) == ([], full)
    # one environment changed: only it
    (root / "environments" / "env04.yaml").write_text(child("env04", PII_PUBLIC))
    names, findings = _check(root, compiled)
    assert names == ["env04"]
    assert findings == _check(root, compiled, use_cache=False)[1]  # the same as computing everything
    assert [f["environment"] for f in findings] == ["env01", "env01", "env02", "env02", "env04", "env04"]
    # another day: waivers may have expired, so every environment is checked again
    assert _check(root, compiled, today=date(2026, 7, 1))[0] == every
    # the shared parent changed: every environment that extends it
    parent = root / "environments" / "base.yaml"
    parent.write_text(parent.read_text().replace("size_gb: 10", "size_gb: 11"))
    assert _check(root, compiled)[0] == every


def test_check_reports_a_fixed_environment_and_never_caches_invalid_input(tmp_path: Path, compiled: list[str], capsys) -> None:
    root = _project(tmp_path)
    _check(root, compiled)
    (root / "environments" / "env01.yaml").write_text(child("env01"))  # fixed
    assert _check(root, compiled) == (["env01"], [f for f in _check(root, compiled, use_cache=False)[1]])
    assert main(["check", "--project", str(root), "--today", TODAY.isoformat()]) == 0  # the waived error does not fail
    bad = child("env03", "components:\n  data: {size_gb: -1}\n")
    (root / "environments" / "env03.yaml").write_text(bad)
    for _ in range(2):  # an invalid environment is compiled (and reported) every time
        compiled.clear()
        assert main(["check", "--project", str(root), "--today", TODAY.isoformat(), "--jobs", "1"]) == 2
        assert compiled == ["env03"]
        assert "environments/env03.yaml:" in capsys.readouterr().err


def test_compile_records_the_findings_check_reuses(tmp_path: Path, compiled: list[str]) -> None:
    root = _project(tmp_path)
    (root / "environments" / "env01.yaml").write_text(child("env01"))  # nothing blocked
    build.compile_project(Project.at(root), None, TODAY, jobs=1)
    assert _check(root, compiled)[0] == []


def test_check_no_cache_compiles_everything(tmp_path: Path, compiled: list[str], capsys) -> None:
    root = _project(tmp_path)
    args = ["check", "--project", str(root), "--today", TODAY.isoformat(), "--jobs", "1"]
    main(args)
    compiled.clear()
    main(args)
    assert compiled == []
    main([*args, "--no-cache"])
    assert len(compiled) == 7


def test_compile_check_compiles_only_what_changed_since_the_last_compile(tmp_path: Path, compiled: list[str], capsys) -> None:
    root = project_with(tmp_path, 6)
    assert main(["compile", "--project", str(root), "--today", TODAY.isoformat(), "--jobs", "1"]) == 0
    check = ["compile", "--check", "--project", str(root), "--today", TODAY.isoformat(), "--jobs", "1"]
    compiled.clear()
    capsys.readouterr()
    assert main(check) == 0
    assert compiled == []
    assert capsys.readouterr().err.splitlines()[-1] == "0 compiled, 6 unchanged (cached), 0 blocked; 0 file(s) differ from out/"
    # one environment edited: only it is compiled, and its drift is found
    (root / "environments" / "env03.yaml").write_text(child("env03", "components:\n  data: {size_gb: 500}\n"))
    assert main(check) == 1
    assert compiled == ["env03"]
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["would change out/env03/.mlc-manifest.json", "would change out/env03/plan.json"]
    assert captured.err.splitlines()[-1] == "1 compiled, 5 unchanged (cached), 0 blocked; 2 file(s) differ from out/"
    # env03 back as it was compiled: the same bytes, but a rewritten file (another ctime) is
    # not the one the cache recorded, so it is compiled, and found unchanged; a hand edit
    # inside out/ of an unchanged environment: its files no longer verify, so it is compiled
    (root / "environments" / "env03.yaml").write_text(child("env03"))
    tampered = root / "out" / "env05" / "plan.json"
    tampered.write_text(tampered.read_text().replace('"env05"', '"evil"', 1))
    compiled.clear()
    assert main(check) == 1
    assert compiled == ["env03", "env05"]
    assert capsys.readouterr().out.splitlines() == ["would change out/env05/plan.json"]
    # --no-cache: everything, as before
    compiled.clear()
    assert main([*check, "--no-cache"]) == 1
    assert len(compiled) == 7


def _committed(tmp_path: Path, count: int) -> Path:
    root = project_with(tmp_path, count)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    return root


@pytest.fixture
def blobs_read(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The project-relative paths read from the revision (git cat-file), in order."""
    read: list[str] = []
    real = gitbase._stream_blobs

    def recording(root: Path, blobs: list[tuple[str, Path]]) -> None:
        real(root, blobs)
        for _, target in blobs:
            parts = target.parts
            read.append("/".join(parts[parts.index(next(p for p in parts if p.startswith("mlc-base-"))) + 1 :]))

    monkeypatch.setattr(gitbase, "_stream_blobs", recording)
    return read


def test_cost_base_reads_only_the_environment_its_ancestors_and_the_schema(tmp_path: Path, blobs_read: list[str], capsys) -> None:
    root = _committed(tmp_path, 30)
    (root / "environments" / "env07.yaml").write_text(child("env07", "components:\n  data: {size_gb: 5000}\n"))
    assert main(["cost", "env07", "--project", str(root), "--base", "HEAD"]) == 0
    assert sorted(blobs_read) == ["environments/base.yaml", "environments/env07.yaml", "schemas/environment.schema.json"]
    assert "env07" in capsys.readouterr().out
    # an environment new in the working tree: nothing of it at the base
    blobs_read.clear()
    (root / "environments" / "fresh.yaml").write_text(child("fresh"))
    assert main(["cost", "fresh", "--project", str(root), "--base", "HEAD"]) == 0
    assert blobs_read == ["schemas/environment.schema.json"]


def test_diff_base_reads_only_the_changed_environments_chains(tmp_path: Path, blobs_read: list[str], capsys) -> None:
    root = _committed(tmp_path, 30)
    policy = "policies/extra.k"
    (root / "policies").mkdir(exist_ok=True)
    (root / policy).write_text("mlc_rules = []\nmlc_findings = []\n")  # read: a compile runs the policies
    git(root, "add", ".")
    git(root, "commit", "-qm", "policy")
    (root / "environments" / "env07.yaml").write_text(child("env07", "components:\n  data: {size_gb: 5000}\n"))
    assert main(["diff", "--project", str(root), "--base", "HEAD"]) == 0
    assert sorted(blobs_read) == ["environments/base.yaml", "environments/env07.yaml", policy, "schemas/environment.schema.json"]
    assert capsys.readouterr().out.startswith("== env07: 0 added, 1 changed, 0 removed")


def test_a_changed_manifests_folder_makes_its_environments_affected(tmp_path: Path) -> None:
    from compiler.output.diffing import affected_environments
    from compiler.output.gitbase import BaseTree

    root = project_with(tmp_path, 3)
    (root / "extra").mkdir()
    (root / "extra" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n")
    (root / "environments" / "env01.yaml").write_text(child("env01", "overrides:\n  manifests: [extra]\n"))
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == []
    (root / "extra" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '2'}\n")
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == ["env01"]
    (root / "extra" / "more.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: more}\n")
    (root / "extra" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n")
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == ["env01"]


def test_a_changed_schema_or_policy_affects_every_environment(tmp_path: Path) -> None:
    from compiler.output.diffing import affected_environments
    from compiler.output.gitbase import BaseTree

    root = _committed(tmp_path, 3)
    every = ["base", "env00", "env01", "env02"]
    schema = root / "schemas" / "environment.schema.json"
    original = schema.read_bytes()
    schema.write_bytes(original + b"\n")
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == every
    schema.write_bytes(original)
    (root / "policies").mkdir(exist_ok=True)
    (root / "policies" / "new.k").write_text("mlc_rules = []\nmlc_findings = []\n")
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == every
    (root / "policies" / "new.k").unlink()
    assert affected_environments(Project.at(root), BaseTree(root, "HEAD")) == []


def test_an_oversized_base_file_is_not_read(tmp_path: Path, blobs_read: list[str], capsys) -> None:
    from compiler.frontend.loader import MAX_FILE_BYTES

    root = project_with(tmp_path, 2)
    (root / "environments" / "env01.yaml").write_text(child("env01") + "#" * (MAX_FILE_BYTES + 10) + "\n")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "env01.yaml").write_text(child("env01"))
    assert main(["cost", "env01", "--project", str(root), "--base", "HEAD"]) == 0
    assert blobs_read == ["schemas/environment.schema.json"]  # env01 at the base: a sparse file (so no parents either)


def test_check_never_reuses_findings_of_an_environment_that_copies_a_manifests_folder(tmp_path: Path, compiled: list[str]) -> None:
    # the manifests are policy-checked like everything mlc emits, and a folder has no key:
    # such an environment is compiled by every check (and by every compile)
    root = project_with(tmp_path, 3)
    (root / "extra").mkdir()
    (root / "extra" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '1'}\n")
    (root / "environments" / "env01.yaml").write_text(child("env01", "overrides:\n  manifests: [extra]\n"))
    assert _check(root, compiled)[0] == ["base", "env00", "env01", "env02"]
    assert _check(root, compiled)[0] == ["env01"]
    build.compile_project(Project.at(root), None, TODAY, jobs=1)
    assert _check(root, compiled)[0] == ["env01"]


def test_misnamed_files_at_the_base_are_read_so_its_compile_reports_them(tmp_path: Path, blobs_read: list[str], capsys) -> None:
    # the revision holds env00.yaml and ENV00.yaml (MLC-E013) and env02.YML (MLC-E011): a
    # compile of the revision fails on them whatever changed, so they are read even when
    # unchanged (a full checkout of the revision reports the same)
    root = project_with(tmp_path, 3)
    (root / "environments" / "ENV00.yaml").write_text(child("env00"))
    (root / "environments" / "env02.yaml").rename(root / "environments" / "env02.YML")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    tree = gitbase.BaseTree(root, "HEAD")
    assert sorted(tree.environments) == ["ENV00", "base", "env01", "env02"]  # the first file of each name, as Project lists them
    assert sorted(tree.misnamed) == ["environments/ENV00.yaml", "environments/env00.yaml", "environments/env02.YML"]
    (root / "environments" / "ENV00.yaml").unlink()  # the pull request fixes both
    (root / "environments" / "env02.YML").rename(root / "environments" / "env02.yaml")
    assert main(["diff", "--project", str(root), "--base", "HEAD"]) == 2
    assert sorted(blobs_read) == [  # once each; base.yaml as the parent of ENV00 (deleted, so affected)
        "environments/ENV00.yaml",
        "environments/base.yaml",
        "environments/env00.yaml",
        "environments/env02.YML",
        "schemas/environment.schema.json",
    ]
    err = capsys.readouterr().err
    assert 'environments/ENV00.yaml:1:1: error MLC-E013: environment "env00" is defined by 2 files (ENV00.yaml and env00.yaml)' in err
    assert 'environments/env02.YML:1:1: error MLC-E011: file name "env02.YML"' in err


def test_a_cache_from_another_checkout_is_never_trusted(tmp_path: Path, compiled: list[str], capsys) -> None:
    # keys are computable from public bytes, so a .mlc-cache/ committed in a pull request could
    # claim "no findings" or "out/ up to date" for any environment: each entry also names the
    # inode and ctime of its input files, which a fresh checkout (here: a copy) never matches
    import shutil

    root = _project(tmp_path / "a")
    (root / "environments" / "env01.yaml").write_text(child("env01"))
    assert main(["compile", "--project", str(root), "--today", TODAY.isoformat(), "--jobs", "1"]) == 0
    assert _check(root, compiled)[0] == []  # the findings compile recorded, reused here
    copy = tmp_path / "b"
    shutil.copytree(root, copy)  # out/, .mlc-cache/ and all: the same bytes, other files
    every = ["base", "env00", "env01", "env02", "env03", "env04", "env05"]
    assert _check(copy, compiled)[0] == every
    assert _check(copy, compiled)[0] == []  # recorded for this checkout now
    (copy / ".mlc-cache" / "state.json").write_bytes((root / ".mlc-cache" / "state.json").read_bytes())
    compiled.clear()
    assert main(["compile", "--check", "--project", str(copy), "--today", TODAY.isoformat(), "--jobs", "1"]) == 0
    assert sorted(compiled) == every
    # a forged entry of another shape is ignored, not a traceback
    (copy / ".mlc-cache" / "findings.json").write_text('{"version": 2, "envs": {"env00": {"files": 7, "key": []}}}')
    (copy / ".mlc-cache" / "state.json").write_text('{"version": 4, "out": "out", "envs": {"env00": {"files": [1], "outputs": 3}}}')
    assert _check(copy, compiled)[0] == every
    compiled.clear()
    assert main(["compile", "--check", "--project", str(copy), "--today", TODAY.isoformat(), "--jobs", "1"]) == 0
    assert sorted(compiled) == every
