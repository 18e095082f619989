"""Prices of streams and streaming jobs (the `streaming` section of each provider in
compiler/data/pricing.yaml; see docs/streaming.md).

Only what the spec fixes is priced: shards and their retention, and always-on Flink pods.
Traffic-dependent charges (Kinesis PUT units, Pub/Sub throughput) are named in the detail
text, never guessed.
"""

from __future__ import annotations

from typing import Any

from compiler import providers
from compiler.model.environment import Component
from compiler.model.kinds import feature_store as fs
from compiler.plan.cost import Estimator, _num, pointer

Priced = tuple[float, str]
STANDARD_RETENTION_HOURS = 24  # Kinesis: included in the shard-hour
EXTENDED_RETENTION_HOURS = 168  # Kinesis: up to 7 days at the extended-retention shard-hour rate


def _section(est: Estimator) -> dict[str, Any] | None:
    key = providers.get(est.provider).pricing_key
    section = est.pricing.document.get(key or "", {})
    return section.get("streaming") if isinstance(section, dict) else None


def _prices(est: Estimator, component: Component) -> dict[str, Any] | None:
    prices = _section(est)
    if prices is None:
        est.error(
            pointer("components", component.name, "type"), f"no streaming prices for cloud provider {est.provider} in the pricing data"
        )
    return prices


def stream_cost(est: Estimator, component: Component) -> Priced | None:
    prices = _prices(est, component)
    if prices is None:
        return None
    retention = int(component.spec["retention_hours"])
    if "kinesis_shard_hour" not in prices:  # Pub/Sub: no provisioned part
        return 0.0, f"usage only: ${_num(prices['pubsub_throughput_tib'])}/TiB of throughput (traffic not in the spec)"
    shards = int(component.spec["partitions"])
    hourly = float(prices["kinesis_shard_hour"])
    parts = [f"{shards} shard(s) x {_num(est.hours)} h x (${_num(hourly)}"]
    if retention > STANDARD_RETENTION_HOURS:
        extended = float(prices["kinesis_extended_retention_shard_hour"])
        hourly += extended
        parts.append(f" + ${_num(extended)} retention {retention} h > {STANDARD_RETENTION_HOURS} h")
    detail = "".join(parts) + ")/shard-h; PUT payload units extra (traffic not in the spec)"
    if retention > EXTENDED_RETENTION_HOURS:
        detail += f"; storage beyond 7 days ${_num(prices['kinesis_long_term_gb_month'])}/GB-month extra"
    return shards * hourly * est.hours, detail


def stream_job_cost(est: Estimator, component: Component) -> Priced | None:
    """Always on: one JobManager and `parallelism` TaskManagers (one slot each), each pod
    sized by `resources`, 730 h a month; spot where every pool the pods may land on is spot."""
    c = component.spec
    share, how = est.vcpu_share(c)
    groups = (("jobmanager", 1), ("taskmanager", int(c["parallelism"])))
    monthly, notes = 0.0, []
    for role, count in groups:
        factor, note = est.spot_of(component, role)
        monthly += count * est.hours * share * est.prices.per_vcpu_hour() * factor
        notes.append(note)
    spot = notes[1] if notes[0] == notes[1] else "".join(f"; {role}{note}" for (role, _), note in zip(groups, notes, strict=True))
    pods = f"{1 + int(c['parallelism'])} pods (1 JobManager + {c['parallelism']} TaskManagers)"
    return monthly, f"always on: {pods} x {_num(est.hours)} h x {how}{spot}"


def feature_store_cost(est: Estimator, component: Component) -> Priced | None:
    """The online store (AWS: 2 ElastiCache nodes of the smallest type holding online.size_gb;
    GCP: Memorystore Standard tier, per provisioned GB-hour) all month, plus the
    materialisation pod for materialize.hours_per_month. The offline store is its data lake,
    priced there."""
    key = providers.get(est.provider).pricing_key
    section = est.pricing.document.get(key or "", {})
    prices = section.get("feature_online") if isinstance(section, dict) else None
    size = int(fs.online(component)["size_gb"])
    if prices is None:
        est.error(
            pointer("components", component.name, "type"), f"no feature store prices for cloud provider {est.provider} in the pricing data"
        )
        return None
    rows = prices["rows"]
    if "nodes" in prices:  # node-based (ElastiCache)
        row = next((r for r in rows if float(r["memory_gib"]) >= size), None)
        if row is None:
            est.error(pointer("components", component.name, "online", "size_gb"), f"no cache node type holds {size} GB in the pricing data")
            return None
        nodes = int(prices["nodes"])
        monthly = nodes * est.hours * float(row["hourly"])
        online_detail = f"online store {nodes} x {row['type']} x {_num(est.hours)} h x ${_num(float(row['hourly']))}/h"
    else:  # capacity-based (Memorystore)
        row = next((r for r in rows if int(r["max_gb"]) >= size), None)
        if row is None:
            est.error(
                pointer("components", component.name, "online", "size_gb"), f"no Memorystore tier holds {size} GB in the pricing data"
            )
            return None
        monthly = size * est.hours * float(row["gb_hour"])
        online_detail = f"online store {size} GB ({row['tier']}) x {_num(est.hours)} h x ${_num(float(row['gb_hour']))}/GB-h"
    materialize = fs.materialize(component)
    hours = float(materialize["hours_per_month"])
    share, how = est.vcpu_share({"resources": materialize.get("resources") or {}})
    monthly += hours * share * est.prices.per_vcpu_hour()
    return monthly, f"{online_detail}; materialisation {_num(hours)} h x {how}"
