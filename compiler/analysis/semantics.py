"""Cross-field checks the JSON Schema cannot express; each a located input error."""

from __future__ import annotations

import re

from compiler.core.diagnostics import Diagnostic
from compiler.model.environment import Environment
from compiler.model.kinds import Trait

IA_TO_ARCHIVE_MIN_DAYS = 30  # S3 keeps objects 30 days in Standard-IA before an archive tier


def lifecycle_problems(env: Environment) -> list[Diagnostic]:
    """Lifecycle tiers must come in order: infrequent, then archive (30+ days later), then expiry."""
    problems = []
    for store in env.with_trait(Trait.BUCKET):
        lifecycle = store.get("lifecycle") or {}
        infrequent, archive, expire = (lifecycle.get(k) for k in ("infrequent_after_days", "archive_after_days", "expire_after_days"))
        base = f"{store.pointer}/lifecycle"
        if infrequent is not None and archive is not None and archive < infrequent + IA_TO_ARCHIVE_MIN_DAYS:
            problems.append(
                Diagnostic(
                    env.locate(f"{base}/archive_after_days"),
                    "MLC-E045",
                    f"archive_after_days ({archive}) must be at least {IA_TO_ARCHIVE_MIN_DAYS} days "
                    f"after infrequent_after_days ({infrequent})",
                )
            )
        later = max((d for d in (infrequent, archive) if d is not None), default=None)
        if expire is not None and later is not None and expire <= later:
            problems.append(
                Diagnostic(
                    env.locate(f"{base}/expire_after_days"),
                    "MLC-E045",
                    f"expire_after_days ({expire}) must be after the last transition (day {later}); data would expire before it is moved",
                )
            )
    return problems


# --- env values that name a component -----------------------------------------------------
#: `<scheme>://<component>[/path]`: a value that names a store of the environment by its
#: component name (`s3://models/ranker`). The real bucket name is derived (naming.bucket_name),
#: so such a value is rewritten to the store's real URI, or refused when it cannot be one.
COMPONENT_URI = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)(?P<path>/.*)?\Z", re.DOTALL)


#: object-store URI schemes of every provider: only these name a store (http://ranker:8080 is a
#: service URL that happens to use a component's name, and is left alone)
STORE_SCHEMES = frozenset({"s3", "s3a", "gs", "abfs", "abfss", "wasb", "wasbs", "az"})


def component_uri(env: Environment, value: str) -> tuple[str, str, str] | None:
    """(scheme, component, path) when `value` is an object-store URI whose host is a component's name."""
    match = COMPONENT_URI.match(value)
    if match is None or match["name"] not in env.components or match["scheme"] not in STORE_SCHEMES:
        return None
    return match["scheme"], match["name"], (match["path"] or "")


def resolve_env_value(env: Environment, value: str) -> str:
    """A plain env value with a store's component name as host becomes that store's real URI
    (same scheme, same path); anything else is returned unchanged. Values that name a
    component but cannot be resolved are refused earlier by `env_reference_problems`."""
    from compiler.providers import naming

    found = component_uri(env, value)
    if found is None:
        return value
    scheme, name, path = found
    store = env.components[name]
    uri = naming.store_uri(env, store, path)
    return f"{scheme}://{uri.split('://', 1)[1]}"


def env_reference_problems(env: Environment) -> list[Diagnostic]:
    """A plain env value naming a component must name a bucket store with the provider's scheme."""
    problems: list[Diagnostic] = []
    from compiler.providers.registry import provider_of

    schemes = provider_of(env).store_schemes_read
    if not schemes:  # a provider without object stores: nothing can be named this way
        return problems
    for component in env.components.values():
        for key, value in sorted((component.get("env") or {}).items()):
            if not isinstance(value, str):
                continue
            found = component_uri(env, value)
            if found is None:
                continue
            scheme, name, _ = found
            target = env.components[name]
            message = None
            if not target.has(Trait.BUCKET):
                message = f'{key} names the component "{name}", a {target.type}, as a bucket; only object_store and data_lake have a URI'
            elif scheme not in schemes:
                wanted = " or ".join(f"{s}://" for s in schemes)
                message = f'{key} names the store "{name}" with {scheme}://, but a {env.provider} store is reached with {wanted}'
            if message:
                problems.append(Diagnostic(env.locate(f"{component.pointer}/env/{key}"), "MLC-E046", message))
    return problems


