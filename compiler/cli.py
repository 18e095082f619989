"""The `mlc` command line: parses flags, calls the compiler, maps results to exit codes.

Exit codes: 0 success; 1 error-level policy findings or --check drift; 2 invalid input,
usage, out/ locked by another run past the timeout, a dead worker, or a failure to write
out/ (the message says which environments, if any, were already replaced).
Start-up imports nothing heavy: every command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT = 0, 1, 2


def _project(args: argparse.Namespace) -> Any:
    from compiler.frontend.project import Project, UsageError

    project = Project.at(Path(args.project), Path(args.out) if args.out else None)
    if not project.env_dir.is_dir():
        raise UsageError(f"{args.project} is not an mlc project: it has no environments/ folder (mlc init DIR creates one)")
    from compiler.core.diagnostics import printable

    for rel in project.ignored():
        if rel not in _WARNED:
            _WARNED.add(rel)
            what = (
                "a folder (environments are not read from subfolders)" if rel.endswith("/") else "not an environment file (*.yaml, *.yml)"
            )
            print(f"warning: {printable(rel)} is ignored: {what}", file=sys.stderr)
    return project


_WARNED: set[str] = set()  # ignored files reported by this process


def _today(args: argparse.Namespace) -> date:
    from compiler.frontend.project import UsageError

    if not getattr(args, "today", None):
        return date.today()
    try:
        return date.fromisoformat(args.today)
    except ValueError:
        raise UsageError(f"--today must be a date YYYY-MM-DD, got {args.today!r}") from None


def _print_findings(findings: list[Any], fmt: str = "text", stream: Any = None, policies_dir: Path | None = None) -> None:
    from compiler.policy.engine import all_rules
    from compiler.policy.render import render

    text = render(findings, fmt, rules=all_rules(policies_dir) if fmt == "sarif" else None)
    if text:
        (stream or sys.stdout).write(text if text.endswith("\n") else text + "\n")


def cmd_validate(args: argparse.Namespace) -> int:
    """Every input check `mlc compile` makes (the same code: build.compile_one), nothing written."""
    from compiler.build import _names, run_many
    from compiler.core.diagnostics import InputError
    from compiler.pipeline import Mode

    project = _project(args)
    names = _names(project, args.envs or None)
    outcomes = run_many(project, names, _today(args), Mode.VALIDATE, getattr(args, "jobs", None))
    problems = sorted({d for o in outcomes for d in o.diagnostics})
    if problems:
        raise InputError(problems)
    concrete = [o.env for o in outcomes if o.cost is not None]
    print(f"{len(concrete)} environment(s) valid: {', '.join(concrete)}")
    return EXIT_OK


def _waiting(holders: list[int]) -> None:
    who = f"pid {', '.join(map(str, holders))}" if holders else "another process"
    print(f"mlc: waiting for another mlc run ({who}) to release out/ ...", file=sys.stderr)


def cmd_compile(args: argparse.Namespace) -> int:
    from compiler.build import compile_project

    project = _project(args)
    result = compile_project(
        project,
        args.envs or None,
        _today(args),
        check=args.check,
        use_cache=not args.no_cache,
        jobs=args.jobs,
        progress=_progress(),
        on_wait=_waiting,
    )
    if result.diagnostics:
        return _report_diagnostics(result.diagnostics, writes=not args.check)
    findings = [f for f in result.findings if f.severity != "info" or args.verbose]
    _print_findings(findings, stream=sys.stderr)
    out = project.relpath(project.out_dir)
    drift = 0
    for write in result.writes:
        where = f"{out}/{write.env}" if write.env else out
        changes = (("add", write.added), ("change", write.changed), ("remove", write.removed))
        for verb, paths in changes:
            drift += len(paths)
            if args.check or args.verbose:
                for rel in paths:
                    print(f"{'would ' + verb if args.check else verb.rstrip('e') + 'ed'} {where}/{rel}")
        if not args.check and not write.unchanged:
            if write.env:
                print(f"{where}: {len(write.added)} added, {len(write.changed)} changed, {len(write.removed)} removed")
            else:  # a file at the top of out/ (atlantis.yaml)
                print(f"{where}/{(write.added + write.changed)[0]}: {'added' if write.added else 'changed'}")
        for rel in write.foreign:
            print(f"warning: {out}/{write.env}/{rel} was not written by mlc; kept (delete it by hand if it is stale)", file=sys.stderr)
    for name in result.leftovers:
        drift += 1
        print(f"leftover {out}/{name}: a folder of an interrupted run (mlc compile removes it)")
    for name in result.kept:
        print(f"warning: {out}/{name} belongs to a process that still runs; kept", file=sys.stderr)
    for env in result.blocked:
        print(f"error: {env}: not written: error-level policy findings (see above)", file=sys.stderr)
    compiled = [o.env for o in result.outcomes if o.files and not o.abstract]
    summary = f"{len(compiled)} compiled, {len(result.skipped) - result.skipped_parents} unchanged (cached), {len(result.blocked)} blocked"
    print(summary if not args.check else f"{summary}; {drift} file(s) differ from {out}/", file=sys.stderr)
    if result.blocked or (args.check and drift):
        return EXIT_FINDINGS
    return EXIT_OK


def _progress() -> Callable[[int, int], None] | None:
    """A one-line progress display on a terminal, for runs of more than a few environments."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        if total >= 20:
            sys.stderr.write(f"\r  compiling {done}/{total} environments" + ("\n" if done == total else ""))
            sys.stderr.flush()

    return show


