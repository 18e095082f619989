"""Budget and governance checks (MLC-BUD-*, MLC-GOV-*).

Budget rules use the cost model's own figures (`compiled.cost`, `check_budget`,
`suggestions`), so `mlc cost` and the gate can never disagree. Waiver findings
(MLC-GOV-002 / 003) are produced by waivers.py, not here.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model.environment import CLASSIFICATION_RANK
from compiler.model.kinds import Category, Trait
from compiler.plan.compiled import Compiled
from compiler.policy.hits import Hit, describe_lineage, fix_at, is_set, usd

# ---------------------------------------------------------------------------- BUD


def _contributors(compiled: Compiled) -> str:
    assert compiled.cost is not None
    parts = []
    for item in compiled.cost.top(3):
        what = item.type if item.kind == "component" else f"node pool, {item.type}"
        parts.append(f"{item.component} {usd(item.monthly_usd)} ({what})")
    return "; biggest: " + ", ".join(parts) if parts else ""


def over_budget(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-001."""
    status = compiled.budget
    if status.status == "over":
        yield Hit(None, "/budget/monthly_usd", f"{status.message}{_contributors(compiled)}")


def near_budget(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-002: above warn_ratio x limit, not over it."""
    status = compiled.budget
    if status.status == "warn":
        ratio = compiled.env.spec["budget"]["warn_ratio"]
        yield Hit(None, "/budget/monthly_usd", f"{status.message}, above the warn_ratio {ratio:g}{_contributors(compiled)}")


def no_budget(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-003."""
    budget = compiled.env.spec.get("budget")
    if not isinstance(budget, dict) or "monthly_usd" not in budget:
        total = f" (estimated {usd(compiled.cost.total_usd)} per month)"
        yield Hit(None, "/metadata", f"environment declares no budget{total}", key=True)


def cost_suggestions(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-004 (info): the cost model's suggestions, except lifecycle ones (MLC-BUD-005)."""
    env = compiled.env
    for s in compiled.suggestions:
        if s.pointer.endswith("/lifecycle"):
            continue
        saving = f" (saves about {usd(s.monthly_saving_usd)} per month)" if s.monthly_saving_usd >= 0.005 else ""
        component = s.component if s.component in env.components else None
        yield fix_at(component, env, s.pointer, f"{s.message}{saving}")


def large_store_without_lifecycle(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-005: same threshold as the cost model's lifecycle suggestion."""
    from compiler.plan.cost import LARGE_STORE_GB

    env = compiled.env
    savings = {s.component: s.monthly_saving_usd for s in compiled.suggestions if s.pointer.endswith("/lifecycle")}
    for store in env.with_trait(Trait.BUCKET):
        size = float(store.spec["size_gb"])
        if size >= LARGE_STORE_GB and not store.get("lifecycle"):
            saving = savings.get(store.name, 0.0)
            hint = f"; tiering would save about {usd(saving)} per month" if saving >= 0.005 else ""
            yield fix_at(store.name, env, f"{store.pointer}/lifecycle", f"{size:g} GB store has no lifecycle rules{hint}")


def gpu_job_without_deadline(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-006."""
    for job in compiled.env.of_type("training_job"):
        if job.get("gpus") and job.get("max_runtime_hours") is None:
            gpus = job.get("gpus")
            yield Hit(
                job.name,
                job.pointer,
                f"GPU training job ({gpus.get('count')} x {gpus.get('type')} per node) has no max_runtime_hours",
                key=True,
            )


def gpu_pool_always_on(compiled: Compiled) -> Iterator[Hit]:
    """MLC-BUD-007: a node pool whose instance type has GPUs (per the pricing data) and min > 0."""
    env = compiled.env
    for name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        instance = compiled.pools.get(name)
        if instance is not None and instance.gpus > 0 and int(pool["min"]) > 0:
            yield Hit(
                None,
                f"/cluster/node_pools/{name}/min",
                f'GPU node pool "{name}" keeps {pool["min"]} x {instance.name} ({instance.gpus} GPU each) running at all times',
            )


# ---------------------------------------------------------------------------- GOV


def region_not_allowed(compiled: Compiled) -> Iterator[Hit]:
    """MLC-GOV-001."""
    env = compiled.env
    allowed = (env.spec.get("compliance") or {}).get("allowed_regions")
    if allowed and env.region not in allowed:
        yield Hit(None, "/cloud/region", f'region "{env.region}" is not in compliance.allowed_regions ({", ".join(allowed)})')


def classification_below_lineage(compiled: Compiled) -> Iterator[Hit]:
    """MLC-GOV-004: stores only (workloads have no declared class of their own to correct)."""
    env = compiled.env
    for store in env.of_category(Category.STORE):
        lineage = compiled.graph.lineage[store.name]
        if CLASSIFICATION_RANK[lineage.effective] > CLASSIFICATION_RANK[lineage.own]:
            yield fix_at(
                store.name,
                env,
                f"{store.pointer}/classification",
                f"classified {lineage.own} but receives {lineage.effective} data: {describe_lineage(env, lineage)}",
            )


def _frameworks(compiled: Compiled) -> list[str]:
    return list((compiled.env.spec.get("compliance") or {}).get("frameworks") or [])


def pii_without_expiry(compiled: Compiled) -> Iterator[Hit]:
    """MLC-GOV-005: buckets declared pii, when gdpr applies."""
    env = compiled.env
    if "gdpr" not in _frameworks(compiled):
        return
    for store in env.with_trait(Trait.BUCKET):
        if store.get("classification") == "pii" and not (store.get("lifecycle") or {}).get("expire_after_days"):
            pointer = f"{store.pointer}/lifecycle/expire_after_days"
            yield fix_at(store.name, env, pointer, "pii store keeps data forever (no lifecycle.expire_after_days) while gdpr applies")


def pii_without_compliance(compiled: Compiled) -> Iterator[Hit]:
    """MLC-GOV-006."""
    env = compiled.env
    pii = sorted(c.name for c in env.components.values() if c.get("classification") == "pii")
    if not pii:
        return
    compliance = env.spec.get("compliance") or {}
    missing = [f for f in ("frameworks", "allowed_regions") if not compliance.get(f)]
    if missing:
        pointer = "/compliance" if is_set(env, "/compliance") else "/metadata"
        yield Hit(None, pointer, f"holds pii data ({', '.join(pii)}) but compliance declares no {' and no '.join(missing)}", key=True)


def _class_sources(compiled: Compiled, name: str) -> dict[str, tuple[str, ...]]:
    """class -> the shortest data-flow path (source first) from a component declaring that class
    to `name`, over every component whose data flows into `name` (itself included)."""
    from collections import deque

    from compiler.analysis.graph import READ_KINDS, WRITE_KINDS

    env = compiled.env
    upstream: dict[str, list[str]] = {n: [] for n in env.components}
    for edge in compiled.graph.edges:
        if edge.kind in READ_KINDS + WRITE_KINDS:
            upstream[edge.target].append(edge.source)
    found: dict[str, tuple[str, ...]] = {}
    parents: dict[str, str | None] = {name: None}
    queue = deque([name])
    while queue:
        node = queue.popleft()
        cls = env.components[node].spec["classification"]
        if cls not in found:
            path = [node]
            while parents[path[-1]] is not None:
                path.append(parents[path[-1]])  # type: ignore[arg-type]
            found[cls] = tuple(path)
        for up in sorted(upstream[node]):
            if up not in parents:
                parents[up] = node
                queue.append(up)
    return found


def confidential_computing(compiled: Compiled) -> Iterator[Hit]:
    """MLC-GOV-070: every workload touching data of a class in compliance.confidential_computing
    (declared by any component whose data flows into it, or into a store it is granted) runs on
    a confidential pool. A kind that runs as another component (a tuning job's trials) is
    checked through that one."""
    env = compiled.env
    required = set((env.spec.get("compliance") or {}).get("confidential_computing") or [])
    if not required:
        return
    pools = env.spec["cluster"]["node_pools"]
    for workload in env.of_category(Category.WORKLOAD):
        if workload.kind.runs_as(workload) is not None:
            continue
        grants = compiled.grants.get(workload.name)
        touched: dict[str, tuple[str, ...]] = {}
        for name in (workload.name, *(grants.stores if grants else ())):
            for cls, path in _class_sources(compiled, name).items():
                if cls in required and (cls not in touched or len(path) < len(touched[cls])):
                    touched[cls] = path if name == workload.name else (*path, workload.name)
        if not touched:
            continue
        cls = max(touched, key=lambda c: CLASSIFICATION_RANK[c])
        first, *rest = touched[cls]
        why = f"touches {cls} data ({' -> '.join([f'{first} ({cls})', *rest])})"
        pool = workload.get("node_pool")
        pointer = f"{workload.pointer}/node_pool"
        if workload.has(Trait.FOREIGN_PODS):
            yield Hit(workload.name, workload.pointer, f"{why} but runs on edge clusters, outside any confidential node pool", key=True)
        elif pool is None:
            yield fix_at(workload.name, env, pointer, f"{why} but names no node_pool; {cls} requires a pool with confidential: true")
        elif not (pools.get(pool) or {}).get("confidential"):
            yield Hit(workload.name, pointer, f'{why} but runs on node pool "{pool}", which is not confidential')
