"""Paths: no input makes mlc read through, write through, delete through or follow a
symlink outside out/ (complements test_gitops.test_symlinks_in_out_are_never_followed,
which covers a symlinked out/<env> and a symlinked file inside it)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from compiler.core.diagnostics import InputError
from compiler.frontend.loader import load_file
from compiler.output.writer import check_relative_path
from tests.support.helpers import aws_env, make_project
from tests.support.spec_strategies import run_main, snapshot

TODAY = "2026-06-01"
STORE = "data: {type: object_store, size_gb: 1, lifecycle: {expire_after_days: 30}}"
SECRET = "AKIAIOSFODNN7EXAMPLE"


def compile_(root: Path, *extra: str) -> tuple[int, str, str]:
    return run_main("compile", "--project", str(root), "--today", TODAY, *extra)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory outside the project, with a file that must never change."""
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "victim.txt").write_text("precious\n")
    (directory / "creds.yaml").write_text(
        f"apiVersion: mlc/v1\nkind: Environment\nmetadata: {{name: x}}\naws_access_key_id: {SECRET}\nlist: [a, b\n"
    )
    return directory


def untouched(directory: Path) -> None:
    assert sorted(p.name for p in directory.iterdir()) == ["creds.yaml", "victim.txt"], sorted(p.name for p in directory.iterdir())
    assert (directory / "victim.txt").read_text() == "precious\n"


