"""The compiler's stages, composed in one visible place.

    load -> validate -> resolve        (project.Project.load_environments)
    graph                              (graph.build_graph)
    plan: grants, cost                 (plan.derive_iam_grants, cost.estimate)
    check: policies                    (policy.engine.run_policies)
    emit: kubernetes, terraform, argo, argocd   (emit.*)
    write: serialise, atomic swap      (writer)

Each function here is a plain function from data to data; the CLI maps results to exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.analysis.graph import DependencyGraph, build_graph
from compiler.core.diagnostics import Diagnostic, InputError
from compiler.model.environment import Environment
from compiler.plan.compiled import Compiled, derive_iam_grants, plan_document
from compiler.targets.artifact import Artifact


def validate_environment(env: Environment) -> DependencyGraph:
    """Every input check beyond the schema: references and cycles (graph), cross-field
    rules, Argo template syntax. Returns the graph; raises InputError with all problems.
    (Waivers are checked by the policy engine, which knows the project's KCL rules.)"""
    from compiler.analysis.semantics import lifecycle_problems
    from compiler.analysis.template_syntax import argo_template_violations
    from compiler.plan.monitors import monitor_problems

    problems: list[Diagnostic] = []
    graph = None
    try:
        graph = build_graph(env)
    except InputError as exc:
        problems += exc.diagnostics
    problems += lifecycle_problems(env)
    problems += argo_template_violations(env)
    if graph is not None:
        problems += monitor_problems(env, graph)
    if problems or graph is None:
        raise InputError(problems)
    return graph


def plan_environment(env: Environment) -> Compiled:
    """Validated graph, grants and cost of one resolved environment (InputError on any
    input problem, unknown prices included)."""
    from compiler.plan.cost import CostErrors, estimate, load_pricing
    from compiler.plan.monitors import derive_monitor_workloads

    graph = validate_environment(env)
    try:
        cost = estimate(env.spec, load_pricing())
    except CostErrors as errors:
        raise InputError([Diagnostic(env.locate(e.pointer), "MLC-E060", e.message) for e in errors.errors]) from None
    monitors, _ = derive_monitor_workloads(env, graph)
    return Compiled(env=env, graph=graph, grants=derive_iam_grants(graph, monitors), cost=cost, monitors=monitors)


def emit_environment(compiled: Compiled, findings: list[Any]) -> list[Artifact]:
    """Every artifact of one environment, plan.json included, in a stable order."""
    from compiler.targets.argo.emit import emit_argo
    from compiler.targets.argocd.emit import emit_argocd
    from compiler.targets.kubernetes.emit import emit_kubernetes
    from compiler.targets.kubernetes.promtests import emit_rule_tests

    artifacts: list[Artifact] = []
    kubernetes = emit_kubernetes(compiled)
    artifacts += kubernetes
    artifacts += emit_rule_tests(compiled)
    if compiled.env.provider == "aws":
        from compiler.targets.terraform.aws import emit_terraform_aws

        artifacts += emit_terraform_aws(compiled)
    else:
        from compiler.targets.terraform.gcp import emit_terraform_gcp

        artifacts += emit_terraform_gcp(compiled)
    argo = emit_argo(compiled)
    artifacts += argo
    artifacts += emit_argocd(compiled, kubernetes + argo)
    artifacts.append(Artifact("plan.json", plan_document(compiled, findings), "json"))
    paths = [a.path for a in artifacts]
    duplicates = sorted({p for p in paths if paths.count(p) > 1})
    if duplicates:
        raise AssertionError(f"two artifacts share a path: {duplicates}")  # an emitter bug, not input
    return sorted(artifacts, key=lambda a: a.path)


@dataclass(frozen=True)
class EnvironmentResult:
    compiled: Compiled
    findings: list[Any]
    artifacts: list[Artifact] | None  # None when error-level findings block the environment

    @property
    def blocked(self) -> bool:
        return self.artifacts is None
