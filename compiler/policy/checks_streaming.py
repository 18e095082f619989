"""Streaming checks: pii streams (and pii feature stores' online stores, MLC-SEC-062) stay encrypted
with their key, and streams keep events no longer than
the compliance frameworks allow (MLC-SEC-060/061); stream jobs on spot checkpoint, often
(MLC-REL-060/061). Limits are documented in docs/streaming.md.
"""

from __future__ import annotations

from collections.abc import Iterator

from compiler.model.environment import Component, Environment
from compiler.model.kinds import Trait
from compiler.plan.compiled import Compiled
from compiler.policy.hits import Hit, describe_lineage, fix_at
from compiler.providers.registry import provider_of

#: The longest a stream carrying pii may keep events, per compliance framework (hours). mlc's
#: defaults, not legal advice: a stream is transport; data kept longer belongs in a store with
#: lifecycle expiry. The strictest framework of the environment applies.
PII_RETENTION_HOURS = {"gdpr": 168, "hipaa": 168, "pci-dss": 24, "soc2": 720, "iso27001": 720}
SPOT_CHECKPOINT_SECONDS = 60  # a spot node gets a 2-minute (AWS) / 30-second (GCP) notice


def _pii_streams(compiled: Compiled) -> Iterator[Component]:
    for stream in compiled.env.with_trait(Trait.STREAM):
        if compiled.graph.lineage[stream.name].effective == "pii":
            yield stream


def _encryption_overrides(compiled: Compiled, trait: Trait, resource: tuple[str, tuple[str, ...]] | None, what: str) -> Iterator[Hit]:
    """Terraform overrides setting an encryption / authentication attribute of the resource of
    a component with `trait` that carries pii (by its classification or what flows into it)."""
    env = compiled.env
    if resource is None:
        return
    rtype, attributes = resource
    overrides = (env.spec.get("overrides") or {}).get("terraform") or []
    for component in env.with_trait(trait):
        if compiled.graph.lineage[component.name].effective != "pii":
            continue
        address = f"{rtype}.{component.name.replace('-', '_')}"
        for index, entry in enumerate(overrides):
            if not isinstance(entry, dict) or entry.get("address") != address:
                continue
            for attribute in attributes:
                if attribute in (entry.get("set") or {}):
                    yield Hit(
                        component.name,
                        f"/overrides/terraform/{index}/set/{attribute}",
                        f"override changes {attribute} of {address}, which carries pii data "
                        f"({describe_lineage(env, compiled.graph.lineage[component.name])}): {what}",
                        key=True,
                    )


def pii_stream_unencrypted(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-060: a Terraform override on a pii stream's resource changes its encryption."""
    resource = provider_of(compiled.env).stream_resource
    yield from _encryption_overrides(compiled, Trait.STREAM, resource, "it must stay encrypted with its own key")


def pii_online_store_unprotected(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-062: a Terraform override on a pii feature store's online store changes its
    encryption (at rest, in transit) or its authentication."""
    resource = provider_of(compiled.env).feature_online_resource
    what = "its online store must stay encrypted with its own key, over TLS, with AUTH"
    yield from _encryption_overrides(compiled, Trait.FEATURE_STORE, resource, what)


def _limit(env: Environment) -> tuple[int, str] | None:
    frameworks = [f for f in (env.spec.get("compliance") or {}).get("frameworks") or [] if f in PII_RETENTION_HOURS]
    if not frameworks:
        return None
    strictest = min(frameworks, key=lambda f: (PII_RETENTION_HOURS[f], f))
    return PII_RETENTION_HOURS[strictest], strictest


def pii_stream_retention(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-061: retention_hours of a pii stream within the strictest framework's limit."""
    env = compiled.env
    limit = _limit(env)
    if limit is None:
        return
    hours, framework = limit
    for stream in _pii_streams(compiled):
        kept = int(stream.spec["retention_hours"])
        if kept > hours:
            yield fix_at(
                stream.name,
                env,
                f"{stream.pointer}/retention_hours",
                f"stream carries pii data and keeps it {kept} h; {framework} allows at most {hours} h in a stream",
            )


def _on_spot(env: Environment, job: Component) -> str | None:
    """The pointer that puts the job on spot capacity (its flag or its spot node pool), if any."""
    if job.get("spot"):
        return f"{job.pointer}/spot"
    pool = job.get("node_pool")
    if pool and (env.spec["cluster"].get("node_pools") or {}).get(pool, {}).get("spot"):
        return f"{job.pointer}/node_pool"
    return None


def _stream_jobs(env: Environment) -> Iterator[Component]:
    return env.of_type("stream_job")


def spot_stream_job_without_checkpoint(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-060."""
    env = compiled.env
    for job in _stream_jobs(env):
        at = _on_spot(env, job)
        if at is not None and not job.get("checkpoint_to"):
            yield Hit(job.name, at, "stream job runs on spot capacity without checkpoint_to: a reclaimed node loses its state")


def spot_stream_job_checkpoints_rarely(compiled: Compiled) -> Iterator[Hit]:
    """MLC-REL-061."""
    env = compiled.env
    for job in _stream_jobs(env):
        interval = int(job.spec["checkpoint_interval_seconds"])
        if _on_spot(env, job) is not None and job.get("checkpoint_to") and interval > SPOT_CHECKPOINT_SECONDS:
            yield fix_at(
                job.name,
                env,
                f"{job.pointer}/checkpoint_interval_seconds",
                f"stream job on spot checkpoints every {interval} s; "
                f"more than {SPOT_CHECKPOINT_SECONDS} s of work is replayed after each reclaim",
            )
