"""The pricing data: compiler/data/pricing.yaml (list prices with sources), read once.

Each provider's section (named by `Provider.pricing_key`) lists instance types with their
vCPUs, memory and GPUs: the instance/GPU catalogue the plan stage reads its facts from.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PRICING_PATH = Path(__file__).parent.parent / "data" / "pricing.yaml"


@dataclass(frozen=True)
class InstanceType:
    name: str
    hourly: float
    vcpu: float
    memory_gib: float
    gpus: int
    gpu_model: str | None
    family_name: str | None = None  # the row's `family` where the name does not show it (Azure sizes)

    @property
    def family(self) -> str:
        """p4d.24xlarge -> p4d; a2-highgpu-1g -> a2; Azure sizes: the row's `family`."""
        return self.family_name or re.split(r"[.-]", self.name, maxsplit=1)[0]


Tiers = tuple[tuple[float | None, float], ...]  # (size of the tier or None = the rest, fraction reserved)


def _tiered(amount: float, tiers: Tiers) -> float:
    """What a tiered percentage takes of `amount` (25 % of the first 4, 20 % of the next 4, ...)."""
    taken, rest = 0.0, amount
    for size, fraction in tiers:
        part = rest if size is None else min(rest, size)
        taken += part * fraction
        rest -= part
        if rest <= 0:
            break
    return taken


@dataclass(frozen=True)
class NodeReserved:
    """What a node keeps for the kubelet and the OS (kube-reserved + eviction threshold)."""

    cpu_tiers: Tiers
    memory_tiers: Tiers
    memory_fixed_mib: float
    memory_per_pod_mib: float
    max_pods: int
    eviction_mib: float

    def allocatable(self, instance: InstanceType) -> tuple[float, float]:
        """(cores, GiB) of an instance that pods can request."""
        cpu = instance.vcpu - _tiered(instance.vcpu, self.cpu_tiers)
        reserved_mib = self.memory_fixed_mib + self.memory_per_pod_mib * self.max_pods + self.eviction_mib
        memory = instance.memory_gib - _tiered(instance.memory_gib, self.memory_tiers) - reserved_mib / 1024
        return cpu, memory


NO_RESERVATION = NodeReserved((), (), 0.0, 0.0, 0, 0.0)


@dataclass(frozen=True)
class ProviderPrices:
    instances: dict[str, InstanceType]
    databases: dict[tuple[str, str], float]  # (class, engine or "any") -> hourly
    db_storage_gb_month: float
    db_ha_factor: float
    object_tiers: dict[str, float]  # storage class -> USD per GB-month
    lifecycle_tiers: dict[str, str]  # hot / infrequent / archive -> storage class
    spot_discounts: dict[str, float]  # family -> fraction off on-demand
    spot_default: float
    cpu_reference: str
    priced_region: str = ""
    # region -> instance type -> hourly, where the data has a region's own list price
    region_instances: dict[str, dict[str, float]] = field(default_factory=dict)
    node_reserved: NodeReserved = NO_RESERVATION
    machine_zones: dict[str, tuple[str, ...]] = field(default_factory=dict)  # machine family -> zones offering it

    def in_region(self, region: str) -> ProviderPrices:
        """These prices with `region`'s own instance prices where the data has them."""
        own = self.region_instances.get(region)
        if not own:
            return self
        instances = {n: replace(i, hourly=own.get(n, i.hourly)) for n, i in self.instances.items()}
        return replace(self, instances=instances)

    def has_region(self, region: str) -> bool:
        return region == self.priced_region or region in self.region_instances

    def zones(self, instance: str, region: str) -> tuple[str, ...] | None:
        """Zones of `region` offering `instance` (None: the data does not restrict its family)."""
        family = instance.rsplit("-", 1)[0]
        if family not in self.machine_zones:
            return None
        return tuple(z for z in self.machine_zones[family] if z.rsplit("-", 1)[0] == region)

    @property
    def cpu_ref(self) -> InstanceType:
        return self.instances[self.cpu_reference]

    def per_vcpu_hour(self) -> float:
        return self.cpu_ref.hourly / self.cpu_ref.vcpu

    def spot_discount(self, family: str) -> float:
        return self.spot_discounts.get(family, self.spot_default)

    def gpu_instances(self, models: tuple[str, ...], min_count: int = 1) -> list[InstanceType]:
        """Instances with >= min_count GPUs of one of `models`, cheapest first."""
        found = [i for i in self.instances.values() if i.gpu_model in models and i.gpus >= min_count]
        return sorted(found, key=lambda i: (i.hourly, i.name))

    def cheapest_per_gpu(self, models: tuple[str, ...]) -> InstanceType | None:
        found = self.gpu_instances(models)
        return min(found, key=lambda i: (i.hourly / i.gpus, i.name)) if found else None

    def database_hourly(self, cls: str, engine: str) -> float | None:
        return self.databases.get((cls, engine), self.databases.get((cls, "any")))


