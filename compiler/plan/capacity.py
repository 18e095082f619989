"""The capacity model: what each node pool offers and what each workload's pods request.

Computed once by `plan` and kept on `Compiled.capacity`; the emitters (GPU quota, node
selection), the policies (MLC-REL-050) and the cost model (spot placement) read it.

Pools: GPUs, GPU model, vCPU and memory per node from the instance catalogue (pricing
data), and what pods can request of a node (allocatable: capacity minus the kubelet's
reservation, `node_reserved` in the pricing data). Pods: per workload, the groups of
identical pods its kind declares (`Kind.pods`), with the pools they may land on, placed
exactly as the Kubernetes emitter schedules them (`node_pool` -> that pool; GPU pods -> the
pools with that GPU model and enough GPUs per node; other pods -> pools without GPUs,
spot pools only when the pod tolerates spot).

Input errors (`capacity_problems`), at the spec line to change:
  MLC-E061  a pod does not fit one node of its pool (CPU, memory or GPUs per node)
  MLC-E062  the pool's GPU model is not the one the workload asks for
  MLC-E063  no pool can run it: GPUs asked on a pool without GPUs, or no pool has that GPU
  MLC-E064  no zone of the environment's region offers the pool's machine type (zone table)
CPU pods without `node_pool` may run on nodes mlc does not declare (the cluster exists
already), so only pinned and GPU pods are checked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from compiler.model.environment import Component, Environment
from compiler.model.resources import PodGroup
from compiler.plan.pricing import InstanceType, ProviderPrices

E_FIT, E_MODEL, E_NO_POOL, E_NO_ZONE = "MLC-E061", "MLC-E062", "MLC-E063", "MLC-E064"


@dataclass(frozen=True)
class PoolCapacity:
    name: str
    instance: InstanceType
    min: int
    max: int
    spot: bool
    cpu: float  # allocatable cores per node
    memory_gib: float  # allocatable GiB per node
    zones: tuple[str, ...] | None = None  # zones of the region offering the instance (None: not restricted)

    @property
    def gpus(self) -> int:
        return self.instance.gpus

    @property
    def gpu_model(self) -> str | None:
        return self.instance.gpu_model

    def per_node(self, group: PodGroup) -> int:
        """How many pods of `group` one node holds (0: not even one)."""
        limits = [math.floor(self.cpu / group.cpu + 1e-9) if group.cpu else 1 << 30]
        limits.append(math.floor(self.memory_gib / group.memory_gib + 1e-9) if group.memory_gib else 1 << 30)
        if group.gpus:
            limits.append(self.gpus // group.gpus)
        return max(0, min(limits))

    def to_dict(self) -> dict[str, Any]:
        return {
            "instance_type": self.instance.name,
            "gpus_per_node": self.gpus,
            "gpu_model": self.gpu_model or "",
            "vcpu_per_node": self.instance.vcpu,
            "memory_gib_per_node": self.instance.memory_gib,
            "allocatable_cpu": round(self.cpu, 3),
            "allocatable_memory_gib": round(self.memory_gib, 3),
            "min": self.min,
            "max": self.max,
            "spot": self.spot,
            "zones": list(self.zones or ()),
        }


@dataclass(frozen=True)
class Pods:
    """One PodGroup of one workload, with the pools it may be scheduled on."""

    workload: str
    group: PodGroup
    pools: tuple[str, ...]
    pinned: bool  # placed by `node_pool` or GPU affinity, so it must fit one of `pools`

    def to_dict(self) -> dict[str, Any]:
        g = self.group
        return {
            "workload": self.workload,
            "role": g.role,
            "count": g.count,
            "cpu": g.cpu,
            "memory_gib": round(g.memory_gib, 3),
            "gpus": g.gpus,
            "gpu_type": g.gpu_type or "",
            "always_on": g.always_on,
            "pools": list(self.pools),
        }


@dataclass(frozen=True)
class Capacity:
    pools: dict[str, PoolCapacity]  # known instance types only (unknown ones are MLC-E060)
    pods: tuple[Pods, ...]
    gpu_models: dict[str, tuple[str, ...]]

    @property
    def gpu_quota(self) -> int:
        """GPUs the namespace may request: what the pools hold at their max size."""
        return sum(p.max * p.gpus for p in self.pools.values())

    def gpu_pools(self, gpu_type: str, count: int) -> list[str]:
        """Pools whose nodes carry at least `count` GPUs of the spec model `gpu_type`."""
        models = self.gpu_models.get(gpu_type, ())
        return [n for n, p in sorted(self.pools.items()) if p.gpu_model in models and p.gpus >= count]

    def of(self, workload: str) -> tuple[Pods, ...]:
        return tuple(p for p in self.pods if p.workload == workload)

    def to_dict(self) -> dict[str, Any]:
        return {
            "gpu_quota": self.gpu_quota,
            "pools": {n: p.to_dict() for n, p in sorted(self.pools.items())},
            "pods": [p.to_dict() for p in self.pods],
        }


@dataclass(frozen=True)
class Problem:
    pointer: str
    code: str
    message: str


def pool_capacity(env: Environment, prices: ProviderPrices) -> dict[str, PoolCapacity]:
    out = {}
    for name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        instance = prices.instances.get(str(pool["instance_type"]))
        if instance is not None:
            cpu, memory = prices.node_reserved.allocatable(instance)
            zones = prices.zones(instance.name, env.region)
            out[name] = PoolCapacity(name, instance, int(pool["min"]), int(pool["max"]), bool(pool["spot"]), cpu, memory, zones)
    return out


def _candidates(capacity: Capacity, component: Component, group: PodGroup) -> tuple[tuple[str, ...], bool]:
    """(pools the group may land on, whether it is pinned to them), as the emitter schedules."""
    chosen = component.spec.get("node_pool")
    if chosen:
        return (str(chosen),), True
    if group.gpus and group.gpu_type:
        return tuple(capacity.gpu_pools(group.gpu_type, group.gpus)), True
    free = [n for n, p in sorted(capacity.pools.items()) if not p.gpus and (group.spot or not p.spot)]
    return tuple(free), False


def build_capacity(env: Environment, prices: ProviderPrices, gpu_models: dict[str, tuple[str, ...]]) -> Capacity:
    empty = Capacity(pool_capacity(env, prices), (), gpu_models)
    pods = []
    for component in env.components.values():
        for group in component.kind.pods(component):
            pools, pinned = _candidates(empty, component, group)
            pods.append(Pods(component.name, group, pools, pinned))
    return Capacity(empty.pools, tuple(pods), gpu_models)


def _num(x: float) -> str:
    return f"{x:.3f}".rstrip("0").rstrip(".")


def capacity_problems(env: Environment, capacity: Capacity) -> list[Problem]:
    """Pods that can never be scheduled (see the module docstring); unknown prices are left to MLC-E060."""
    declared = env.spec["cluster"]["node_pools"]
    problems: dict[str, Problem] = {}

    def add(pointer: str, code: str, message: str) -> None:
        problems.setdefault(pointer, Problem(pointer, code, message))

    for name, pool in capacity.pools.items():
        if pool.zones == ():
            add(
                f"/cluster/node_pools/{name}/instance_type",
                E_NO_ZONE,
                f"no zone of {env.region} offers {pool.instance.name} ({pool.gpu_model} GPUs) in the pricing data's zone table",
            )

    for pods in capacity.pods:
        component, g = env.components[pods.workload], pods.group
        base = component.pointer
        models = capacity.gpu_models.get(g.gpu_type or "")
        if g.gpus and models is None:
            continue  # unknown GPU model: MLC-E060
        chosen = component.spec.get("node_pool")
        if chosen and (chosen not in declared or chosen not in capacity.pools):
            continue  # undefined pool (MLC-E041) or unknown instance type (MLC-E060)
        who = ("pod" if g.role == "pod" else f"{g.role} pod") + ("s" if g.count != 1 else "")
        if g.gpus and chosen:
            pool = capacity.pools[chosen]
            if not pool.gpus:
                add(
                    f"{base}/node_pool",
                    E_NO_POOL,
                    f'{g.gpus} x {g.gpu_type} asked, but node pool "{chosen}" ({pool.instance.name}) has no GPUs',
                )
                continue
            if pool.gpu_model not in (models or ()):
                add(
                    f"{base}{g.gpus_at}/type",
                    E_MODEL,
                    f'{g.gpu_type} asked, but node pool "{chosen}" ({pool.instance.name}) has {pool.gpu_model} GPUs',
                )
                continue
        elif g.gpus and not pods.pools:
            with_model = [n for n, p in sorted(capacity.pools.items()) if p.gpu_model in (models or ())]
            if with_model:
                most = max(capacity.pools[n].gpus for n in with_model)
                add(
                    f"{base}{g.gpus_at}/count",
                    E_FIT,
                    f"{g.gpus} x {g.gpu_type} per pod, but the node pools with {g.gpu_type} "
                    f"({', '.join(with_model)}) have at most {most} per node",
                )
            else:
                known = ", ".join(f"{n} ({p.gpu_model})" for n, p in sorted(capacity.pools.items()) if p.gpus) or "none"
                add(f"{base}{g.gpus_at}/type", E_NO_POOL, f"no node pool has {g.gpu_type} GPUs (GPU pools: {known})")
            continue
        if not pods.pinned or not pods.pools:
            continue
        fits = [capacity.pools[n] for n in pods.pools if capacity.pools[n].per_node(g) >= 1]
        if fits:
            continue
        pool = max((capacity.pools[n] for n in pods.pools), key=lambda p: (p.cpu, p.memory_gib, p.name))
        where = f'node pool "{pool.name}" ({pool.instance.name})'
        if g.gpus > pool.gpus:
            add(f"{base}{g.gpus_at}/count", E_FIT, f"{who} ask {g.gpus} x {g.gpu_type}, but a node of {where} has {pool.gpus}")
        if g.cpu > pool.cpu + 1e-9:
            add(
                f"{base}{g.cpu_at}",
                E_FIT,
                f"{who} ask {_num(g.cpu)} CPU, but a node of {where} has {_num(pool.cpu)} allocatable "
                f"({_num(pool.instance.vcpu)} vCPU less the kubelet's reservation)",
            )
        if g.memory_gib > pool.memory_gib + 1e-9:
            add(
                f"{base}{g.memory_at}",
                E_FIT,
                f"{who} ask {_num(g.memory_gib)} GiB of memory, but a node of {where} has {_num(pool.memory_gib)} GiB "
                f"allocatable ({_num(pool.instance.memory_gib)} GiB less the kubelet's reservation)",
            )
    return sorted(problems.values(), key=lambda p: p.pointer)


# ---------------------------------------------------------------------------- headroom (MLC-REL-050)


def nodes_needed(pool: PoolCapacity, groups: list[PodGroup]) -> int:
    """A lower bound of the nodes of `pool` that hold `groups` together: no group on fewer
    nodes than it needs alone, and no resource summed over all groups above what the nodes have."""
    if not groups:
        return 0
    alone = max(math.ceil(g.count / max(pool.per_node(g), 1)) for g in groups)
    cpu = math.ceil(sum(g.count * g.cpu for g in groups) / pool.cpu - 1e-9) if pool.cpu > 0 else 0
    memory = math.ceil(sum(g.count * g.memory_gib for g in groups) / pool.memory_gib - 1e-9) if pool.memory_gib > 0 else 0
    gpus = math.ceil(sum(g.count * g.gpus for g in groups) / pool.gpus) if pool.gpus else 0
    return max(alone, cpu, memory, gpus)
