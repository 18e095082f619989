"""`mlc init DIR`: a new GitOps repository that passes its own checks.

The workflow and the pre-commit configuration install mlc from the repository it comes
from, pinned to one revision: by default the one this mlc was installed from (pip's
`direct_url.json` for a `git+` install, or the Git checkout of an editable install), else
what `--mlc-source` / `--mlc-rev` say.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from compiler.frontend.project import PACKAGED_SCHEMA, UsageError

DATA = Path(__file__).parent / "data"
PLACEHOLDER_SOURCE = "https://git.example.com/ml/mlc"  # when the origin cannot be found: edit it
# what may be written into YAML and a shell-quoted pip requirement without escaping
_SOURCE = re.compile(r"(https://|ssh://)[A-Za-z0-9._~:/@%+-]{1,300}\Z")
_REV = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]{0,100}\Z")
ALLOWED_EXISTING = {".git"}  # an empty repository (`git init`) may be scaffolded


def installed_origin() -> tuple[str, str] | None:
    """(repository URL, commit) this mlc was installed from, when pip or Git records it."""
    from importlib import metadata

    try:
        raw = metadata.distribution("mlc").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        raw = None
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    vcs = info.get("vcs_info") or {}
    if vcs.get("vcs") == "git" and vcs.get("commit_id"):
        return str(info.get("url", "")), str(vcs["commit_id"])
    url = str(info.get("url", ""))
    if (info.get("dir_info") or {}).get("editable") and url.startswith("file://"):
        return _checkout_origin(Path(url[len("file://") :]))
    return None


def _checkout_origin(directory: Path) -> tuple[str, str] | None:
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    remote, commit = git("remote", "get-url", "origin"), git("rev-parse", "HEAD")
    return (remote, commit) if remote and commit else None


def _pin(source: str | None, rev: str | None) -> tuple[str, str, list[str]]:
    notes: list[str] = []
    if source is None or rev is None:
        found = installed_origin()
        if found and _SOURCE.match(found[0]) and _REV.match(found[1]):
            source, rev = source or found[0], rev or found[1]
    if source is None:
        from compiler import __version__

        source, rev = PLACEHOLDER_SOURCE, rev or f"v{__version__}"
        notes.append(
            f"note: the mlc repository could not be determined; MLC_PACKAGE in .github/workflows/mlc.yml and "
            f"repo/rev in .pre-commit-config.yaml point at {source}: set them (or run mlc init --mlc-source URL --mlc-rev REV)"
        )
    if not _SOURCE.match(source):
        raise UsageError(f"--mlc-source must be an https:// or ssh:// URL without spaces or quotes, got {source!r}")
    if rev is None or not _REV.match(rev):
        raise UsageError(f"--mlc-rev must be a Git tag, branch or commit (letters, digits, . _ / + -), got {rev!r}")
    return source, rev, notes


def init_project(target: Path, source: str | None = None, rev: str | None = None) -> list[str]:
    """Create the scaffold in `target` (absent, empty, or holding only `.git`); return what was made."""
    if target.exists() and (not target.is_dir() or any(p.name not in ALLOWED_EXISTING for p in target.iterdir())):
        raise UsageError(f"{target} exists and is not empty; mlc init only writes into a new or empty folder (a .git/ is fine)")
    source, rev, notes = _pin(source, rev)

    def pinned(name: str) -> bytes:
        text = (DATA / "scaffold" / name).read_text(encoding="utf-8")
        return text.replace("@MLC_SOURCE@", source).replace("@MLC_REV@", rev).encode("utf-8")

    files = {
        "environments/dev.yaml": (DATA / "scaffold" / "dev.yaml").read_bytes(),
        "schemas/environment.schema.json": PACKAGED_SCHEMA.read_bytes(),
        ".gitignore": (DATA / "scaffold" / "gitignore").read_bytes(),
        "README.md": (DATA / "scaffold" / "README.md").read_bytes(),
        ".github/workflows/mlc.yml": pinned("mlc.yml"),
        ".pre-commit-config.yaml": pinned("pre-commit-config.yaml"),
        # built-in KCL policies run from the package; policies/ is for the team's own
        "policies/README.md": (DATA / "scaffold" / "policies-README.md").read_bytes(),
    }
    made = []
    for rel, data in files.items():
        path = target / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        made.append(f"created {rel}")
    (target / "out").mkdir(exist_ok=True)
    made += notes
    made.append("next: cd into it, run `mlc check` and `mlc compile`, and commit out/")
    return made