# --- scale to zero ------------------------------------------------------------------------
def scale_to_zero_problems(env: Environment) -> list[Diagnostic]:
    """`replicas.min: 0` is delivered by KServe in Knative mode (InferenceService minReplicas 0);
    an image-based serving becomes a Deployment + HorizontalPodAutoscaler, which cannot scale
    to zero (HPA minReplicas >= 1 without the alpha HPAScaleToZero gate), so it is refused."""
    problems = []
    for component in env.of_type("serving"):
        replicas = component.get("replicas") or {}
        if component.get("image") and replicas.get("min") == 0:
            problems.append(
                Diagnostic(
                    env.locate(f"{component.pointer}/replicas/min"),
                    "MLC-E047",
                    "replicas.min 0 (scale to zero) needs a KServe runtime (`runtime:`); a custom `image` runs as a Deployment "
                    "whose HorizontalPodAutoscaler keeps at least 1 replica: set min to 1 or more",
                )
            )
    return problems


# --- canaries by weight -------------------------------------------------------------------
def canary_problems(env: Environment) -> list[Diagnostic]:
    """A canary is delivered by weight (KServe: two InferenceServices and a Knative Route, see
    targets/kubernetes/serving.py). Image-based serving is a Deployment behind a ClusterIP
    Service, which balances per pod (kube-proxy, no L7 proxy: the platform mlc installs runs
    Istio without sidecar injection and no Gateway API), so a canary Deployment would get the
    replica ratio, not `traffic_percent`; it is refused at `canary` (docs/platform.md)."""
    problems = []
    for component in env.of_type("serving"):
        canary = component.get("canary")
        if component.get("image") and canary:
            percent = int(canary["traffic_percent"])
            problems.append(
                Diagnostic(
                    env.locate(f"{component.pointer}/canary"),
                    "MLC-E065",
                    f"a canary of {percent}% needs a weighted traffic split, which mlc's platform delivers only for KServe "
                    "runtimes (`runtime:`): a custom `image` runs behind a Kubernetes Service that balances per pod, so the "
                    "canary would get the replica ratio instead; serve the model with a `runtime`, or roll out by changing "
                    "`image` / `model.path`",
                )
            )
    return problems


def stream_problems(env: Environment) -> list[Diagnostic]:
    """A stream's retention must be one its provider's stream service can keep; a provider
    without a stream service mlc can emit refuses the stream at its line (MLC-E026)."""
    from compiler.providers.registry import provider_of

    limits = provider_of(env).stream_retention_hours
    problems = []
    for stream in env.with_trait(Trait.STREAM):
        hours = int(stream.spec["retention_hours"])
        if limits is None:
            message = f'stream "{stream.name}": cloud provider "{env.provider}" has no stream service mlc can emit (supported: aws, gcp)'
            problems.append(Diagnostic(env.locate(stream.pointer), "MLC-E026", message))
            continue
        if not limits[0] <= hours <= limits[1]:
            message = f"retention_hours {hours} is outside what {env.provider} streams keep ({limits[0]} to {limits[1]} hours)"
            problems.append(Diagnostic(env.locate(f"{stream.pointer}/retention_hours"), "MLC-E066", message))
    return problems


def feature_store_problems(env: Environment) -> list[Diagnostic]:
    """A feature store's online engine must be one mlc can create on the environment's cloud
    (MLC-E026 at the component, or at online.engine when the cloud has other engines)."""
    from compiler.model.kinds.feature_store import online
    from compiler.providers.registry import provider_of

    engines = provider_of(env).feature_online_engines
    problems = []
    for store in env.with_trait(Trait.FEATURE_STORE):
        engine = str(online(store)["engine"])
        if not engines:
            where = f'feature_store "{store.name}": cloud provider "{env.provider}"'
            message = f"{where} has no online store mlc can emit (supported: aws, azure, gcp)"
            problems.append(Diagnostic(env.locate(store.pointer), "MLC-E026", message))
        elif engine not in engines:
            message = (
                f'feature_store "{store.name}": online engine "{engine}" is not supported on {env.provider} '
                f"(supported: {', '.join(engines)}); "
                "Feast creates DynamoDB tables itself at `feast apply`, so mlc could not encrypt them with the environment's key"
            )
            problems.append(Diagnostic(env.locate(f"{store.pointer}/online/engine"), "MLC-E026", message))
    return problems