# --- reading: environment files -----------------------------------------------------------
def test_a_symlinked_environment_file_is_refused_and_never_read(tmp_path: Path, outside: Path) -> None:
    """Guards loader.load_file's O_NOFOLLOW and Project.env_files listing symlinks: a PR that
    adds environments/x.yaml -> ~/.aws/credentials must not get it read (error messages quote
    values) nor silently skipped (which pruned out/x as if the environment were deleted)."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    assert compile_(root)[0] == 0
    os.symlink(outside / "creds.yaml", root / "environments" / "x.yaml")
    (root / "out" / "x").mkdir()
    (root / "out" / "x" / ".mlc-manifest.json").write_text('{"files": {}}\n')
    before = snapshot(root / "out")
    code, out, err = compile_(root)
    assert code == 2
    assert "environments/x.yaml:1:1: error MLC-E012: is a symbolic link" in err
    assert SECRET not in out + err and "list" not in err
    assert snapshot(root / "out") == before  # out/x was not pruned
    untouched(outside)


def test_the_loader_never_follows_a_symlink_even_if_asked_directly(tmp_path: Path, outside: Path) -> None:
    link = tmp_path / "e1.yaml"
    os.symlink(outside / "creds.yaml", link)
    with pytest.raises(InputError) as caught:
        load_file(str(link), "environments/e1.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["MLC-E012"]


def test_a_fifo_or_device_is_refused_without_blocking(tmp_path: Path) -> None:
    """O_NONBLOCK + a regular-file check: opening a FIFO for reading would wait forever."""
    fifo = tmp_path / "e1.yaml"
    os.mkfifo(fifo)
    with pytest.raises(InputError) as caught:
        load_file(str(fifo), "environments/e1.yaml")
    assert [d.code for d in caught.value.diagnostics] == ["MLC-E012"]
    with pytest.raises(InputError):
        load_file("/dev/zero", "environments/e1.yaml")


# --- names that could become paths ----------------------------------------------------------
@pytest.mark.parametrize("filename", ["a..b.yaml", "..yaml", "Prod.yaml", "e_1.yaml", "-x.yaml", "x-.yaml"])
def test_environment_file_names_must_be_labels(tmp_path: Path, filename: str) -> None:
    root = make_project(tmp_path / "p", {})
    (root / "environments" / filename).write_text(aws_env("x"))
    code, _, err = compile_(root)
    assert code == 2 and f"environments/{filename}:1:1: error MLC-E011" in err
    assert not (root / "out").exists()


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/escaped", "..", "e1/../../escaped"])
@pytest.mark.parametrize("command", ["validate", "compile", "check", "graph", "cost", "trace"])
def test_environment_names_on_the_command_line_never_become_paths(tmp_path: Path, name: str, command: str) -> None:
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    extra = ["components.data.size_gb"] if command == "trace" else []
    code, _, err = run_main(command, "--project", str(root), name, *extra)
    assert code == 2 and "unknown environment" in err, err
    assert not (tmp_path / "escaped").exists() and not Path("/tmp/escaped").exists()
    assert not (root / "out").exists()


@pytest.mark.parametrize(
    "where,text",
    [
        ("component", 'components:\n  "raw\\n": {type: object_store}\n'),
        ("node pool", 'cluster:\n  name: c1\n  node_pools:\n    "cpu\\n": {instance_type: m6i.2xlarge}\ncomponents: {}\n'),
        ("cluster", 'cluster:\n  name: "c1\\n"\ncomponents: {}\n'),
        ("namespace", 'cluster:\n  name: c1\n  namespace: "../etc"\ncomponents: {}\n'),
        ("component-dotdot", "components:\n  ..: {type: object_store}\n"),
        ("component-slash", "components:\n  a/b: {type: object_store}\n"),
    ],
)
def test_names_that_would_escape_are_located_errors(tmp_path: Path, where: str, text: str) -> None:
    """Guards schema_check's ECMA `$` (a trailing newline passed Python's `$`, and names
    become Kubernetes object names and file names under out/)."""
    head = "apiVersion: mlc/v1\nkind: Environment\nmetadata: {name: e1}\ncloud: {provider: aws, region: eu-west-1}\ngitops: {repo: 'https://git.example.com/x.git'}\n"
    if not text.startswith("cluster"):
        head += "cluster: {name: c1}\n"
    root = make_project(tmp_path / "p", {"e1": head + text})
    code, _, err = compile_(root)
    assert code == 2, err
    assert "error MLC-E024" in err and "Traceback" not in err and "internal error" not in err, err
    assert not (root / "out").exists()


@pytest.mark.parametrize(
    "path", ["../x.yaml", "kubernetes/../../x.yaml", "/etc/x.yaml", "a\\b.yaml", "", "a//b", ".hidden", "a/./b", "x.yaml\n", "k/\u202ex"]
)
def test_artifact_paths_are_checked(path: str) -> None:
    """Guards writer.check_relative_path, the last line of defence against an emitter bug."""
    with pytest.raises(ValueError):
        check_relative_path(path)


def test_check_relative_path_accepts_what_emitters_write() -> None:
    for path in ("plan.json", "kubernetes/deployment-ranker.yaml", "terraform/store-raw-events.tf.json", "argo/cronworkflow-x.yaml"):
        check_relative_path(path)


def test_an_emitter_producing_an_escaping_path_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import compiler.pipeline as pipeline
    from compiler.targets.artifact import Artifact

    real = pipeline.emit_environment

    def evil(compiled, findings):  # type: ignore[no-untyped-def]
        return [*real(compiled, findings), Artifact("../../escaped.yaml", {"a": 1}, "yaml")]

    monkeypatch.setattr(pipeline, "emit_environment", evil)
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    code, _, err = compile_(root, "--no-cache")
    assert code != 0
    assert not list(tmp_path.rglob("escaped.yaml"))
    assert not (root / "out" / "e1").exists()


# --- writing: planted symlinks in out/ and around it -----------------------------------------------
def test_planted_staging_and_old_trees_are_unlinked_not_followed(tmp_path: Path, outside: Path) -> None:
    """recover() removes leftovers of an interrupted run: a planted symlink with such a name
    is removed as a link (rmtree would have deleted the target's contents)."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    assert compile_(root)[0] == 0
    os.symlink(outside, root / "out" / ".mlc-staging-e1-0123456789ab")
    os.symlink(outside, root / "out" / ".mlc-old-e1")
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 2")))
    assert compile_(root)[0] == 0
    untouched(outside)
    assert not [p for p in (root / "out").iterdir() if p.name.startswith(".mlc-")]


def test_a_planted_old_tree_without_its_environment_never_leads_outside(tmp_path: Path, outside: Path) -> None:
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE), "e2": aws_env("e2", STORE)})
    (root / "out").mkdir()
    os.symlink(outside, root / "out" / ".mlc-old-e1")
    assert compile_(root)[0] == 0
    assert not (root / "out" / "e1").is_symlink() and (root / "out" / "e1" / "plan.json").is_file()
    untouched(outside)


