"""The Terraform emitter base: which files are written, and in which order; each provider
(terraform/aws.py, terraform/gcp.py) fills in the resources.

Files of out/<env>/terraform/, each only when it has something to hold:
  terraform.tf.json, main.tf.json        always (main last: it declares what others used)
  logging.tf.json                        when there is a bucket-backed store
  <per component>                        from the provider's {kind: handler} table
  <extra files>                          provider-specific environment-level files
  cluster.tf.json                        when cluster.node_pools is not empty
  budget.tf.json                         when a budget is set
  audit.tf.json                          when a bucket holds confidential or pii data
  variables.tf.json                      the input variables something used
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.model.kinds.dispatch import DispatchTable
from compiler.plan.compiled import Compiled
from compiler.targets.artifact import Artifact
from compiler.targets.terraform.common import TerraformContext, TfFile

C = TypeVar("C", bound=TerraformContext)
ComponentFile = Callable[[Any, Component], TfFile]


class TerraformEmitter(Generic[C]):
    """Subclasses provide `context` and the file builders; `emit` decides the layout."""

    components: ClassVar[DispatchTable[ComponentFile]]  # kind -> the component's own file

    def context(self, compiled: Compiled) -> C:
        raise NotImplementedError

    def settings_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def main_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def access_log_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def extra_files(self, ctx: C) -> list[TfFile]:
        return []

    def monitor_file(self, ctx: C, component: Component) -> TfFile:
        """Identity of a monitor workload (drift detector, data-quality check): read-only, one store."""
        raise NotImplementedError

    def cluster_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def budget_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def audit_file(self, ctx: C) -> TfFile:
        raise NotImplementedError

    def variables_file(self, ctx: C) -> TfFile:
        f = TfFile("terraform/variables.tf.json")
        for name in sorted(ctx.used_variables):
            f.variable(name, dict(ctx.variables[name]))
        return f

    def emit(self, compiled: Compiled) -> list[Artifact]:
        ctx = self.context(compiled)
        env = compiled.env
        files = [self.settings_file(ctx)]
        if any(True for _ in env.with_trait(Trait.BUCKET)):
            files.append(self.access_log_file(ctx))
        for component in env.components.values():
            build = self.components.handler(component.type)
            if build is not None:
                files.append(build(ctx, component))
        for monitor in compiled.monitors:
            files.append(self.monitor_file(ctx, monitor.component(env)))
        files += self.extra_files(ctx)
        if env.spec["cluster"]["node_pools"]:
            files.append(self.cluster_file(ctx))
        if env.spec.get("budget"):
            files.append(self.budget_file(ctx))
        if ctx.sensitive_buckets():
            files.append(self.audit_file(ctx))
        files.append(self.main_file(ctx))  # last: it declares the data sources the others used
        if ctx.used_variables:
            files.append(self.variables_file(ctx))
        return sorted((f.artifact() for f in files), key=lambda a: a.path)


def emit_terraform(compiled: Compiled) -> list[Artifact]:
    """terraform/ of an environment, by its provider's emitter (NotSupportedError without one)."""
    from compiler.providers.registry import provider_of

    return provider_of(compiled.env).terraform().emit(compiled)
