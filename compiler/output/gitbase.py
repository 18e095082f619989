"""Reading a project as it was at a Git revision, without touching the working tree and
without reading more of the revision than a command needs.

`BaseTree` lists the revision's top-level environments/*.yaml|yml (any letter case, so the
working tree's naming errors apply), policies/*.k and schemas/environment.schema.json with
their blob ids and sizes (`git ls-tree -l`: nothing is read). Whether a working-tree file
has the same bytes is answered by computing its blob id, so unchanged files of the base
are never read. `materialise(names)` then writes only the files compiling those
environments needs (the schema, the policies, the named environments, their `extends`
ancestors, the manifests folders their overrides name, and any environment file the loader
would refuse by its name: MLC-E011, MLC-E013) into a small temporary folder
(`mlc-base-<pid>-*`, removed afterwards, or by a later run if this one is killed), streaming the
blobs with `git cat-file --batch`. Limits are the working tree's: an environment or policy
file over MAX_FILE_BYTES becomes a sparse file of its size (nothing of it is read; the
loader refuses it as MLC-E001), more than MAX_ENVIRONMENTS environment files or a schema
over MAX_SCHEMA_BYTES is a usage error. Symbolic links and submodules are skipped. The
current compiler then compiles that copy: comparing two compiles by the same compiler
shows what the change to the specs does.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from compiler.frontend.project import UsageError

_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^@{}-]{0,200}\Z")
SCHEMA_FILE = "schemas/environment.schema.json"


def _git(root: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"cannot run git: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(f"git {args[0]} failed: {message[-1] if message else f'exit status {done.returncode}'}")
    return done.stdout


ENV_SUFFIXES = (".yaml", ".yml")
MAX_SCHEMA_BYTES = 4 * 1024 * 1024
MAX_TREE_FILES = 20_000  # entries of the folders listed at a revision
MAX_POLICY_FILES = 256
TEMP_PREFIX = "mlc-base-"


@dataclass(frozen=True)
class Blob:
    oid: str
    size: int
    path: str  # repository path


class BaseTree:
    """The project's spec files at a revision: environments by name, the schema, the
    policies, and any other project file asked for by path (overrides' manifests folders)."""

    def __init__(self, root: Path, ref: str):
        if not _REF.match(ref) or ref.startswith("-"):
            raise UsageError(f"not a valid Git revision: {ref!r}")
        self.root = root
        self.ref = ref
        self.prefix = _git(root, "rev-parse", "--show-prefix").decode().strip()
        try:
            self.commit = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").decode().strip()
        except UsageError:
            raise UsageError(
                f'unknown Git revision "{ref}": no commit of that name in this repository (try a branch, tag or commit id)'
            ) from None
        self.hash_name = "sha256" if len(self.commit) == 64 else "sha1"
        self.environments: dict[str, Blob] = {}
        self.others: dict[str, Blob] = {}  # project-relative path -> blob (schemas/, policies/)
        # environment files the loader refuses by name (an upper-case extension, MLC-E011; two
        # files for one name ignoring case, MLC-E013): always materialised, so the compile of
        # the revision reports them exactly as for the working tree
        self.misnamed: dict[str, Blob] = {}
        groups: dict[str, list[tuple[str, Blob]]] = {}
        for rel, blob in sorted(self._list(("environments", "policies", "schemas")).items()):
            folder, _, name = rel.partition("/")
            if folder == "environments" and Path(name).suffix.lower() in ENV_SUFFIXES:  # as Project.env_files lists them
                groups.setdefault(Path(name).stem.lower(), []).append((rel, blob))
            elif (folder == "policies" and name.endswith(".k")) or rel == SCHEMA_FILE:
                self.others[rel] = blob
        for members in groups.values():
            rel, blob = members[0]
            self.environments[Path(rel).stem] = blob
            for rel, blob in members:
                if len(members) > 1 or Path(rel).suffix not in ENV_SUFFIXES:
                    self.misnamed[rel] = blob
        if sum(1 for rel in self.others if rel.startswith("policies/")) > MAX_POLICY_FILES:
            raise UsageError(f"{ref} has more than {MAX_POLICY_FILES} policy files")
        from compiler.frontend.project import MAX_ENVIRONMENTS

        count = sum(len(members) for members in groups.values())
        if count > MAX_ENVIRONMENTS:
            raise UsageError(f"{ref} has {count} environment files; the limit is {MAX_ENVIRONMENTS}")

    def _list(self, folders: tuple[str, ...]) -> dict[str, Blob]:
        """Project-relative path -> blob of the regular files directly in `folders` (links,
        submodules and subfolders skipped)."""
        listing = _git(self.root, "ls-tree", "-z", "-l", "--full-tree", self.commit, "--", *(f"{self.prefix}{d}/" for d in folders))
        found: dict[str, Blob] = {}
        for record in listing.split(b"\0"):
            if not record:
                continue
            meta, _, raw_path = record.partition(b"\t")
            mode, kind, oid, size = meta.decode().split()
            path = raw_path.decode("utf-8", "surrogateescape")
            if kind == "blob" and mode in ("100644", "100755") and path.startswith(self.prefix):
                found[path[len(self.prefix) :]] = Blob(oid, int(size), path)
            if len(found) > MAX_TREE_FILES:
                raise UsageError(f"{self.ref} has more than {MAX_TREE_FILES} files under {', '.join(folders)}")
        return found

    def same(self, blob: Blob | None, data: bytes | None) -> bool:
        """True when `data` (a working-tree file, None when absent) has the blob's exact bytes."""
        if blob is None or data is None:
            return blob is None and data is None
        if len(data) != blob.size:
            return False
        digest = hashlib.new(self.hash_name, b"blob %d\0" % len(data))
        digest.update(data)
        return digest.hexdigest() == blob.oid

    def materialise(self, names: list[str] | tuple[str, ...], policies: bool = True) -> BaseCheckout:
        """A temporary project folder holding the schema, the policies (when asked), the
        named environments, their ancestors at the revision (transitively), and the
        manifests folders their overrides name: what compiling those environments reads."""
        from compiler.core.procs import owned_tempdir
        from compiler.frontend.loader import MAX_FILE_BYTES

        folder = owned_tempdir(TEMP_PREFIX)
        checkout = BaseCheckout(folder, Path(folder))
        try:
            wanted = {rel: blob for rel, blob in self.others.items() if policies or rel == SCHEMA_FILE}
            for rel, blob in wanted.items():
                if rel == SCHEMA_FILE and blob.size > MAX_SCHEMA_BYTES:
                    raise UsageError(f"{self.ref}:{blob.path} is {blob.size} bytes; the limit is {MAX_SCHEMA_BYTES}")
            self._write(checkout.project_root, {**wanted, **self.misnamed}, MAX_FILE_BYTES)
            done: set[str] = set()
            pending = [n for n in names if n in self.environments]
            while pending:
                batch = {}
                for name in dict.fromkeys(pending):
                    if name not in done:
                        done.add(name)
                        blob = self.environments[name]
                        batch[f"environments/{blob.path.rsplit('/', 1)[-1]}"] = blob
                self._write(checkout.project_root, {rel: b for rel, b in batch.items() if rel not in self.misnamed}, MAX_FILE_BYTES)
                pending = []
                for rel in batch:
                    parents, folders = _references(checkout.project_root / rel)
                    pending += [p for p in parents if p in self.environments and p not in done]
                    for manifests in folders:
                        self._write(checkout.project_root, self.folder(manifests), MAX_FILE_BYTES)
        except BaseException:
            checkout.cleanup()
            raise
        return checkout

    def folder(self, folder: str) -> dict[str, Blob]:
        """The files of a project folder at the revision (an overrides manifests folder)."""
        clean = folder.strip("/")
        if not clean or any(part in ("", ".", "..") for part in clean.split("/")):
            return {}  # the compile reports the bad path; nothing outside the project is read
        return {rel: blob for rel, blob in self._list((clean,)).items() if rel.endswith(ENV_SUFFIXES)}

    def _write(self, project_root: Path, blobs: dict[str, Blob], limit: int) -> None:
        """Write each blob under `project_root`; one larger than `limit` becomes a sparse
        file of its size (nothing of it is read: the loader refuses it as MLC-E001)."""
        to_read = []
        for rel, blob in blobs.items():
            target = project_root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if blob.size > limit and rel != SCHEMA_FILE:
                with open(target, "wb") as handle:
                    handle.truncate(blob.size)
            else:
                to_read.append((blob.oid, target))
        _stream_blobs(self.root, to_read)


def _references(path: Path) -> tuple[list[str], list[str]]:
    """The `extends` parents and `overrides.manifests` folders a file names (none when it
    does not parse: compiling it reports why)."""
    from compiler.core.diagnostics import InputError
    from compiler.frontend.loader import load_file
    from compiler.frontend.resolve import parents_of

    try:
        doc = load_file(str(path), path.name)
    except (InputError, OSError):
        return [], []
    overrides = doc.data.get("overrides")
    folders = overrides.get("manifests") if isinstance(overrides, dict) else None
    return parents_of(doc), [f for f in folders or [] if isinstance(f, str)]


class BaseCheckout:
    """A temporary folder holding part of a project at a revision (a context manager)."""

    def __init__(self, folder: str, project_root: Path):
        self.name = folder
        self.project_root = project_root

    def __enter__(self) -> BaseCheckout:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        import shutil

        shutil.rmtree(self.name, ignore_errors=True)


def _stream_blobs(root: Path, blobs: list[tuple[str, Path]]) -> None:
    """Write each blob to its target, streaming `git cat-file --batch` (bounded memory)."""
    if not blobs:
        return
    import threading

    try:
        proc = subprocess.Popen(["git", "-C", str(root), "cat-file", "--batch"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    except OSError as exc:
        raise UsageError(f"cannot run git: {exc}") from None
    assert proc.stdin is not None and proc.stdout is not None
    requests = "".join(f"{oid}\n" for oid, _ in blobs).encode()

    def feed() -> None:
        try:
            proc.stdin.write(requests)  # type: ignore[union-attr]
            proc.stdin.close()  # type: ignore[union-attr]
        except OSError:
            pass

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    try:
        for oid, target in blobs:
            header = proc.stdout.readline().split()
            if len(header) != 3 or header[0].decode() != oid:
                raise UsageError(f"git cat-file: unexpected answer for {oid}")
            left = int(header[2])
            with open(target, "wb") as handle:
                while left:
                    chunk = proc.stdout.read(min(left, 1 << 16))
                    if not chunk:
                        raise UsageError("git cat-file: unexpected end of output")
                    handle.write(chunk)
                    left -= len(chunk)
            proc.stdout.read(1)  # the newline after each object
    finally:
        writer.join(timeout=5)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()
