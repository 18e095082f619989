"""Cost model: a monthly USD estimate of one resolved environment, per component and node pool.

Prices come from the data file compiler/data/pricing.yaml (list prices with sources; a region
without its own prices there is priced as the provider's `priced_region`, and the estimate
says so in `notes`). Spot is priced only where every pool a pod can land on is a spot pool
(the capacity model's placement); always-on pods (serving replicas, canaries, drift
detectors) are priced for the whole month. The model and its assumptions are documented in docs/cost-model.md.
Amounts stay floats internally and are rounded to cents (ROUND_HALF_UP) only when presented:
`money()`, `CostEstimate.to_dict()` and the renderers in compiler/plan/cost_render.py.

An instance type, database class or GPU model missing from the data is an error naming the
JSON pointer of the offending field, never a silent zero: `estimate` collects every such
problem of an environment and raises one `CostErrors`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from compiler import providers
from compiler.model.environment import Component, Environment
from compiler.model.resources import MONITOR_RESOURCES, requests
from compiler.plan.pricing import InstanceType, Pricing, ProviderPrices

if TYPE_CHECKING:
    from compiler.plan.capacity import Capacity, Pods
    from compiler.plan.monitors import MonitorWorkload

CENT = Decimal("0.01")
DEFAULT_LIFECYCLE_HORIZON_DAYS = 365  # assumed data age span when nothing expires
LARGE_STORE_GB = 1000  # lifecycle suggestion threshold
SUGGESTED_LIFECYCLE = {"infrequent_after_days": 30, "archive_after_days": 90}


class UnknownPriceError(Exception):
    """A price the data file does not know; `pointer` is the JSON pointer of the spec field."""

    def __init__(self, pointer: str, message: str):
        super().__init__(f"{pointer}: {message}")
        self.pointer = pointer
        self.message = message


class CostErrors(Exception):
    """Every unknown price of one environment, sorted by pointer."""

    def __init__(self, errors: list[UnknownPriceError]):
        self.errors = sorted(errors, key=lambda e: (e.pointer, e.message))
        super().__init__("\n".join(str(e) for e in self.errors))


def money(amount: float) -> Decimal:
    """Round a float amount to cents, half up (via 6 decimals, so float noise cannot flip a half)."""
    exact = Decimal(repr(float(amount))).quantize(Decimal("0.000001"), ROUND_HALF_UP)
    return exact.quantize(CENT, ROUND_HALF_UP)


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) from unescaped parts."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


# ---------------------------------------------------------------------------- estimate model


@dataclass(frozen=True)
class CostItem:
    component: str  # component or node-pool name
    kind: str  # "component" | "node_pool"
    type: str  # component type, or the node pool's instance type
    monthly_usd: float  # unrounded; present with money()
    detail: str

    @property
    def rounded(self) -> Decimal:
        return money(self.monthly_usd)


KIND_ORDER = {"component": 0, "node_pool": 1}


@dataclass(frozen=True)
class CostEstimate:
    total_usd: float
    items: tuple[CostItem, ...]
    provider: str = ""
    hours_per_month: float = 730.0
    currency: str = "USD"
    region: str = ""
    priced_region: str = ""  # the region whose prices were used
    notes: tuple[str, ...] = ()  # what the reader must know (regions, spot that cannot be used)

    def top(self, n: int) -> tuple[CostItem, ...]:
        """The n biggest contributors, largest first (ties by kind, then name)."""
        return tuple(sorted(self.items, key=lambda i: (-i.monthly_usd, KIND_ORDER[i.kind], i.component))[:n])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data for plan.json: amounts rounded to cents, items in their stable order."""
        hours = self.hours_per_month
        return {
            "currency": self.currency,
            "provider": self.provider,
            "hours_per_month": int(hours) if float(hours).is_integer() else hours,
            "region": self.region,
            "priced_region": self.priced_region,
            "notes": list(self.notes),
            "total_usd": float(money(self.total_usd)),
            "items": [
                {"component": i.component, "kind": i.kind, "type": i.type, "monthly_usd": float(i.rounded), "detail": i.detail}
                for i in self.items
            ],
        }


