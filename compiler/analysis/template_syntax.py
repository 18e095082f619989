"""What of an environment's spec ends up in out/<env>/argo/, and the check that keeps it inert.

Argo Workflows substitutes `{{...}}` (and evaluates `{{=...}}` expressions) in every string of
a template, the manifest of a resource template included, and it has no escape for `{{`.
A spec string that reaches argo/ and contains `{{` would therefore be evaluated by Argo
(reading workflow parameters, other steps' outputs, or arbitrary expressions) instead of
being passed through. mlc rejects such strings at their YAML line (MLC-E051) rather than
rewriting them: a silent rewrite would change what the user's program receives.

This module imports nothing heavy so the validation stage can call it cheaply.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.core.diagnostics import Diagnostic
from compiler.frontend.loader import pointer_join
from compiler.model.environment import Component, Environment
from compiler.model.kinds import Category

TEMPLATE_OPEN = "{{"
CODE = "MLC-E051"


def scheduled_runs(env: Environment) -> list[Component]:
    """Workloads mlc runs from a standalone CronWorkflow (not via a pipeline).

    A scheduled batch_inference, and a scheduled distributed training_job (PyTorchJob has no
    cron form; the Kubernetes emitter turns scheduled single-node training into a CronJob and
    scheduled Spark into a ScheduledSparkApplication).
    """
    return [c for c in env.components.values() if c.get("schedule") and c.kind.scheduled_by_argo(c)]


def argo_components(env: Environment) -> list[Component]:
    """Every component whose strings end up in argo/, sorted by name: pipelines, their steps
    and on_failure handlers, and the workloads of `scheduled_runs`."""
    names: set[str] = set()
    for pipeline in env.of_category(Category.ORCHESTRATION):
        names.add(pipeline.name)
        for ref in pipeline.kind.references:
            if ref.edge in ("step", "on_failure"):  # what the pipeline runs
                names.update(name for name, _ in ref.targets(pipeline))
    names.update(c.name for c in scheduled_runs(env))
    return [env.components[n] for n in sorted(names) if n in env.components]


def _strings(value: Any, pointer: str) -> Iterator[tuple[str, str, bool]]:
    """(pointer, text, is_key) of every string (mapping keys included) under `value`."""
    if isinstance(value, str):
        yield pointer, value, False
    elif isinstance(value, dict):
        for key, item in value.items():
            child = pointer_join(pointer, key)
            if isinstance(key, str):
                yield child, key, True
            yield from _strings(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, pointer_join(pointer, index))


def argo_template_violations(env: Environment) -> list[Diagnostic]:
    """MLC-E051 at the YAML line of every spec string that would reach argo/ containing `{{`.

    The message names the field, never the value (it may be a credential).
    """
    diagnostics = []
    for component in argo_components(env):
        for pointer, text, is_key in _strings(component.spec, component.pointer):
            if TEMPLATE_OPEN not in text:
                continue
            field = pointer[len("/components/") :].replace("/", ".")
            what = "key" if is_key else "value"
            diagnostics.append(
                Diagnostic(
                    env.locate(pointer, key=is_key),
                    CODE,
                    f'{field}: a {what} containing "{{{{" is not allowed in a component that runs through '
                    "Argo Workflows, which would evaluate it as a template expression (Argo has no escape "
                    'for "{{"); remove the braces, or pass the value as a secret env reference',
                )
            )
    return sorted(diagnostics)
