"""GitOps output: determinism, atomic writes under faults, pruning, --check, diff, cache (issue 9)."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compiler.cli import main
from tests.support.helpers import REPO, make_project

IMG = "reg.example.com/ml/job:1.0@sha256:" + "b" * 64
PARENT = """apiVersion: mlc/v1
kind: Environment
metadata: {name: base, labels: {team: t1, cost-center: cc-1}}
abstract: true
cloud: {provider: aws, region: eu-west-1, account: "123456789012"}
cluster:
  name: c1
  node_pools:
    cpu: {instance_type: m6i.2xlarge, min: 1, max: 3}
gitops: {repo: "https://git.example.com/ml/platform.git"}
budget: {monthly_usd: 100000}
components:
  data: {type: object_store, size_gb: 10, lifecycle: {expire_after_days: 30}}
  etl: {type: spark_job, image: "IMG", main: "local:///app/etl.py", reads: [data], writes: [data], hours_per_month: 5}
""".replace("IMG", IMG)


def child(name: str, extra: str = "") -> str:
    return (
        "apiVersion: mlc/v1\nkind: Environment\n"
        f"metadata: {{name: {name}, labels: {{team: t1, cost-center: cc-1}}}}\nextends: base\n{extra}"
    )


def project_with(tmp_path: Path, count: int = 3) -> Path:
    files = {"base": PARENT}
    files.update({f"env{i:02d}": child(f"env{i:02d}") for i in range(count)})
    return make_project(tmp_path, files)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file() and not p.is_symlink()}


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "compiler", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd or REPO,
        timeout=300,
    )


def test_output_is_identical_across_hash_seeds(tmp_path: Path) -> None:
    trees = []
    for seed in ("0", "1", "4242"):
        out = tmp_path / f"out-{seed}"
        done = run_cli("compile", "--project", str(REPO), "--out", str(out), "--no-cache", env={"PYTHONHASHSEED": seed})
        assert done.returncode == 0, done.stderr
        trees.append(snapshot(out))
    assert trees[0] == trees[1] == trees[2]
    assert len(trees[0]) > 50


def test_compile_is_idempotent_and_check_passes(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path)
    assert main(["compile", "--project", str(root)]) == 0
    first = snapshot(root / "out")
    assert main(["compile", "--project", str(root), "--no-cache"]) == 0
    assert snapshot(root / "out") == first
    capsys.readouterr()
    assert main(["compile", "--project", str(root), "--check"]) == 0


def test_check_lists_every_added_changed_and_removed_file(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path)
    assert main(["compile", "--project", str(root)]) == 0
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  etl: null\n"))
    (root / "environments" / "env03.yaml").write_text(child("env03"))
    (root / "out" / "env01" / "plan.json").write_text("{}\n")
    capsys.readouterr()
    assert main(["compile", "--project", str(root), "--check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("would remove out/env00/") and "etl" in line for line in out)
    assert "would change out/env01/plan.json" in out
    assert any(line.startswith("would add out/env03/") for line in out)
    assert not any("env02" in line for line in out)


def test_removed_components_and_environments_are_pruned_foreign_files_kept(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path)
    assert main(["compile", "--project", str(root)]) == 0
    etl_files = [p for p in (root / "out" / "env00").rglob("*etl*")]
    assert etl_files
    (root / "out" / "env00" / "NOTES.md").write_text("mine\n")
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  etl: null\n"))
    (root / "environments" / "env02.yaml").unlink()
    (root / "out" / "env02" / "kubernetes" / "hand-written.yaml").write_text("kind: X\n")
    capsys.readouterr()
    assert main(["compile", "--project", str(root)]) == 0
    captured = capsys.readouterr()
    assert not any(p.exists() for p in etl_files)
    assert (root / "out" / "env00" / "NOTES.md").read_text() == "mine\n"
    assert "out/env00/NOTES.md was not written by mlc; kept" in captured.err
    assert sorted(p.relative_to(root / "out").as_posix() for p in (root / "out" / "env02").rglob("*") if p.is_file()) == [
        "env02/kubernetes/hand-written.yaml"
    ]


def test_cache_skips_unchanged_and_recompiles_exactly_the_affected(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 4)
    assert main(["compile", "--project", str(root)]) == 0
    capsys.readouterr()
    assert main(["compile", "--project", str(root)]) == 0
    assert "0 compiled, 4 unchanged (cached)" in capsys.readouterr().err  # 4 children; the abstract base is not counted
    (root / "environments" / "env01.yaml").write_text(child("env01", "budget: {monthly_usd: 5000}\n"))
    assert main(["compile", "--project", str(root)]) == 0
    assert "1 compiled, 3 unchanged (cached)" in capsys.readouterr().err
    (root / "environments" / "base.yaml").write_text(PARENT.replace("size_gb: 10", "size_gb: 20"))
    assert main(["compile", "--project", str(root)]) == 0
    assert "4 compiled, 0 unchanged (cached)" in capsys.readouterr().err  # and the parent validated
    plan = (root / "out" / "env03" / "plan.json").read_text()
    assert '"size_gb": 20' in plan
    (root / "out" / "env02" / "plan.json").write_text("{}\n")  # an edit in out/ invalidates
    assert main(["compile", "--project", str(root)]) == 0
    assert "1 compiled, 3 unchanged (cached)" in capsys.readouterr().err
    assert (root / "out" / "env02" / "plan.json").read_text() != "{}\n"


@pytest.mark.parametrize("where", ["write", "flush", "fsync-fallback"])
def test_disk_full_while_writing_leaves_out_intact(tmp_path: Path, monkeypatch, capsys, where: str) -> None:
    """ENOSPC while creating a staged file, while flushing the staged trees (syncfs), or in
    the per-file fsync used where syncfs is unavailable: exit 2, out/ untouched."""
    root = project_with(tmp_path, 2)
    assert main(["compile", "--project", str(root)]) == 0
    before = snapshot(root / "out")
    for env in ("env00", "env01"):
        (root / "environments" / f"{env}.yaml").write_text(child(env, "budget: {monthly_usd: 7000}\n"))
    import compiler.output.writer as writer

    calls = {"n": 0}

    def disk_full() -> OSError:
        return OSError(errno.ENOSPC, "No space left on device")

    if where == "write":
        real_open = writer.os.open

        def failing_open(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
            if flags & os.O_CREAT:
                calls["n"] += 1
                if calls["n"] == 5:
                    raise disk_full()
            return real_open(path, flags, *args, **kwargs)

        monkeypatch.setattr(writer.os, "open", failing_open)
    elif where == "flush":

        def failing_syncfs(directory: Path) -> bool:
            raise disk_full()

        monkeypatch.setattr(writer, "_syncfs", failing_syncfs)
    else:
        real_fsync = writer.os.fsync

        def failing_fsync(fd: int) -> None:
            calls["n"] += 1
            if calls["n"] == 5:
                raise disk_full()
            real_fsync(fd)

        monkeypatch.setattr(writer, "_SYNCFS", None)
        monkeypatch.setattr(writer.os, "fsync", failing_fsync)
    capsys.readouterr()
    assert main(["compile", "--project", str(root), "--no-cache", "--jobs", "1"]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert snapshot(root / "out") == before
    assert not [p for p in (root / "out").iterdir() if p.name.startswith(".mlc-")]


def test_permission_error_leaves_out_intact(tmp_path: Path, capsys) -> None:
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    root = project_with(tmp_path, 1)
    assert main(["compile", "--project", str(root)]) == 0
    before = snapshot(root / "out")
    (root / "environments" / "env00.yaml").write_text(child("env00", "budget: {monthly_usd: 7000}\n"))
    os.chmod(root / "out", 0o500)
    try:
        assert main(["compile", "--project", str(root)]) == 2
    finally:
        os.chmod(root / "out", 0o755)
    assert snapshot(root / "out") == before


def test_a_kill_at_any_moment_leaves_each_environment_old_or_new(tmp_path: Path) -> None:
    root = project_with(tmp_path, 12)
    assert run_cli("compile", "--project", str(root), "--no-cache").returncode == 0
    old = {env.name: snapshot(env) for env in (root / "out").iterdir() if env.is_dir()}
    for i in range(12):
        (root / "environments" / f"env{i:02d}.yaml").write_text(child(f"env{i:02d}", "budget: {monthly_usd: 9000}\n"))
    reference = tmp_path / "reference"
    assert run_cli("compile", "--project", str(root), "--no-cache", "--out", str(reference)).returncode == 0
    new = {env.name: snapshot(env) for env in reference.iterdir() if env.is_dir()}
    start = time.monotonic()
    assert run_cli("compile", "--project", str(root), "--no-cache", "--out", str(tmp_path / "timing")).returncode == 0
    duration = time.monotonic() - start
    saved = tmp_path / "saved-out"
    shutil.copytree(root / "out", saved)
    outcomes = set()
    for step in range(1, 13):
        shutil.rmtree(root / "out")
        shutil.copytree(saved, root / "out")
        process = subprocess.Popen(
            [sys.executable, "-m", "compiler", "compile", "--project", str(root), "--no-cache"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        time.sleep(duration * step / 12)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        # the next run (any command that writes) recovers leftovers; reading happens before it
        for env in old:
            tree = snapshot(root / "out" / env)
            assert tree in (old[env], new[env]), f"{env} is neither old nor new after a kill at step {step}"
            outcomes.add("old" if tree == old[env] else "new")
        assert run_cli("compile", "--project", str(root), "--no-cache").returncode == 0
        assert {env.name: snapshot(env) for env in (root / "out").iterdir() if env.is_dir()} == new
        assert not [p for p in (root / "out").iterdir() if p.name.startswith(".mlc-")]
    assert "old" in outcomes  # the sweep started before writing ...


def test_symlinks_in_out_are_never_followed(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch\n")
    (root / "out").mkdir()
    os.symlink(outside, root / "out" / "env00")  # the whole env dir is a planted link
    assert main(["compile", "--project", str(root)]) == 0
    assert (outside / "precious.txt").read_text() == "do not touch\n" and sorted(p.name for p in outside.iterdir()) == ["precious.txt"]
    assert not (root / "out" / "env00").is_symlink()
    link = root / "out" / "env01" / "kubernetes" / "link.yaml"
    os.symlink(outside / "precious.txt", link)
    (root / "environments" / "env01.yaml").write_text(child("env01", "budget: {monthly_usd: 7000}\n"))
    assert main(["compile", "--project", str(root)]) == 0
    assert (outside / "precious.txt").read_text() == "do not touch\n"
    assert link.is_symlink()  # reported as not written by mlc, kept as a link


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        },
    )


def test_diff_against_a_git_revision(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {size_gb: 5000}\n"))
    capsys.readouterr()
    assert main(["diff", "--project", str(root), "--base", "HEAD"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("== env00: 0 added, ")
    assert "  data:\n    changed plan.json" in text or "changed plan.json" in text
    assert "env01" not in text
    lines = text.splitlines()
    assert any(line.startswith("-") and '"size_gb": 10' in line for line in lines)
    assert any(line.startswith("+") and '"size_gb": 5000' in line for line in lines)
    assert "cost $281.27 → $396.04 (+$114.77)" in lines[0]
    assert main(["diff", "--project", str(root), "--base", "HEAD", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert markdown.startswith("### mlc: compiled output against `HEAD`")
    assert "| `env00` |" in markdown and "```diff" in markdown
    assert (root / "environments" / "env00.yaml").read_text().endswith("size_gb: 5000}\n")  # working tree untouched


def test_mlc_init_scaffolds_a_repository_that_passes_its_own_checks(tmp_path: Path, capsys) -> None:
    target = tmp_path / "platform"
    assert main(["init", str(target)]) == 0
    assert main(["validate", "--project", str(target)]) == 0
    assert main(["check", "--project", str(target)]) == 0
    assert main(["compile", "--project", str(target)]) == 0
    assert main(["compile", "--project", str(target), "--check"]) == 0
    assert main(["init", str(target)]) == 2  # never overwrites


def test_pre_commit_hook_definition() -> None:
    import yaml

    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    ids = {h["id"]: h for h in hooks}
    assert set(ids) == {"mlc-check", "mlc-compile-check"}
    assert ids["mlc-compile-check"]["entry"] == "mlc compile --check"
    assert all(h["pass_filenames"] is False for h in hooks)


def test_an_environment_with_error_findings_is_not_written_others_are(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 2)
    assert main(["compile", "--project", str(root)]) == 0
    before = snapshot(root / "out" / "env00")
    # a pii store made public is an error-level finding (MLC-SEC-002) in env00 only
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {classification: pii, public: true}\n"))
    (root / "environments" / "env01.yaml").write_text(child("env01", "budget: {monthly_usd: 7000}\n"))
    capsys.readouterr()
    assert main(["compile", "--project", str(root)]) == 1
    captured = capsys.readouterr()
    assert "error MLC-SEC-002" in captured.err and "env00: not written" in captured.err
    assert snapshot(root / "out" / "env00") == before
    assert '"monthly_usd": 7000' in (root / "out" / "env01" / "plan.json").read_text()


def test_cost_delta_against_a_git_revision(tmp_path: Path, capsys) -> None:
    root = project_with(tmp_path, 1)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "base")
    (root / "environments" / "env00.yaml").write_text(child("env00", "components:\n  data: {size_gb: 1010}\n"))
    git(root, "commit", "-qam", "bigger store")
    capsys.readouterr()
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD~1", "--format", "json"]) == 0
    import json

    delta = json.loads(capsys.readouterr().out)
    text = json.dumps(delta)
    assert "data" in text and "23.0" in text  # 1000 GB more x $0.023 = $23.00 per month
    assert main(["cost", "--project", str(root), "env00", "--base", "HEAD~1", "--format", "markdown"]) == 0
    markdown = capsys.readouterr().out
    assert "env00" in markdown and "+$23.00" in markdown