def cmd_check(args: argparse.Namespace) -> int:
    from compiler.build import check_policies
    from compiler.policy.render import exit_code

    result = check_policies(_project(args), args.envs or None, _today(args), jobs=args.jobs, use_cache=not args.no_cache)
    if result.diagnostics:
        return _report_diagnostics(result.diagnostics)
    findings = result.findings
    if args.write_baseline:
        from compiler.policy import baseline

        Path(args.write_baseline).write_bytes(baseline.render(findings))
        active = sum(1 for f in findings if not f.waived)
        print(f"wrote {args.write_baseline}: {active} finding{'s' if active != 1 else ''}", file=sys.stderr)
        return EXIT_OK
    known = 0
    if args.baseline:
        from compiler.policy import baseline

        fresh = baseline.new_findings(findings, baseline.load(Path(args.baseline)))
        known, findings = len(findings) - len(fresh), fresh
        print(f"{known} finding{'s' if known != 1 else ''} in the baseline {args.baseline} not shown", file=sys.stderr)
    text_out = sys.stdout
    if args.output:
        text_out = _open_report(args.output)
    try:
        project = _project(args)
        _print_findings(findings, args.format, text_out, project.policies_dir if project.policies_dir.is_dir() else None)
    finally:
        if args.output:
            text_out.close()
    if args.format != "text" or args.output or not findings:  # the text report ends with its own summary
        _check_summary(result, findings, sys.stdout if args.format == "text" and not args.output else sys.stderr)
    return exit_code(findings, args.fail_on)


def _check_summary(result: Any, findings: list[Any], stream: Any) -> None:
    """One line, also when nothing was found: how many environments, findings per severity."""
    checked = sum(1 for o in result.outcomes if not o.abstract)
    active = [f for f in findings if not f.waived]
    counts = {level: sum(1 for f in active if f.severity == level) for level in ("error", "warning", "info")}
    waived = len(findings) - len(active)
    found = ", ".join(f"{n} {level}{'s' if n != 1 and level != 'info' else ''}" for level, n in counts.items() if n)
    line = f"{checked} environment{'s' if checked != 1 else ''} checked: {found or 'no findings'}"
    print(line + (f" ({waived} waived)" if waived else ""), file=stream)