@dataclass(frozen=True)
class Pricing:
    hours_per_month: float
    gpu_models: dict[str, tuple[str, ...]]
    providers: dict[str, ProviderPrices]
    document: dict[str, Any]  # the raw data file, for provenance checks


def _provider_prices(doc: dict[str, Any]) -> ProviderPrices:
    instances = {
        r["type"]: InstanceType(
            r["type"], float(r["hourly"]), float(r["vcpu"]), float(r["memory_gib"]), int(r["gpus"]), r.get("gpu_model"), r.get("family")
        )
        for r in doc["instances"]["rows"]
    }
    if doc["cpu_reference"] not in instances:
        raise ValueError(f"pricing data: cpu_reference {doc['cpu_reference']!r} is not an instance row")
    spot = doc["spot_discounts"]
    reserved = doc.get("node_reserved")
    node_reserved = NO_RESERVATION
    if reserved:
        node_reserved = NodeReserved(
            tuple((t[0], float(t[1])) for t in reserved["cpu_tiers"]),
            tuple((t[0], float(t[1])) for t in reserved["memory_tiers"]),
            float(reserved["memory_fixed_mib"]),
            float(reserved["memory_per_pod_mib"]),
            int(reserved["max_pods"]),
            float(reserved["eviction_mib"]),
        )
    regions: dict[str, dict[str, float]] = {}
    for row in (doc.get("region_prices") or {}).get("rows", []):
        regions.setdefault(str(row["region"]), {})[str(row["type"])] = float(row["hourly"])
    zones = {str(r["family"]): tuple(r["zones"]) for r in (doc.get("machine_zones") or {}).get("rows", [])}
    return ProviderPrices(
        instances=instances,
        databases={(r["class"], r["engine"]): float(r["hourly"]) for r in doc["databases"]["rows"]},
        db_storage_gb_month=float(doc["database_storage"]["gb_month"]),
        db_ha_factor=float(doc["database_storage"]["ha_factor"]),
        object_tiers={r["tier"]: float(r["gb_month"]) for r in doc["object_storage"]["rows"]},
        lifecycle_tiers=dict(doc["object_storage"]["lifecycle_tiers"]),
        spot_discounts={r["family"]: float(r["discount"]) for r in spot["rows"]},
        spot_default=float(spot.get("default", 0.0)),
        cpu_reference=doc["cpu_reference"],
        priced_region=str(doc.get("priced_region", "")),
        region_instances=regions,
        node_reserved=node_reserved,
        machine_zones=zones,
    )


@functools.lru_cache(maxsize=8)
def _load(path: str) -> Pricing:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path, encoding="utf-8") as f:
        doc = yaml.load(f, Loader=loader)  # noqa: S506 - a safe loader
    return Pricing(
        hours_per_month=float(doc["hours_per_month"]),
        gpu_models={k: tuple(v) for k, v in doc["gpu_models"].items()},
        providers={key: _provider_prices(value) for key, value in doc.items() if isinstance(value, dict) and "instances" in value},
        document=doc,
    )


def load_pricing(path: str | Path | None = None) -> Pricing:
    """The pricing data (the packaged file by default); read once per path and cached."""
    return _load(str(Path(path).resolve() if path is not None else DEFAULT_PRICING_PATH))
