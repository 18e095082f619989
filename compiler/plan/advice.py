"""Advice on top of a cost estimate, computed once in the plan stage and kept on `Compiled`:
savings suggestions (a `{kind: suggester}` table) and the budget gate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.model.environment import Component, Environment
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.cost import LARGE_STORE_GB, SUGGESTED_LIFECYCLE, CostErrors, CostEstimate, Estimator, _num, money, pointer
from compiler.plan.pricing import Pricing


@dataclass(frozen=True)
class Suggestion:
    component: str
    pointer: str
    message: str
    monthly_saving_usd: float


def _spot_training(est: Estimator, c: Component, monthly: float) -> Suggestion | None:
    """Checkpointed GPU training can resume after a spot interruption."""
    spec = c.spec
    if not (spec.get("checkpoint_to") and spec.get("gpus") and not spec["spot"]):
        return None
    pool = est.pools.get(spec.get("node_pool") or "") or {}
    inst = est.training_instance(c.name, spec)
    if inst is None or pool.get("spot") or est.prices.spot_discount(inst.family) <= 0:
        return None
    d = est.prices.spot_discount(inst.family)
    return Suggestion(
        c.name,
        pointer("components", c.name, "spot"),
        f"checkpoints to {spec['checkpoint_to']}, so it can resume after a spot interruption: "
        f"set spot: true (assumed -{_num(100 * d)}% on {inst.family})",
        monthly * d,
    )


def _lifecycle(est: Estimator, c: Component, monthly: float) -> Suggestion | None:
    """A large bucket without lifecycle rules keeps everything in the hot tier."""
    if float(c.spec["size_gb"]) < LARGE_STORE_GB or c.spec.get("lifecycle"):
        return None
    priced = est.bucket(Component(c.name, c.type, {**c.spec, "lifecycle": SUGGESTED_LIFECYCLE}))
    saving = monthly - priced[0] if priced else 0.0
    return Suggestion(
        c.name,
        pointer("components", c.name, "lifecycle"),
        f"{_num(float(c.spec['size_gb']))} GB without lifecycle rules: "
        "e.g. lifecycle: {infrequent_after_days: 30, archive_after_days: 90}",
        saving,
    )


def _headroom(est: Estimator, c: Component, monthly: float) -> Suggestion | None:
    """An endpoint pinned at more than two replicas has no autoscaling headroom."""
    low, high = int(c.spec["replicas"]["min"]), int(c.spec["replicas"]["max"])
    if not (low > 2 and high == low):
        return None
    return Suggestion(
        c.name,
        pointer("components", c.name, "replicas", "min"),
        f"replicas.min = replicas.max = {low} leaves no autoscaling headroom: try min: 2, max: {high} with autoscaling",
        monthly * (low - 2) / low,
    )


Suggester = Callable[[Estimator, Component, float], Suggestion | None]
NOTHING = NotApplicable("no savings rule for this kind")
SUGGESTERS: DispatchTable[Suggester] = DispatchTable(
    "cost suggestions",
    {
        "object_store": _lifecycle,
        "data_lake": _lifecycle,
        "database": NOTHING,
        "spark_job": NOTHING,
        "training_job": _spot_training,
        "serving": _headroom,
        "batch_inference": NOTHING,
        "monitoring": NOTHING,
        "pipeline": NOTHING,
        "job": NOTHING,
        "tuning_job": NOTHING,  # its trials are priced (and suggested) through the training job
        "tracking_server": NOTHING,
        "edge_deployment": NOTHING,
        "stream": NOTHING,
        "stream_job": NOTHING,
        "feature_store": NOTHING,
    },
)


def suggestions(env: Environment, estimate: CostEstimate, pricing: Pricing) -> tuple[Suggestion, ...]:
    """Cheap, explainable savings, largest first."""
    try:
        est = Estimator(env, pricing)
    except CostErrors:
        return ()
    cost = {i.component: i.monthly_usd for i in estimate.items if i.kind == "component"}
    found = []
    for component in env.components.values():
        suggest = SUGGESTERS.handler(component.type)
        found.append(suggest(est, component, cost.get(component.name, 0.0)) if suggest else None)
    return tuple(sorted((s for s in found if s is not None), key=lambda s: (-s.monthly_saving_usd, s.component, s.pointer)))


@dataclass(frozen=True)
class BudgetStatus:
    status: str  # "none" (no budget) | "ok" | "warn" (above warn_ratio x limit) | "over" (above the limit)
    limit_usd: float | None
    estimate_usd: float
    ratio: float | None  # estimate / limit

    @property
    def message(self) -> str:
        if self.limit_usd is None:
            return f"estimated ${money(self.estimate_usd):,} per month; no budget set"
        return (
            f"estimated ${money(self.estimate_usd):,} per month is {money(100 * (self.ratio or 0))}% "
            f"of the ${money(self.limit_usd):,} budget"
        )


def check_budget(env: Environment, estimate: CostEstimate) -> BudgetStatus:
    """The budget gate: compare the estimate with `budget.monthly_usd` and `budget.warn_ratio`."""
    budget = env.spec.get("budget")
    if not budget:
        return BudgetStatus("none", None, estimate.total_usd, None)
    limit, warn = float(budget["monthly_usd"]), float(budget["warn_ratio"])
    total = float(money(estimate.total_usd))
    status = "over" if total > limit else "warn" if total > warn * limit else "ok"
    return BudgetStatus(status, limit, estimate.total_usd, estimate.total_usd / limit)
