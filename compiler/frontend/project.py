"""A project on disk: environments/, schemas/, policies/, out/. Loads and resolves lazily.

`load_environments` is the front end of the compiler: it reads only the files it needs
(the selected environments and their ancestors), validates each file, resolves
inheritance and validates each resolved environment, and returns every diagnostic of
every file at once.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path

from compiler.core.diagnostics import Diagnostic, InputError, Location, did_you_mean
from compiler.frontend.loader import Document, load_file
from compiler.frontend.resolve import linearize, merge_chain, provider_changes
from compiler.frontend.schema_check import validate
from compiler.model.environment import Environment, apply_defaults, chain_locate

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")
MAX_ENVIRONMENTS = 5000
MAX_COMPONENTS = 1000
PACKAGED_SCHEMA = Path(__file__).parent.parent / "data" / "environment.schema.json"


@dataclass
class Project:
    root: Path
    out_dir: Path
    _documents: dict[str, Document] = field(default_factory=dict, repr=False)
    _failed: dict[str, list[Diagnostic]] = field(default_factory=dict, repr=False)
    _files: dict[str, Path] | None = field(default=None, repr=False)
    _ignored: list[str] = field(default_factory=list, repr=False)

    @classmethod
    def at(cls, root: str | Path, out: str | Path | None = None) -> Project:
        root_path = Path(root)
        return cls(root_path, Path(out) if out is not None else root_path / "out")

    @property
    def env_dir(self) -> Path:
        return self.root / "environments"

    @property
    def policies_dir(self) -> Path:
        return self.root / "policies"

    @property
    def schema_path(self) -> str:
        own = self.root / "schemas" / "environment.schema.json"
        return str(own if own.is_file() else PACKAGED_SCHEMA)

    def relpath(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def env_files(self) -> dict[str, Path]:
        """Environment name -> file, for every *.yaml / *.yml directly in environments/
        (cached). Two files for one name (prod.yaml beside prod.yml, or PROD.yaml: names are
        compared ignoring case, as a case-insensitive checkout would) and an upper-case
        extension are errors (MLC-E013, MLC-E011): silently picking one would compile the
        other's spec. Everything else in the folder is listed by `ignored()`."""
        if self._files is not None:
            return self._files
        if not self.env_dir.is_dir():
            return {}
        groups: dict[str, list[Path]] = {}
        problems: list[Diagnostic] = []
        ignored: list[str] = []
        for path in sorted(self.env_dir.iterdir()):
            # symlinks are listed (and refused when loaded, MLC-E012) rather than skipped:
            # skipping would silently prune the environment's output as if it were deleted
            if path.suffix.lower() in (".yaml", ".yml") and (path.is_file() or path.is_symlink()):
                groups.setdefault(path.stem.lower(), []).append(path)
                if path.suffix not in (".yaml", ".yml"):
                    problems.append(
                        Diagnostic(
                            Location(self.relpath(path), 1, 1),
                            "MLC-E011",
                            f'file name "{path.name}": the extension of an environment file is .yaml or .yml, in lower case',
                        )
                    )
            else:
                ignored.append(self.relpath(path) + ("/" if path.is_dir() and not path.is_symlink() else ""))
        files: dict[str, Path] = {}
        for paths in groups.values():
            if len(paths) > 1:
                names = " and ".join(p.name for p in paths)
                for path in paths:
                    problems.append(
                        Diagnostic(
                            Location(self.relpath(path), 1, 1),
                            "MLC-E013",
                            f'environment "{paths[0].stem.lower()}" is defined by {len(paths)} files ({names}); keep exactly one',
                        )
                    )
            files[paths[0].stem] = paths[0]
        self._ignored = ignored
        if problems:
            raise InputError(problems)
        self._files = files
        return files

    def ignored(self) -> list[str]:
        """Entries of environments/ that are not environment files (subfolders end in "/")."""
        if self._files is None:
            try:
                self.env_files()
            except InputError:
                pass
        return list(self._ignored)

    def document(self, name: str, path: Path) -> Document:
        if name in self._failed:
            raise InputError(self._failed[name])
        if name not in self._documents:
            display = self.relpath(path)
            try:
                doc = load_file(str(path), display)
            except InputError as exc:
                self._failed[name] = exc.diagnostics
                raise
            problems = _file_checks(name, doc, self.schema_path)
            if problems:
                self._failed[name] = problems
                raise InputError(problems)
            self._documents[name] = doc
        return self._documents[name]

    def is_abstract(self, name: str) -> bool:
        """True when the file parses and declares `abstract: true` (invalid files: False)."""
        path = self.env_files().get(name)
        if path is None:
            return False
        try:
            return self.document(name, path).data.get("abstract") is True
        except InputError:
            return False

    def load_environments(self, selected: list[str] | None = None) -> list[Environment]:
        """Resolve the selected (default: all concrete) environments, or raise every problem."""
        files = self.env_files()
        diagnostics: list[Diagnostic] = []
        if len(files) > MAX_ENVIRONMENTS:
            raise InputError(
                [
                    Diagnostic(
                        Location(self.relpath(self.env_dir), 1, 1),
                        "MLC-E070",
                        f"{len(files)} environment files; the limit is {MAX_ENVIRONMENTS}",
                    )
                ]
            )
        names = list(files)
        for name in names:
            if not DNS_LABEL.match(name):
                diagnostics.append(
                    Diagnostic(
                        Location(self.relpath(files[name]), 1, 1),
                        "MLC-E011",
                        f'file name "{files[name].name}" is not a DNS-1123 label; environment files are named <name>.yaml',
                    )
                )
        valid = [n for n in names if DNS_LABEL.match(n)]
        if selected:
            unknown = [n for n in selected if n not in files]
            if unknown:
                hint = did_you_mean(unknown[0], valid)
                raise UsageError(f'unknown environment "{unknown[0]}"{hint}; known: {", ".join(valid) or "(none)"}')
            wanted = list(dict.fromkeys(selected))
        else:
            wanted = valid
        # load what is wanted plus every ancestor
        pending, seen = list(wanted), set()
        while pending:
            name = pending.pop()
            if name in seen or name not in files or not DNS_LABEL.match(name):
                continue
            seen.add(name)
            try:
                doc = self.document(name, files[name])
            except InputError as exc:
                diagnostics.extend(exc.diagnostics)
                continue
            from compiler.frontend.resolve import parents_of

            pending.extend(parents_of(doc))
        environments: list[Environment] = []
        for name in wanted:
            if name not in self._documents:
                continue
            doc = self._documents[name]
            if doc.data.get("abstract") is True:
                if selected:
                    diagnostics.append(
                        Diagnostic(
                            doc.locate("/abstract"), "MLC-E033", f'environment "{name}" is abstract (a parent only) and is never compiled'
                        )
                    )
                continue
            env, problems = self._resolve(name, set(valid))
            diagnostics.extend(problems)
            if env is not None:
                environments.append(env)
        if diagnostics:
            raise InputError(diagnostics)
        return environments

    def _resolve(self, name: str, known: set[str]) -> tuple[Environment | None, list[Diagnostic]]:
        chain, problems = linearize(name, self._documents, known)
        if any(n in self._failed for n in chain):
            return None, problems
        problems += provider_changes(chain, self._documents)
        if problems:
            return None, problems
        merged = merge_chain(chain, self._documents)
        docs = tuple(self._documents[n] for n in chain)
        locate = functools.partial(chain_locate, docs)
        problems = validate(self.schema_path, merged, locate, partial=False)
        components = merged.get("components")
        if isinstance(components, dict) and len(components) > MAX_COMPONENTS:
            problems.append(
                Diagnostic(locate("/components", True), "MLC-E070", f"{len(components)} components; the limit is {MAX_COMPONENTS}")
            )
        if problems:
            return None, problems
        spec = apply_defaults(merged, self.schema_path)
        unique_files = tuple(dict.fromkeys(d.path for d in docs))
        return Environment(name=name, file=docs[-1].path, chain=tuple(chain), files=unique_files, spec=spec, documents=docs), []


class UsageError(Exception):
    """Wrong command-line usage (exit code 2), not tied to a file position."""


def _file_checks(name: str, doc: Document, schema_path: str) -> list[Diagnostic]:
    problems = validate(schema_path, doc.data, doc.locate, partial=True)
    metadata = doc.data.get("metadata")
    declared = metadata.get("name") if isinstance(metadata, dict) else None
    if isinstance(declared, str) and declared != name:
        problems.append(
            Diagnostic(doc.locate("/metadata/name"), "MLC-E010", f'metadata.name "{declared}" must equal the file name stem "{name}"')
        )
    elif declared is None and not problems:
        problems.append(Diagnostic(doc.locate("/metadata", True), "MLC-E023", 'missing required field "metadata.name"'))
    return sorted(set(problems))
