"""`mlc init DIR`: a new GitOps repository that passes its own checks."""

from __future__ import annotations

from pathlib import Path

from compiler.frontend.project import PACKAGED_SCHEMA, UsageError

DATA = Path(__file__).parent / "data"


def init_project(target: Path) -> list[str]:
    """Create the scaffold in `target` (which must be absent or empty); return what was made."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} exists and is not empty; mlc init only writes into a new or empty folder")
    files = {
        "environments/dev.yaml": (DATA / "scaffold" / "dev.yaml").read_bytes(),
        "schemas/environment.schema.json": PACKAGED_SCHEMA.read_bytes(),
        ".gitignore": (DATA / "scaffold" / "gitignore").read_bytes(),
        "README.md": (DATA / "scaffold" / "README.md").read_bytes(),
        ".github/workflows/mlc.yml": (DATA / "scaffold" / "mlc.yml").read_bytes(),
    }
    # built-in KCL policies run from the package; policies/ is for the team's own
    files["policies/README.md"] = (DATA / "scaffold" / "policies-README.md").read_bytes()
    made = []
    for rel, data in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        made.append(f"created {rel}")
    (target / "policies").mkdir(exist_ok=True)
    (target / "out").mkdir(exist_ok=True)
    made.append("next: cd into it, run `mlc check` and `mlc compile`, and commit out/")
    return made
