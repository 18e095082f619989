"""KCL policy files are written to a temporary workspace once per process and reused for every
environment; the workspace disappears when the process exits, pool workers included."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.helpers import REPO, aws_env, make_project


def test_one_workspace_per_process_and_set_of_files(tmp_path: Path) -> None:
    from compiler.policy import kcl

    files = kcl.policy_files(None)
    first = kcl._workspace(files)
    assert kcl._workspace(files) == first
    assert Path(first[0], kcl.MAIN).is_file()
    extra = tmp_path / "policies"
    extra.mkdir()
    (extra / "mine.k").write_text("mlc_rules = []\nmlc_findings = []\n", encoding="utf-8")
    other = kcl._workspace(kcl.policy_files(extra))
    assert other[0] != first[0]  # another set of files: another workspace


def test_workspaces_are_removed_when_the_process_exits(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", {f"env{i}": aws_env(f"env{i}") for i in range(9)})  # 9 >= PARALLEL_THRESHOLD: a pool
    script = textwrap.dedent(
        f"""
        import sys
        from datetime import date
        from compiler.build import compile_project
        from compiler.policy import kcl
        from compiler.frontend.project import Project
        compile_project(Project.at({str(root)!r}), None, date(2026, 6, 1), jobs=2)  # workers
        compile_project(Project.at({str(root)!r}), None, date(2026, 6, 1), use_cache=False, jobs=1)  # this process
        print("\\n".join(path for path, _ in kcl._WORKSPACES.values()))
        """
    )
    marker = tmp_path / "tmp"
    marker.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"TMPDIR": str(marker), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip()  # this process made one
    assert not [p.name for p in marker.iterdir() if p.name.startswith("mlc-kcl-")]
