"""Reliability checks (MLC-REL-*): spot safety, SLOs, monitoring, production floors, pipelines."""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.plan.capacity import nodes_needed
from compiler.plan.compiled import Compiled
from compiler.policy.hits import Hit, fix_at, is_prod


def _pool(env: Environment, component: Component) -> dict:
    name = component.get("node_pool")
    pools = env.spec["cluster"].get("node_pools") or {}
    return pools.get(name) or {} if name else {}


def spot_training_without_checkpoint(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-001: spot (own flag or a spot node pool) and no checkpoint_to."""
    env = compiled.env
    for job in env.of_type("training_job"):
        if job.get("checkpoint_to"):
            continue
        if job.get("spot"):
            yield Hit(
                job.name,
                f"{job.pointer}/spot",
                "training runs on spot capacity without checkpoint_to: an interruption restarts it from scratch",
            )
        elif _pool(env, job).get("spot"):
            yield Hit(
                job.name,
                f"{job.pointer}/node_pool",
                f'training runs on spot node pool "{job.get("node_pool")}" without checkpoint_to: an interruption restarts it from scratch',
            )


def checkpoints_outlive_run(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-002: the checkpoint store's lifecycle expires/archives sooner than max_runtime_hours."""
    env = compiled.env
    for job in env.of_type("training_job"):
        store_name, hours = job.get("checkpoint_to"), job.get("max_runtime_hours")
        if not store_name or store_name not in env.components or hours is None:
            continue
        lifecycle = env.components[store_name].get("lifecycle") or {}
        for field, verb in (("expire_after_days", "expires"), ("archive_after_days", "archives")):
            days = lifecycle.get(field)
            if days is not None and days * 24 < hours:
                yield Hit(
                    job.name,
                    f"{job.pointer}/checkpoint_to",
                    f'checkpoint store "{store_name}" {verb} objects after {days} day(s), '
                    f"sooner than max_runtime_hours {hours:g}: a resumed run may find no checkpoint",
                )


def serving_without_slo(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-003."""
    for serving in compiled.env.of_type("serving"):
        if not serving.get("slo"):
            yield Hit(serving.name, serving.pointer, "serving endpoint declares no slo", key=True)


def _monitored(compiled: Compiled) -> dict[str, list[str]]:
    """workload -> monitoring components targeting it."""
    out: dict[str, list[str]] = {}
    for edge in compiled.graph.edges_of("monitors"):
        out.setdefault(edge.source, []).append(edge.target)
    return out


def serving_unmonitored(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-004."""
    monitored = _monitored(compiled)
    for serving in compiled.env.of_type("serving"):
        if serving.name not in monitored:
            yield Hit(serving.name, serving.pointer, "no monitoring component targets this endpoint", key=True)


def prod_serving_single_replica(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-005."""
    env = compiled.env
    if not is_prod(env):
        return
    for serving in env.of_type("serving"):
        low = int(serving.spec["replicas"]["min"])
        if low < 2:
            yield fix_at(
                serving.name,
                env,
                f"{serving.pointer}/replicas/min",
                f"production endpoint runs replicas.min {low}; at least 2 are required",
            )


def prod_database_single_az(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-006."""
    env = compiled.env
    if not is_prod(env):
        return
    for db in env.of_type("database"):
        if not db.get("multi_az"):
            yield fix_at(db.name, env, f"{db.pointer}/multi_az", "production database is not multi-AZ")


def prod_database_short_backups(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-007."""
    env = compiled.env
    if not is_prod(env):
        return
    for db in env.of_type("database"):
        days = int(db.spec["backup_retention_days"])
        if days < 7:
            yield fix_at(
                db.name,
                env,
                f"{db.pointer}/backup_retention_days",
                f"production database keeps {days} day(s) of backups; at least 7 are required",
            )


def _on_spot(env: Environment, component: Component) -> bool:
    return bool(component.get("spot")) or bool(_pool(env, component).get("spot"))


def spot_pipeline_without_retries(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-008: a pipeline with a step on spot capacity and retries 0."""
    env = compiled.env
    for pipeline in env.of_type("pipeline"):
        steps = [s for s in pipeline.get("steps") or [] if s in env.components and _on_spot(env, env.components[s])]
        if steps and not pipeline.get("retries"):
            yield fix_at(
                pipeline.name,
                env,
                f"{pipeline.pointer}/retries",
                f"step(s) {', '.join(steps)} run on spot capacity but the pipeline has retries 0",
            )


def pipeline_without_failure_handler(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-009 (info)."""
    for pipeline in compiled.env.of_type("pipeline"):
        if pipeline.get("schedule") and not pipeline.get("on_failure"):
            yield Hit(pipeline.name, pipeline.pointer, "scheduled pipeline has no on_failure handler", key=True)


def failure_handler_is_step(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-010."""
    for pipeline in compiled.env.of_type("pipeline"):
        handler = pipeline.get("on_failure")
        if handler and handler in (pipeline.get("steps") or []):
            yield Hit(pipeline.name, f"{pipeline.pointer}/on_failure", f'on_failure handler "{handler}" is also a step of the pipeline')


def prod_serving_on_spot(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-011."""
    env = compiled.env
    if not is_prod(env):
        return
    for serving in env.of_type("serving"):
        if _pool(env, serving).get("spot"):
            yield Hit(
                serving.name, f"{serving.pointer}/node_pool", f'production endpoint runs on spot node pool "{serving.get("node_pool")}"'
            )


def high_availability_single_replica(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-012: outside production (where REL-005 applies)."""
    env = compiled.env
    if is_prod(env):
        return
    for serving in env.of_type("serving"):
        availability = (serving.get("slo") or {}).get("availability")
        low = int(serving.spec["replicas"]["min"])
        if availability is not None and availability >= 0.999 and low < 2:
            yield fix_at(
                serving.name,
                env,
                f"{serving.pointer}/replicas/min",
                f"availability objective {availability:g} with replicas.min {low}: one replica cannot meet it",
            )


def monitoring_without_alerts(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-013: a monitoring component targeting serving endpoints, without alerts."""
    env = compiled.env
    for monitoring in env.of_type("monitoring"):
        served = [t for t in monitoring.get("targets") or [] if t in env.components and env.components[t].has(Trait.LONG_RUNNING)]
        if served and not monitoring.get("alerts"):
            yield fix_at(
                monitoring.name, env, f"{monitoring.pointer}/alerts", f"monitors serving endpoint(s) {', '.join(served)} without alerts"
            )


def capacity_headroom(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-050: per pool, the always-on pods pinned to it plus its largest job need more
    nodes than `max`; else, the namespace GPU quota is below the largest GPU job plus every
    always-on GPU pod."""
    capacity, env = compiled.capacity, compiled.env
    pinned = [p for p in capacity.pods if len(p.pools) == 1]
    reported = False
    for name, pool in sorted(capacity.pools.items()):
        here = [p for p in pinned if p.pools[0] == name]
        always = [p.group for p in here if p.group.always_on]
        jobs = sorted({p.workload for p in here if not p.group.always_on})
        worst = max(
            ((nodes_needed(pool, always + [p.group for p in here if p.workload == job]), job) for job in jobs),
            key=lambda t: (t[0], t[1]),
            default=(nodes_needed(pool, always), ""),
        )
        if worst[0] <= pool.max:
            continue
        holders = sorted({p.workload for p in here if p.group.always_on})
        what = f"the largest job {worst[1]}" if worst[1] else "its always-on pods"
        also = f" next to the always-on {', '.join(holders)}" if holders and worst[1] else ""
        reported = True
        yield Hit(
            None,
            f"/cluster/node_pools/{name}/max",
            f'node pool "{name}" needs at least {worst[0]} nodes ({pool.instance.name}) for {what}{also}, but max is {pool.max}',
        )
    if reported:
        return
    always_gpus = sum(p.group.count * p.group.gpus for p in capacity.pods if p.group.always_on)
    runs = {p.workload for p in capacity.pods if not p.group.always_on}
    job_gpus = {j: sum(p.group.count * p.group.gpus for p in capacity.of(j)) for j in runs}
    largest = max(sorted(job_gpus), key=lambda j: job_gpus[j], default=None)
    if largest is None or not job_gpus[largest] or job_gpus[largest] + always_gpus <= capacity.gpu_quota:
        return
    job = env.components[largest]
    yield Hit(
        largest,
        f"{job.pointer}/gpus/count",
        f"{largest} needs {job_gpus[largest]} GPUs and the always-on pods hold {always_gpus}, "
        f"but the namespace GPU quota (every pool's max x GPUs per node) is {capacity.gpu_quota}",
    )
