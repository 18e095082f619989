"""docs/getting-started.md runs as written (issue 19): its `sh` blocks are taken from the
markdown and run in order, in one shell, in an empty folder, with `mlc` on the PATH, so
the tutorial and this test cannot drift apart."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

from tests.support.helpers import REPO

TUTORIAL = REPO / "docs" / "getting-started.md"
BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.S | re.M)


def shell_blocks(markdown: str) -> list[str]:
    return BLOCK.findall(markdown)


def test_the_blocks_are_found() -> None:
    text = "intro\n```sh\nmlc init x\ncd x\n```\n```yaml\nnot: run\n```\n```sh\nmlc check\n```\n"
    assert shell_blocks(text) == ["mlc init x\ncd x\n", "mlc check\n"]


def test_the_tutorial_runs_end_to_end(tmp_path: Path) -> None:
    blocks = shell_blocks(TUTORIAL.read_text(encoding="utf-8"))
    commands = [line.split()[:2] for block in blocks for line in block.splitlines() if line.startswith("mlc ")]
    # init -> edit -> check -> compile -> diff, each at least once
    assert [c[1] for c in commands][:1] == ["init"] and {"check", "compile", "diff"} <= {c[1] for c in commands}
    assert any(line.startswith("cat >> environments/") for block in blocks for line in block.splitlines())
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "mlc"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m compiler "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "work"
    work.mkdir()
    script = "set -euo pipefail\nset -x\n" + "\n".join(blocks)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(REPO),
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    done = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    project = work / "ml-platform"
    assert (project / "out" / "dev" / "terraform" / "store-features.tf.json").is_file()  # the edit was compiled
    log = subprocess.run(["git", "-C", str(project), "log", "--format=%s"], capture_output=True, text=True, check=True).stdout
    assert log.splitlines() == ["dev: feature store", "compile dev", "mlc init"]
    assert subprocess.run(["git", "-C", str(project), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
    # what the diff step printed: the new bucket, with its cost
    assert "+ features" not in done.stdout  # (sanity: stdout is the commands' output, not the script)
    assert "== dev: " in done.stdout and "features:" in done.stdout
