"""The compiler's stages, composed in one visible place.

    load -> validate -> resolve        (project.Project.load_environments)
    graph, cross-field checks          (validate_environment)
    plan: grants, cost, facts, advice  (plan_environment -> plan.compiled.plan)
    check: policies                    (policy.engine.run_policies)
    emit: kubernetes, terraform, argo, argocd, plan.json   (emit_environment)
    write: serialise, atomic swap      (output.writer, driven by build.py)

`compile_environment` runs validate, plan, policies and emit for one resolved environment
and returns an `EnvironmentResult`; build.py and the CLI call it (or one of its stages).
Every input problem, in any stage, is an InputError.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum
from pathlib import Path

from compiler.analysis.graph import DependencyGraph, build_graph
from compiler.core.diagnostics import Diagnostic, InputError
from compiler.model.environment import Environment
from compiler.plan.compiled import Compiled, plan, plan_document
from compiler.policy.findings import Finding
from compiler.targets.artifact import Artifact
from compiler.targets.overrides import OverrideResult

UNSUPPORTED = "MLC-E026"  # the environment's cloud provider lacks what a target needs


class Mode(Enum):
    """What `build.compile_one` does with an environment after its policies ran."""

    WRITE = "write"  # stage the new tree for the atomic swap
    CHECK = "check"  # compare with out/ (mlc compile --check)
    MEMORY = "memory"  # keep the bytes (fuzzing, tests)
    POLICY = "policy"  # findings only: nothing is emitted (mlc check)
    VALIDATE = "validate"  # every input check of a compile, emission included, even when findings block it


def validate_environment(env: Environment) -> DependencyGraph:
    """Every input check beyond the schema: references and cycles (graph), cross-field
    rules, Argo template syntax. Returns the graph; raises InputError with all problems.
    (Waivers are checked by the policy engine, which knows the project's KCL rules.)"""
    from compiler.analysis.lifecycle import confidential_pool_problems, tuning_capacity_problems, tuning_problems
    from compiler.analysis.semantics import (
        canary_problems,
        env_reference_problems,
        feature_store_problems,
        lifecycle_problems,
        scale_to_zero_problems,
        stream_problems,
    )
    from compiler.analysis.template_syntax import argo_template_violations
    from compiler.plan.monitors import monitor_problems

    problems: list[Diagnostic] = []
    graph = None
    try:
        graph = build_graph(env)
    except InputError as exc:
        problems += exc.diagnostics
    problems += lifecycle_problems(env)
    problems += env_reference_problems(env)
    problems += scale_to_zero_problems(env)
    problems += canary_problems(env)
    problems += stream_problems(env)
    problems += feature_store_problems(env)
    problems += argo_template_violations(env)
    problems += confidential_pool_problems(env)
    if graph is not None:
        problems += monitor_problems(env, graph)
        problems += tuning_problems(env)
        problems += tuning_capacity_problems(env)
    if problems or graph is None:
        raise InputError(problems)
    return graph


def plan_environment(env: Environment) -> Compiled:
    """Validated graph, grants, cost, instance facts and advice of one resolved environment
    (InputError on any input problem, unknown prices included)."""
    from compiler.plan.compiled import PlanErrors
    from compiler.providers import NotSupportedError

    graph = validate_environment(env)
    try:
        return plan(env, graph)
    except PlanErrors as errors:
        raise InputError([Diagnostic(env.locate(p.pointer), p.code, p.message) for p in errors.problems]) from None
    except NotSupportedError as exc:
        raise unsupported(env, exc) from None


def unsupported(env: Environment, exc: Exception) -> InputError:
    """A provider a target cannot handle, reported at cloud.provider."""
    return InputError([Diagnostic(env.locate("/cloud/provider"), UNSUPPORTED, str(exc))])


def emit_environment(compiled: Compiled, findings: list[Finding]) -> list[Artifact]:
    """Every artifact of one environment, plan.json included, in a stable order."""
    from compiler.providers import NotSupportedError
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.argocd.emit import emit_argocd
    from compiler.targets.kubernetes.emit import emit_kubernetes
    from compiler.targets.kubernetes.promtests import emit_rule_tests
    from compiler.targets.platform.needs import NEEDS_FILE, platform_needs
    from compiler.targets.terraform.emitter import emit_terraform

    try:
        kubernetes = emit_kubernetes(compiled)
        terraform = emit_terraform(compiled)
    except NotSupportedError as exc:
        raise unsupported(compiled.env, exc) from None
    argo = emit_argo(compiled)
    artifacts = kubernetes + emit_rule_tests(compiled) + terraform + argo + emit_argocd(compiled, kubernetes + argo)
    artifacts.append(Artifact(NEEDS_FILE, platform_needs(compiled, kubernetes + argo), "json"))
    artifacts.append(Artifact("plan.json", plan_document(compiled, findings), "json"))
    paths = [a.path for a in artifacts]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        raise AssertionError(f"two artifacts share a path: {duplicates}")  # an emitter bug, not input
    return sorted(artifacts, key=lambda a: a.path)


def override_environment(compiled: Compiled, project_root: Path, findings: list[Finding] | None = None) -> OverrideResult | None:
    """The environment's artifacts with its `overrides:` applied (None when it has none).

    Policies need the patched objects, so an environment with overrides is emitted before
    its policies run (and again after, for plan.json's findings)."""
    if not compiled.env.spec.get("overrides"):
        return None
    from compiler.targets.overrides import apply_overrides

    return apply_overrides(compiled.env, emit_environment(compiled, findings or []), project_root)


@dataclass(frozen=True)
class EnvironmentResult:
    compiled: Compiled
    findings: list[Finding]
    blocked: bool  # an error-level finding: nothing may be written
    artifacts: list[Artifact] | None  # None when blocked or when nothing was to be emitted


def compile_environment(
    env: Environment, policies: Path | None, today: date, mode: Mode = Mode.WRITE, project_root: Path | None = None
) -> EnvironmentResult:
    """Validate, plan, check and (unless `mode` is POLICY or a finding blocks) emit one
    resolved environment. Raises InputError for any input problem of any stage.

    `overrides:` are applied to the emitted artifacts before the policies run, so the rules
    on the patched output see exactly what kustomize and Terraform will apply; extra
    manifests are read relative to `project_root`."""
    from compiler.policy.engine import run_policies

    compiled = plan_environment(env)
    root = project_root if project_root is not None else Path(".")
    overrides = override_environment(compiled, root)
    findings = run_policies(compiled, policies, today, overrides)
    blocked = any(f.blocking for f in findings)
    artifacts = None
    if (not blocked or mode is Mode.VALIDATE) and mode is not Mode.POLICY:
        artifacts = emit_environment(compiled, findings)
        if overrides is not None:
            patched = override_environment(compiled, root, findings)
            assert patched is not None
            artifacts = patched.artifacts
        from compiler.targets.object_size import oversized

        too_big = oversized(env, artifacts)
        if too_big:
            raise InputError(too_big)
    return EnvironmentResult(compiled, findings, blocked, artifacts)
