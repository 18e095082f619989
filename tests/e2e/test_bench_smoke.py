"""The benchmark keeps working: generator output is valid and deterministic, and the runner
produces its report at N=3. No timing is asserted here (timings belong in bench/RESULTS.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.helpers import REPO

BENCH = REPO / "bench"


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def test_generator_is_deterministic_and_its_projects_are_valid(tmp_path: Path) -> None:
    for name in ("a", "b"):
        subprocess.run(
            [sys.executable, str(BENCH / "generate.py"), "--envs", "7", "--out", str(tmp_path / name), "--seed", "3"],
            check=True,
            capture_output=True,
        )
    assert _snapshot(tmp_path / "a" / "environments") == _snapshot(tmp_path / "b" / "environments")
    from compiler.frontend.project import Project

    envs = Project.at(tmp_path / "a").load_environments()  # schema-valid, inheritance resolves
    assert len(envs) == 7
    assert {e.provider for e in envs} == {"aws", "gcp", "azure"}
    types = {c.type for e in envs for c in e.components.values()}
    assert types == {
        "object_store",
        "data_lake",
        "database",
        "spark_job",
        "training_job",
        "serving",
        "batch_inference",
        "monitoring",
        "pipeline",
    }
    for env in envs:
        assert {"team", "cost-center"} <= set(env.labels)
        assert len(env.chain) >= 3  # provider/region base, team parent, the environment


def test_generated_environments_have_no_error_findings(tmp_path: Path) -> None:
    """The benchmark measures compiles, not blocked environments: every generated environment
    passes the policies at error level (GPU pools large enough for their jobs, MLC-REL-050)."""
    subprocess.run(
        [sys.executable, str(BENCH / "generate.py"), "--envs", "40", "--out", str(tmp_path / "p")], check=True, capture_output=True
    )
    proc = subprocess.run(
        [sys.executable, "-m", "compiler", "check", "--project", str(tmp_path / "p"), "--no-cache"], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-1].startswith("0 errors, 0 warnings,"), proc.stdout[-3000:]


def test_quick_benchmark_writes_the_report(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--quick", "--work", str(tmp_path / "work"), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = report.read_text(encoding="utf-8")
    headings = ("## Machine", "## Results", "## Scaling", "## Against the anchors", "## Targets", "## Pull-request commands", "## Profiles")
    for heading in headings:
        assert heading in text
    assert "| 3 |" in text  # the N=3 row
    assert "failed" not in text
    assert "0/0/" in text  # no error- or warning-level findings in the generated project
    for command in ("check", "compile --check", "diff --base", "cost --base"):  # after, and before where git has the commit
        assert f"| 3 | `{command}` |" in text