def _num(x: float) -> str:
    """A compact number for detail text: 2, 0.5, 21.957642."""
    return f"{float(x):.6f}".rstrip("0").rstrip(".")


def lifecycle_shares(lifecycle: dict[str, Any] | None) -> dict[str, float]:
    """Share of a store's bytes in each stage (hot / infrequent / archive), by the uniform-age model.

    Objects' ages are assumed uniform over [0, H) days, H = expire_after_days or 365. An object
    of age a is archived when a >= archive_after_days, else infrequent when a >= infrequent_after_days,
    else hot; each stage's share is the fraction of [0, H) it covers.
    """
    lc = lifecycle or {}
    horizon = float(lc.get("expire_after_days") or DEFAULT_LIFECYCLE_HORIZON_DAYS)
    ia, ar = lc.get("infrequent_after_days"), lc.get("archive_after_days")
    ar_start = min(float(ar), horizon) if ar is not None else horizon
    ia_start = min(float(ia), ar_start) if ia is not None else ar_start
    return {"hot": ia_start / horizon, "infrequent": (ar_start - ia_start) / horizon, "archive": (horizon - ar_start) / horizon}


class Estimator:
    """Prices one environment; collects unknown-price errors instead of stopping at the first."""

    def __init__(self, env: Environment, pricing: Pricing, capacity: Capacity | None = None, monitors: tuple[MonitorWorkload, ...] = ()):
        self.spec = env.spec
        self.env = env
        self.pricing = pricing
        self.hours = pricing.hours_per_month
        self.errors: dict[str, UnknownPriceError] = {}
        self.provider = env.provider
        key = providers.get(env.provider).pricing_key
        prices = pricing.providers.get(key) if key is not None else None
        if prices is None:
            raise CostErrors([UnknownPriceError("/cloud/provider", f'no pricing data for cloud provider "{self.provider}"')])
        self.region = env.region
        self.priced_region = env.region if prices.has_region(env.region) else prices.priced_region
        self.prices: ProviderPrices = prices.in_region(env.region)
        self.pools: dict[str, Any] = env.spec["cluster"]["node_pools"]
        self.components = env.components
        if capacity is None:
            from compiler.plan.capacity import build_capacity

            capacity = build_capacity(env, self.prices, pricing.gpu_models)
        self.capacity: Capacity = capacity
        self.monitors = monitors
        self.notes: list[str] = []
        if self.priced_region != env.region:
            self.notes.append(f"priced as {self.priced_region}: the pricing data has no {env.region} prices")

    def error(self, ptr: str, message: str) -> None:
        self.errors.setdefault(ptr, UnknownPriceError(ptr, message))

    def spot(self, family: str, spot: bool) -> tuple[float, str]:
        """(price factor, detail note) for an instance family, on spot or not."""
        discount = self.prices.spot_discount(family) if spot else 0.0
        return 1 - discount, (f", spot -{_num(100 * discount)}%" if spot else "")

    def placement(self, component: Component, role: str) -> Pods | None:
        return next((p for p in self.capacity.of(component.name) if p.group.role == role), None)

    def spot_of(self, component: Component, role: str) -> tuple[float, str]:
        """(price factor, detail note) of a pod group, by where it can run: spot only when every
        pool it may land on is a spot pool; a spot request no spot pool can serve is noted."""
        pods = self.placement(component, role)
        pools = [self.capacity.pools[n] for n in (pods.pools if pods else ()) if n in self.capacity.pools]
        if pools and all(p.spot for p in pools):
            family = min(pools, key=lambda p: p.name).instance.family
            return self.spot(family, True)
        if pods is not None and pods.group.spot:
            on_demand = ", ".join(p.name for p in pools if not p.spot)
            why = f"may run on on-demand pool(s) {on_demand}" if on_demand else "no spot pool can run it"
            self.notes.append(f"{component.name}: spot requested, but {why}: priced on-demand")
            return 1.0, f", on-demand (spot requested; {why})"
        return 1.0, ""

    def instance(self, name: str, ptr: str) -> InstanceType | None:
        inst = self.prices.instances.get(name)
        if inst is None:
            self.error(ptr, f'unknown {self.provider} instance type "{name}": not in the pricing data')
        return inst

    def gpu_models(self, gpus: dict[str, Any], ptr: str) -> tuple[str, ...] | None:
        models = self.pricing.gpu_models.get(str(gpus.get("type")))
        if models is None:
            self.error(
                ptr + "/type",
                f'unknown GPU model "{gpus.get("type")}": not in the pricing data (known: {", ".join(sorted(self.pricing.gpu_models))})',
            )
            return None
        if not self.prices.gpu_instances(models):
            self.error(ptr + "/type", f"no {self.provider} instance type with {gpus.get('type')} GPUs in the pricing data")
            return None
        return models

    def vcpu_share(self, comp: dict[str, Any]) -> tuple[float, str]:
        """Billable vCPUs of one replica: max(cpu, memory / reference GiB-per-vCPU)."""
        cpu, mem = requests(comp)
        ref = self.prices.cpu_ref
        billable = max(cpu, mem / (ref.memory_gib / ref.vcpu))
        return billable, f"{_num(billable)} vCPU-equiv ({_num(cpu)} CPU, {_num(mem)} GiB) x ${_num(self.prices.per_vcpu_hour())}/vCPU-h"

    def gpu_share(self, gpus: dict[str, Any], ptr: str) -> tuple[float, str] | None:
        """USD per hour for gpus.count GPUs, at the cheapest per-GPU share of any instance with that model."""
        models = self.gpu_models(gpus, ptr)
        if models is None:
            return None
        inst = self.prices.cheapest_per_gpu(models)
        assert inst is not None
        per_gpu = inst.hourly / inst.gpus
        return int(gpus["count"]) * per_gpu, f"{gpus['count']} x {gpus['type']} at ${_num(per_gpu)}/GPU-h ({inst.name} share)"

    # -- pricing building blocks; each kind's `cost` (compiler.model.kinds) picks one.
    # Each returns (monthly, detail), or None after recording an unknown price.

    def training(self, component: Component) -> tuple[float, str] | None:
        name, c = component.name, component.spec
        nodes, hours = int(c["nodes"]), float(c["hours_per_month"])
        gpus = c.get("gpus")
        if not gpus:
            share, how = self.vcpu_share(c)
            factor, spot_note = self.spot_of(component, "pod")
            return nodes * hours * share * self.prices.per_vcpu_hour() * factor, f"{nodes} node(s) x {_num(hours)} h x {how}{spot_note}"
        inst = self.training_instance(name, c)
        if inst is None:
            return None
        factor, spot_note = self.spot_of(component, "pod")
        gpu_note = f", {inst.gpus}x {inst.gpu_model}" if inst.gpus else ""
        return (
            nodes * hours * inst.hourly * factor,
            f"{nodes} node(s) x {_num(hours)} h x {inst.name} (${_num(inst.hourly)}/h{gpu_note}){spot_note}",
        )

    def training_instance(self, name: str, c: dict[str, Any]) -> InstanceType | None:
        base = pointer("components", name)
        pool_name = c.get("node_pool")
        if pool_name:
            pool = self.pools.get(pool_name)
            if pool is None:
                self.error(base + "/node_pool", f'node pool "{pool_name}" is not defined in cluster.node_pools')
                return None
            if str(c["gpus"].get("type")) not in self.pricing.gpu_models:
                self.error(base + "/gpus/type", f'unknown GPU model "{c["gpus"].get("type")}": not in the pricing data')
            return self.instance(str(pool["instance_type"]), pointer("cluster", "node_pools", pool_name, "instance_type"))
        models = self.gpu_models(c["gpus"], base + "/gpus")
        if models is None:
            return None
        count = int(c["gpus"]["count"])
        placed = self.capacity.gpu_pools(str(c["gpus"]["type"]), count)
        if placed:  # the pods land on these pools (GPU affinity): the cheapest one's instance
            return min((self.capacity.pools[n].instance for n in placed), key=lambda i: (i.hourly, i.name))
        candidates = self.prices.gpu_instances(models, count)
        if not candidates:
            self.error(
                base + "/gpus/count", f"no {self.provider} instance type has {count} or more {c['gpus']['type']} GPUs in the pricing data"
            )
            return None
        return candidates[0]

    def spark(self, component: Component) -> tuple[float, str] | None:
        c = component.spec
        hours = float(c["hours_per_month"])
        driver, executors = c["driver"], c["executors"]
        dyn = c.get("dynamic_allocation") or {}
        count = int(dyn["max"]) if "max" in dyn else int(executors["instances"])
        rate = self.prices.per_vcpu_hour()
        driver_factor, driver_note = self.spot_of(component, "driver")
        factor, spot_note = self.spot_of(component, "executor")
        which = "dynamic_allocation.max" if "max" in dyn else "executors.instances"
        driver_cores, executor_cores = int(driver["cores"]), count * int(executors["cores"])
        detail = (
            f"{driver_cores + executor_cores} vCPU (driver {driver['cores']}{driver_note} + {count} executors [{which}] x "
            f"{executors['cores']}{spot_note}) x {_num(hours)} h x ${_num(rate)}/vCPU-h"
        )
        return (driver_cores * driver_factor + executor_cores * factor) * hours * rate, detail

    def serving(self, component: Component) -> tuple[float, str] | None:
        """Always-on pods: replicas.min and, with a canary, the canary's pods, all month."""
        name, c = component.name, component.spec
        groups = {g.role: g.count for g in component.kind.pods(component)}
        replicas, canary = groups.get("replica", 0), groups.get("canary", 0)
        head = f"{replicas} replica(s)" + (f" + {canary} canary pod(s)" if canary else "")
        return self._replicas(name, c, replicas + canary, self.hours, f"{head} x {_num(self.hours)} h")

    def monitoring(self, component: Component) -> tuple[float, str]:
        """Drift detectors run all month (one pod each); data-quality checks are short CronJob
        runs and are not priced."""
        detectors = [m for m in self.monitors if m.monitoring == component.name and m.role == "drift_detector"]
        if not detectors:
            return 0.0, "no direct cost: rules and dashboards on the cluster's existing monitoring stack"
        share, how = self.vcpu_share({"resources": MONITOR_RESOURCES})
        return (
            len(detectors) * self.hours * share * self.prices.per_vcpu_hour(),
            f"{len(detectors)} drift detector(s) x {_num(self.hours)} h x {how}",
        )

    def service(self, component: Component) -> tuple[float, str] | None:
        """An always-on service with a fixed replica count (a tracking server)."""
        name, c = component.name, component.spec
        replicas = int(c["replicas"])
        return self._replicas(name, c, replicas, self.hours, f"{replicas} replica(s) x {_num(self.hours)} h")

    def tuning(self, component: Component) -> tuple[float, str] | None:
        """runs_per_month x max_trials x the trial job's cost for one trial of hours_per_trial
        (default: the trial's max_runtime_hours; the validation stage requires one of them)."""
        c = component.spec
        trial = self.components[str(c["trial"])]
        hours = float(c.get("hours_per_trial") or trial.spec.get("max_runtime_hours") or 0)
        one = self.training(type(trial)(trial.name, trial.type, {**trial.spec, "hours_per_month": hours}))
        if one is None:
            return None
        trials, runs = int(c["max_trials"]), float(c["runs_per_month"])
        return runs * trials * one[0], f"{_num(runs)} run(s) x {trials} trials x ({one[1]})"

    def batch(self, component: Component) -> tuple[float, str] | None:
        name, c = component.name, component.spec
        hours = float(c["hours_per_month"])
        return self._replicas(name, c, 1, hours, f"{_num(hours)} h")

    def _replicas(self, name: str, c: dict[str, Any], replicas: int, hours: float, head: str) -> tuple[float, str] | None:
        share, how = self.vcpu_share(c)
        hourly, parts = share * self.prices.per_vcpu_hour(), [how]
        if c.get("gpus"):
            gpu = self.gpu_share(c["gpus"], pointer("components", name, "gpus"))
            if gpu is None:
                return None
            hourly += gpu[0]
            parts.append(gpu[1])
        return replicas * hours * hourly, f"{head} x ({' + '.join(parts)})"

    def bucket(self, component: Component) -> tuple[float, str] | None:
        c = component.spec
        size = float(c["size_gb"])
        shares = lifecycle_shares(c.get("lifecycle"))
        monthly, parts = 0.0, []
        for stage in ("hot", "infrequent", "archive"):
            if shares[stage] > 0:
                tier = self.prices.lifecycle_tiers[stage]
                monthly += size * shares[stage] * self.prices.object_tiers[tier]
                parts.append(f"{100 * shares[stage]:.1f}% {tier} @ ${_num(self.prices.object_tiers[tier])}")
        return monthly, f"{_num(size)} GB x ({', '.join(parts) or 'empty'}) per GB-month"

    def database(self, component: Component) -> tuple[float, str] | None:
        name, c = component.name, component.spec
        cls, engine = str(c["instance_class"]), str(c["engine"])
        hourly = self.prices.database_hourly(cls, engine)
        if hourly is None:
            self.error(
                pointer("components", name, "instance_class"),
                f'unknown {self.provider} database instance class "{cls}" for engine {engine}: not in the pricing data',
            )
            return None
        ha = self.prices.db_ha_factor if c["multi_az"] else 1.0
        storage = float(c["storage_gb"])
        monthly = ha * (hourly * self.hours + storage * self.prices.db_storage_gb_month)
        ha_note = f" x {_num(ha)} (multi-AZ)" if ha != 1.0 else ""
        return (
            monthly,
            f"({cls} {engine} ${_num(hourly)}/h x {_num(self.hours)} h + "
            f"{_num(storage)} GB x ${_num(self.prices.db_storage_gb_month)}){ha_note}",
        )

    def node_pool(self, name: str, pool: dict[str, Any]) -> tuple[float, str] | None:
        inst = self.instance(str(pool["instance_type"]), pointer("cluster", "node_pools", name, "instance_type"))
        if inst is None:
            return None
        nodes = int(pool["min"])
        factor, spot_note = self.spot(inst.family, bool(pool["spot"]))
        return (
            nodes * inst.hourly * self.hours * factor,
            f"{nodes} always-on (min) x {inst.name} ${_num(inst.hourly)}/h x {_num(self.hours)} h{spot_note}",
        )


def estimate(
    env: Environment, pricing: Pricing, capacity: Capacity | None = None, monitors: tuple[MonitorWorkload, ...] = ()
) -> CostEstimate:
    """Monthly estimate of a resolved environment (defaults applied); raises CostErrors on unknown prices."""
    est = Estimator(env, pricing, capacity, monitors)
    items: list[CostItem] = []
    for component in env.components.values():
        priced = component.kind.cost(est, component)
        if priced is not None:
            items.append(CostItem(component.name, "component", component.type, priced[0], priced[1]))
    for name in sorted(est.pools):
        pool = est.pools[name]
        priced = est.node_pool(name, pool)
        if priced is not None:
            items.append(CostItem(name, "node_pool", str(pool["instance_type"]), priced[0], priced[1]))
    if est.errors:
        raise CostErrors(list(est.errors.values()))
    return CostEstimate(
        sum(i.monthly_usd for i in items),
        tuple(items),
        est.provider,
        pricing.hours_per_month,
        region=est.region,
        priced_region=est.priced_region,
        notes=tuple(dict.fromkeys(est.notes)),
    )
