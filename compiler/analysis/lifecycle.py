"""Cross-field checks of the lifecycle kinds (tuning, confidential node pools); located errors.

MLC-E057  a tuning job's parallel trials need more GPUs at once than the node pools they can
          run on hold at their max size (parallel_trials x trial nodes x GPUs per node)
MLC-E058  a tuning job that cannot be planned: no trial run time, an empty range, more parallel
          than total trials, a trial Katib cannot run
MLC-E059  `confidential: true` on a node pool whose instance type has no confidential VMs
"""

from __future__ import annotations

from typing import Any

from compiler.core.diagnostics import Diagnostic
from compiler.model.environment import Environment
from compiler.model.kinds import Trait

CAPACITY, TUNING, CONFIDENTIAL = "MLC-E057", "MLC-E058", "MLC-E059"


def _trials(env: Environment) -> list[tuple[Any, Any]]:
    """(tuning job, its trial training job) for every component that runs as another's trial."""
    out = []
    for component in env.components.values():
        trial = component.kind.runs_as(component)
        if trial is not None and trial in env.components and env.components[trial].has(Trait.TRAINS_MODELS):
            out.append((component, env.components[trial]))
    return out


def tuning_problems(env: Environment) -> list[Diagnostic]:
    problems = []
    for tuning, trial in _trials(env):
        spec, at = tuning.spec, tuning.pointer
        if not spec.get("hours_per_trial") and not trial.get("max_runtime_hours"):
            problems.append(
                Diagnostic(
                    env.locate(f"{at}/trial"),
                    TUNING,
                    f'set hours_per_trial here or max_runtime_hours on "{trial.name}": a trial needs a run-time bound '
                    "(its deadline, and what the tuning job's cost is computed from)",
                )
            )
        if trial.spec["framework"] != "pytorch":
            problems.append(
                Diagnostic(
                    env.locate(f"{at}/trial"),
                    TUNING,
                    f'"{trial.name}" runs on {trial.spec["framework"]}; Katib trials run as a Job or PyTorchJob: '
                    "use a pytorch training job",
                )
            )
        if int(spec["parallel_trials"]) > int(spec["max_trials"]):
            problems.append(
                Diagnostic(
                    env.locate(f"{at}/parallel_trials"),
                    TUNING,
                    f"parallel_trials ({spec['parallel_trials']}) exceeds max_trials ({spec['max_trials']})",
                )
            )
        for name, param in sorted(spec["parameters"].items()):
            if "min" not in param:
                continue
            low, high = param["min"], param["max"]
            if low >= high:
                problems.append(
                    Diagnostic(env.locate(f"{at}/parameters/{name}/max"), TUNING, f"{name}: max ({high}) must exceed min ({low})")
                )
            elif param.get("scale") == "log" and low <= 0:
                problems.append(
                    Diagnostic(env.locate(f"{at}/parameters/{name}/min"), TUNING, f"{name}: a log scale needs min > 0 (got {low})")
                )
            elif param.get("type") == "int" and not (float(low).is_integer() and float(high).is_integer()):
                problems.append(
                    Diagnostic(env.locate(f"{at}/parameters/{name}"), TUNING, f"{name}: an int parameter needs integer min and max")
                )
    return problems


def _pool_facts(env: Environment) -> dict[str, tuple[int, int, str | None]]:
    """pool -> (max nodes, GPUs per node, GPU model) from the instance catalogue (unknown: 0 GPUs)."""
    from compiler.providers.registry import provider_of

    provider = provider_of(env)
    facts = {}
    for name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        instance = provider.instance(str(pool["instance_type"]))
        gpus, model = (instance.gpus, instance.gpu_model) if instance is not None else (0, None)
        facts[name] = (int(pool["max"]), int(gpus or 0), model)
    return facts


def tuning_capacity_problems(env: Environment) -> list[Diagnostic]:
    """parallel_trials trials run at once, each on the trial's `nodes` pods of `gpus.count` GPUs:
    the pools the trial may use (its node_pool, else every pool with enough GPUs of its model)
    must hold that many pods at their max size. Katib would otherwise leave trials Pending
    while their deadline runs, and the ResourceQuota (sum of the pools' GPUs) would refuse them."""
    from compiler.plan.pricing import load_pricing

    problems: list[Diagnostic] = []
    trials = [(t, trial) for t, trial in _trials(env) if trial.get("gpus")]
    if not trials:
        return problems
    facts = _pool_facts(env)
    models = load_pricing().gpu_models
    for tuning, trial in trials:
        gpus = trial.spec["gpus"]
        per_pod, wanted_models = int(gpus["count"]), set(models.get(str(gpus["type"]), ()))
        if trial.get("node_pool"):
            pools = [trial.get("node_pool")] if trial.get("node_pool") in facts else []
        else:
            pools = [p for p, (_, n, model) in facts.items() if model in wanted_models and n >= per_pod]
        if not pools:
            continue  # unknown pool or GPU model: reported by the graph / cost stages
        pods_needed = int(tuning.spec["parallel_trials"]) * int(trial.spec["nodes"])
        held = sum(facts[p][0] * (facts[p][1] // per_pod) for p in pools)
        if pods_needed > held:
            where = ", ".join(f"{p} (max {facts[p][0]} x {facts[p][1]} GPU)" for p in pools)
            problems.append(
                Diagnostic(
                    env.locate(f"{tuning.pointer}/parallel_trials"),
                    CAPACITY,
                    f'parallel_trials {tuning.spec["parallel_trials"]} x {trial.spec["nodes"]} node(s) of "{trial.name}" x '
                    f"{per_pod} {gpus['type']} need {pods_needed * per_pod} GPUs at once; node pool(s) {where} hold at most "
                    f"{held * per_pod}: lower parallel_trials to {max(1, held // int(trial.spec['nodes']))} or raise the pool's max",
                )
            )
    return problems


def confidential_pool_problems(env: Environment) -> list[Diagnostic]:
    from compiler.providers.registry import provider_of

    provider = provider_of(env)
    problems = []
    for name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        if pool.get("confidential") and not provider.confidential_capable(str(pool["instance_type"])):
            families = ", ".join(provider.confidential_families) or "none known"
            problems.append(
                Diagnostic(
                    env.locate(f"/cluster/node_pools/{name}/confidential"),
                    CONFIDENTIAL,
                    f'node pool "{name}": {pool["instance_type"]} cannot run as a confidential VM on {env.provider} '
                    f"({provider.confidential_technology}: instance families {families})",
                )
            )
    return problems