def test_a_manifest_naming_paths_outside_deletes_nothing_there(tmp_path: Path, outside: Path) -> None:
    """The manifest lists files mlc wrote before (they are pruned); entries that point
    outside the environment, or a manifest that is itself a symlink, delete nothing."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    assert compile_(root)[0] == 0
    manifest = root / "out" / "e1" / ".mlc-manifest.json"
    data = json.loads(manifest.read_text())
    data["files"].update({"../../outside/victim.txt": "x", str(outside / "victim.txt"): "x", "../e2/plan.json": "x"})
    manifest.write_text(json.dumps(data))
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 2")))
    assert compile_(root)[0] == 0
    untouched(outside)
    manifest.unlink()
    os.symlink(outside / "victim.txt", manifest)
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 3")))
    assert compile_(root)[0] == 0
    untouched(outside)
    assert not manifest.is_symlink()


def test_a_planted_symlink_where_mlc_writes_a_directory_is_not_written_through(tmp_path: Path, outside: Path) -> None:
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    assert compile_(root)[0] == 0
    import shutil

    shutil.rmtree(root / "out" / "e1" / "kubernetes")
    os.symlink(outside, root / "out" / "e1" / "kubernetes")
    before = snapshot(root / "out")
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 2")))
    code, _, err = compile_(root)
    untouched(outside)
    if code != 0:  # refusing is fine, with a clear message and out/ as it was
        assert code == 2 and "Traceback" not in err and snapshot(root / "out") == before
    else:
        assert not (root / "out" / "e1" / "kubernetes").is_symlink()


def test_a_planted_symlink_where_mlc_writes_a_file_is_replaced_not_followed(tmp_path: Path, outside: Path) -> None:
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    assert compile_(root)[0] == 0
    target = root / "out" / "e1" / "plan.json"
    target.unlink()
    os.symlink(outside / "victim.txt", target)
    assert compile_(root, "--no-cache")[0] == 0
    untouched(outside)
    assert not target.is_symlink() and json.loads(target.read_text())


def test_a_symlinked_out_directory_is_refused(tmp_path: Path, outside: Path) -> None:
    """Guards compile_project's check: `out` committed as a symlink (-> ~/.ssh, -> .git)
    would make every environment a directory swapped in and out of the target."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    os.symlink(outside, root / "out")
    for extra in ((), ("--check",), ("--out", str(root / "out"))):
        code, _, err = compile_(root, *extra)
        assert code == 2 and "is a symbolic link" in err, err
    untouched(outside)


def test_out_below_a_symlinked_parent_works_and_stays_inside(tmp_path: Path, outside: Path) -> None:
    """`--out` whose PARENT is a symlink (e.g. /tmp -> /private/tmp): the user's layout,
    allowed; everything lands inside the resolved out directory."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    real = tmp_path / "real"
    real.mkdir()
    os.symlink(real, tmp_path / "via")
    assert compile_(root, "--out", str(tmp_path / "via" / "out"))[0] == 0
    assert (real / "out" / "e1" / "plan.json").is_file()
    assert sorted(p.name for p in real.iterdir()) == ["out"]
    assert not (root / "out").exists()
    untouched(outside)


def test_the_cache_never_writes_through_planted_symlinks(tmp_path: Path, outside: Path) -> None:
    """Guards cache._replace_file: .mlc-cache/ is in the working tree, so a pull request can
    plant .mlc-cache/.gitignore -> ~/.bashrc; writing it overwrote the target with "*"."""
    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    (root / ".mlc-cache").mkdir()
    os.symlink(outside / "victim.txt", root / ".mlc-cache" / ".gitignore")
    os.symlink(outside / "new.txt", root / ".mlc-cache" / "state.json")
    for pid in range(os.getpid() - 5, os.getpid() + 5):
        os.symlink(outside / f"pid-{pid}.txt", root / ".mlc-cache" / f"state.json.{pid}")
    assert compile_(root)[0] == 0
    untouched(outside)
    assert compile_(root)[2].find("1 unchanged (cached)") >= 0  # the cache still works
    # a symlinked cache directory is not used at all
    import shutil

    shutil.rmtree(root / ".mlc-cache")
    os.symlink(outside, root / ".mlc-cache")
    (root / "environments" / "e1.yaml").write_text(aws_env("e1", STORE.replace("size_gb: 1", "size_gb: 2")))
    assert compile_(root)[0] == 0
    untouched(outside)


def test_a_base_revision_with_symlinked_files_is_read_safely(tmp_path: Path, outside: Path) -> None:
    """`mlc diff --base REF` / `mlc cost --base REF` extract REF's specs with `git archive`:
    links in that revision (absolute, or climbing out) are skipped, never followed; they
    made tarfile's data filter raise (an internal error, exit 70)."""
    import subprocess

    root = make_project(tmp_path / "p", {"e1": aws_env("e1", STORE)})
    os.symlink(outside / "creds.yaml", root / "environments" / "abs.yaml")
    os.symlink("../../outside/creds.yaml", root / "environments" / "rel.yaml")
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)
    for name in ("abs", "rel"):
        (root / "environments" / f"{name}.yaml").unlink()
    for argv in (["diff", "--project", str(root), "--base", "HEAD"], ["cost", "e1", "--project", str(root), "--base", "HEAD"]):
        code, out, err = run_main(*argv)
        assert code == 0, err
        assert SECRET not in out + err and "internal error" not in err
    untouched(outside)