def _open_report(name: str) -> Any:
    """--output FILE, opened without following a symbolic link (like out/, never written
    through one) and only when it is a regular file or does not exist yet."""
    import errno
    import os
    import stat

    from compiler.frontend.project import UsageError

    try:
        info = os.lstat(name)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise UsageError(f"--output {name}: {exc.strerror}") from None
    if info is not None and stat.S_ISLNK(info.st_mode):
        raise UsageError(f"--output {name} is a symbolic link; mlc does not write through links (remove it, or name the real file)")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise UsageError(f"--output {name} is not a regular file")
    try:
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0), 0o644)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise UsageError(f"--output {name} is a symbolic link; mlc does not write through links") from None
        raise UsageError(f"--output {name}: {exc.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UsageError(f"--output {name} is not a regular file")
    return os.fdopen(fd, "w", encoding="utf-8")


def _single_env(args: argparse.Namespace) -> Any:
    (env,) = _project(args).load_environments([args.env])
    return env


def cmd_graph(args: argparse.Namespace) -> int:
    from compiler.analysis import graph_render
    from compiler.analysis.graph import build_graph

    graph = build_graph(_single_env(args))
    sys.stdout.write({"mermaid": graph_render.to_mermaid, "dot": graph_render.to_dot, "json": graph_render.to_json}[args.format](graph))
    return EXIT_OK


def cmd_cost(args: argparse.Namespace) -> int:
    from compiler.pipeline import plan_environment
    from compiler.plan import cost_render
    from compiler.plan.cost import money

    env = _single_env(args)
    head = plan_environment(env).cost
    assert head is not None  # plan_environment always estimates
    if not args.base:
        if args.format == "json":
            import json

            print(json.dumps(head.to_dict(), indent=2))
        else:
            print((cost_render.render_markdown if args.format == "markdown" else cost_render.render_table)(head), end="")
        return EXIT_OK
    base = _base_estimates(args, [args.env]).get(args.env)
    own_limit = (env.spec.get("budget") or {}).get("max_increase_usd")
    gates = _cost_gates(args, [(args.env, None if base is None else money(base.total_usd), money(head.total_usd), own_limit)])
    if args.format == "json":
        import json

        print(json.dumps(cost_render.delta_dict({args.env: base}, {args.env: head}), indent=2))
    else:
        render = cost_render.render_delta_markdown if args.format == "markdown" else cost_render.render_delta_table
        print(render({args.env: base}, {args.env: head}), end="")
    return EXIT_FINDINGS if gates else EXIT_OK


def _base_estimates(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """Cost at --base of each named environment; only its chain and the schema are read
    from the revision (compiler.output.gitbase.BaseTree)."""
    from compiler.core.diagnostics import InputError
    from compiler.frontend.project import Project, UsageError
    from compiler.output.gitbase import BaseTree
    from compiler.pipeline import plan_environment

    tree = BaseTree(Path(args.project), args.base)
    with tree.materialise(names, policies=False) as checkout:
        base = Project.at(checkout.project_root)
        out: dict[str, Any] = {}
        for name in names:
            try:
                (env,) = base.load_environments([name])
                out[name] = plan_environment(env).cost
            except (InputError, UsageError):
                out[name] = None  # absent or invalid at the base: shown as new
        return out


def cmd_diff(args: argparse.Namespace) -> int:
    from compiler.output.diffing import diff_against_base, render

    diffs = diff_against_base(_project(args), args.base, _today(args))
    sys.stdout.write(render(diffs, args.base, args.format))
    invalid = [d.env for d in diffs if d.status == "invalid"]
    blocked = [d.env for d in diffs if d.status == "blocked"]
    if invalid:
        print(f"mlc: error: invalid input in {', '.join(invalid)} (run `mlc validate`)", file=sys.stderr)
        return EXIT_INPUT
    if blocked:
        print(f"error: error-level policy findings in {', '.join(blocked)}: they would not be written", file=sys.stderr)
    gates = _cost_gates(args, [(d.env, d.cost_before, d.cost_after, d.max_increase_usd) for d in diffs])
    return EXIT_FINDINGS if blocked or gates else EXIT_OK


def _cost_gates(args: argparse.Namespace, rows: list[tuple[str, Any, Any, float | None]]) -> list[str]:
    """Print and return the environments whose monthly increase is above the allowed one."""
    from compiler.plan.cost_render import increase_over_limit

    failed = []
    for env, base, head, own in rows:
        message = increase_over_limit(env, base, head, args.max_increase_usd if args.max_increase_usd is not None else own)
        if message:
            print(f"error: cost gate: {message}", file=sys.stderr)
            failed.append(env)
    return failed


def cmd_explain(args: argparse.Namespace) -> int:
    """A policy rule (MLC-SEC-001) or an input error code (MLC-E020); --list lists both."""
    from compiler.core.diagnostics import did_you_mean
    from compiler.core.errors import CATALOGUE, explain_error
    from compiler.frontend.project import Project, UsageError
    from compiler.policy.engine import all_rules, explain

    project = Project.at(Path(args.project))  # works outside a project too: built-in rules
    policies = project.policies_dir if project.policies_dir.is_dir() else None
    if args.list:
        if args.rule:
            raise UsageError("give either RULE_ID or --list, not both")
        lines = [f"{rule.id}  {rule.severity:<7}  {rule.title}" for rule in sorted(all_rules(policies), key=lambda r: r.id)]
        lines += [f"{entry.code}  {'input':<7}  {entry.title}" for entry in CATALOGUE.values()]
        print("\n".join(lines))
        return EXIT_OK
    if not args.rule:
        raise UsageError("explain needs a RULE_ID (e.g. MLC-SEC-002) or an error code (e.g. MLC-E020), or --list")
    code = args.rule.strip().upper()
    if code.startswith("MLC-E"):
        if code not in CATALOGUE:
            raise UsageError(f'unknown error code "{args.rule}"{did_you_mean(code, set(CATALOGUE))}; `mlc explain --list` lists them')
        print(explain_error(code), end="")
        return EXIT_OK
    print(explain(args.rule, policies), end="")
    return EXIT_OK


def cmd_trace(args: argparse.Namespace) -> int:
    from compiler.analysis.trace import trace
    from compiler.frontend.project import UsageError

    if not args.path.strip() or (not args.path.startswith("/") and "#" not in args.path and any(not part for part in args.path.split("."))):
        raise UsageError(f"trace needs a dotted path like components.ranker.replicas.max, got {args.path!r}")
    env = _single_env(args)
    if "#" in args.path:  # an output value: kubernetes/<file>.yaml#/json/pointer
        from compiler.pipeline import emit_environment, override_environment, plan_environment
        from compiler.targets.overrides import trace_output

        compiled = plan_environment(env)
        print(trace_output(env, override_environment(compiled, Path(args.project)), emit_environment(compiled, []), args.path), end="")
        return EXIT_OK
    print(trace(env, args.path), end="")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from compiler.scaffold import init_project

    for line in init_project(Path(args.dir), args.mlc_source, args.mlc_rev):
        print(line)
    return EXIT_OK


def _report_diagnostics(diagnostics: list[Any], writes: bool = False) -> int:
    """Print every problem; `writes`: the command writes out/ (which was then left as it was)."""
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)
    count = len(diagnostics)
    print(f"{count} problem{'s' if count != 1 else ''} found" + ("; nothing was written" if writes else ""), file=sys.stderr)
    return EXIT_INPUT


def build_parser() -> argparse.ArgumentParser:
    from compiler import __version__

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--project", default=".", metavar="DIR", help="project folder holding environments/, schemas/, policies/ (default: .)"
    )
    common.add_argument("--out", default=None, metavar="DIR", help="output folder (default: <project>/out)")
    common.add_argument("--today", default=None, metavar="YYYY-MM-DD", help=argparse.SUPPRESS)
    parser = argparse.ArgumentParser(
        prog="mlc", description="Compile ML infrastructure environments (YAML) into Kubernetes, Terraform and Argo."
    )
    parser.add_argument("--version", action="version", version=f"mlc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "validate": ("load, schema-check and resolve environments", cmd_validate),
        "compile": ("compile environments into out/", cmd_compile),
        "check": ("run policies only", cmd_check),
        "graph": ("print an environment's dependency graph", cmd_graph),
        "cost": ("monthly cost estimate per component", cmd_cost),
        "diff": ("what a change does to out/, against a Git revision", cmd_diff),
        "explain": ("rationale and fix of a policy rule or an error code", cmd_explain),
        "trace": ("where a resolved value was set", cmd_trace),
        "init": ("scaffold a new GitOps repository", cmd_init),
    }
    parsers = {name: sub.add_parser(name, help=text, description=text, parents=[common]) for name, (text, _) in commands.items()}
    for name, (_, func) in commands.items():
        parsers[name].set_defaults(func=func)
    for name in ("validate", "compile", "check"):
        parsers[name].add_argument("envs", nargs="*", metavar="ENV")
    for name in ("compile", "check"):
        parsers[name].add_argument("--jobs", type=_positive, default=None, help="worker processes, at least 1 (default: all cores)")
    parsers["compile"].add_argument("--check", action="store_true", help="exit 1 if out/ differs from what would be written")
    parsers["compile"].add_argument("--no-cache", action="store_true", help="recompile every environment")
    parsers["check"].add_argument("--no-cache", action="store_true", help="run the policies of every environment again")
    parsers["compile"].add_argument("-v", "--verbose", action="store_true", help="also print info-level findings and every file written")
    parsers["check"].add_argument("--format", choices=("text", "json", "sarif", "github"), default="text")
    parsers["check"].add_argument("--fail-on", choices=("error", "warning"), default="error")
    parsers["check"].add_argument("--output", metavar="FILE", help="write the report to FILE")
    baseline = parsers["check"].add_mutually_exclusive_group()
    baseline.add_argument("--baseline", metavar="FILE", help="report and fail only on findings not in FILE")
    baseline.add_argument("--write-baseline", metavar="FILE", help="record the current findings in FILE and exit 0")
    for name in ("graph", "cost", "trace"):
        parsers[name].add_argument("env", metavar="ENV")
    parsers["graph"].add_argument("--format", choices=("mermaid", "dot", "json"), default="mermaid")
    parsers["cost"].add_argument("--format", choices=("table", "json", "markdown"), default="table")
    parsers["cost"].add_argument("--base", metavar="GIT_REF")
    parsers["diff"].add_argument("--base", metavar="GIT_REF", default="HEAD")
    parsers["diff"].add_argument("--format", choices=("text", "markdown"), default="text")
    for name in ("cost", "diff"):
        parsers[name].add_argument(
            "--max-increase-usd",
            type=float,
            metavar="USD",
            help="exit 1 when an environment's monthly cost rises by more than USD against --base (default: budget.max_increase_usd)",
        )
    parsers["explain"].add_argument("rule", metavar="RULE_ID", nargs="?", help="a rule id (MLC-SEC-002) or an error code (MLC-E020)")
    parsers["explain"].add_argument("--list", action="store_true", help="list every rule and error code with its title")
    parsers["trace"].add_argument("path", metavar="PATH", help="dotted path, e.g. components.ranker.replicas.max")
    parsers["init"].add_argument("dir", metavar="DIR")
    parsers["init"].add_argument(
        "--mlc-source", metavar="URL", help="Git repository the workflow installs mlc from (default: where this mlc came from)"
    )
    parsers["init"].add_argument("--mlc-rev", metavar="REV", help="the pinned mlc revision (tag or commit; default: this mlc's)")
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _left_as_it_was(written: list[str], out: str = "out/") -> str:
    """What a failed or interrupted write left behind, truthfully."""
    if not written:
        return f"{out} was left as it was"
    names = ", ".join(written)
    return f"already replaced: {names} (each complete and new); every other environment in {out} was left as it was"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_INPUT
    from compiler.core.diagnostics import InputError
    from compiler.frontend.project import UsageError

    original = sys.stdout
    sys.stdout = _PipeSafe(original)  # `mlc cost prod | head -1`: a closed pipe is not an error
    try:
        return int(args.func(args))
    except InputError as exc:
        return _report_diagnostics(exc.diagnostics, writes=args.command == "compile" and not getattr(args, "check", False))
    except UsageError as exc:
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(exc))  # one line, always
        print(f"mlc: error: {message}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:
        print(f"mlc: interrupted; {_left_as_it_was(getattr(exc, 'written', []))}", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        from compiler.build import WorkerDied
        from compiler.output.lock import LockBusy
        from compiler.output.writer import WriteError

        if isinstance(exc, WriteError):
            print(f"mlc: error: cannot write output: {exc}; {_left_as_it_was(exc.written)}", file=sys.stderr)
            return EXIT_INPUT
        if isinstance(exc, (LockBusy, WorkerDied)):
            tail = "" if isinstance(exc, LockBusy) else "; out/ was left as it was"
            print(f"mlc: error: {exc}{tail}", file=sys.stderr)
            return EXIT_INPUT
        if isinstance(exc, OSError):
            print(f"mlc: error: {exc.strerror or exc}: {exc.filename or ''}", file=sys.stderr)
            return EXIT_INPUT
        import os

        if os.environ.get("MLC_DEBUG"):
            raise
        print(f"mlc: internal error: {type(exc).__name__}: {exc} (set MLC_DEBUG=1 for a traceback; please report it)", file=sys.stderr)
        return 70
    finally:
        try:
            sys.stdout.flush()
        finally:
            sys.stdout = original


class _PipeSafe:
    """stdout whose reader may go away (`| head -1`): the standard Unix behaviour is to stop
    writing quietly. The first EPIPE points file descriptor 1 at /dev/null (so the interpreter's
    own flush at exit cannot fail either) and later writes are dropped; the command runs to
    its end and keeps its exit code."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not self.broken:
            try:
                return int(self._stream.write(text))
            except BrokenPipeError:
                self._drop()
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._drop()

    def _drop(self) -> None:
        import os

        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):  # not a real file (tests capture it)
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
