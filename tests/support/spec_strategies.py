"""Hypothesis strategies for whole environment specs, and helpers to compile them.

`projects()` draws a project that is VALID input: every component type, references that
name components of the right kind and never form a run-order cycle (data-flow loops are
drawn: they are valid), instance types / GPU models / database classes known to the
pricing data, waivers naming waivable rules, and (often) an abstract parent with a child
that overrides fields, replaces lists and deletes an inherited component with `null`.
Policy findings are allowed (compile exits 0 or 1); input errors are not (a strategy bug,
or a compiler bug: the tests say which).

`mutations()` then breaks a valid project in the ways people and attackers do.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parent.parent.parent
TODAY = "2026-06-01"  # passed as --today: waiver expiry is relative to it
DIGEST = "@sha256:" + "0123456789abcdef" * 4

COMPONENT_NAMES = [
    "raw",
    "features",
    "models",
    "scores",
    "db",
    "etl",
    "train",
    "ranker",
    "batch",
    "watch",
    "nightly",
    "lake",
    "ckpt",
    "fallback",
    "tune",
    "report",
    "runs",
    "mlflow",
    "fleet",
    "notify",
    "embed",
    "sweep",
]
STORE_TYPES = ("object_store", "data_lake", "database")
RUNNABLE = ("spark_job", "training_job", "batch_inference", "job")


@functools.cache
def pricing() -> dict[str, Any]:
    import yaml

    return yaml.safe_load((REPO / "compiler" / "data" / "pricing.yaml").read_text())


@functools.cache
def instance_types(provider: str, gpu: bool) -> tuple[str, ...]:
    rows = pricing()[provider]["instances"]["rows"]
    return tuple(sorted(r["type"] for r in rows if (r["gpus"] > 0) == gpu))


@functools.cache
def gpu_instance_models(provider: str) -> dict[str, tuple[str, ...]]:
    """GPU type (nvidia-...) -> instance types of `provider` carrying it."""
    rows = pricing()[provider]["instances"]["rows"]
    out: dict[str, tuple[str, ...]] = {}
    for gpu_type, models in pricing()["gpu_models"].items():
        found = tuple(sorted(r["type"] for r in rows if r.get("gpu_model") in models))
        if found:
            out[gpu_type] = found
    return out


@functools.cache
def database_classes(provider: str, engine: str) -> tuple[str, ...]:
    rows = pricing()[provider]["databases"]["rows"]
    return tuple(sorted({r["class"] for r in rows if r["engine"] in (engine, "any")}))


@functools.cache
def waivable_rules() -> tuple[str, ...]:
    from compiler.policy.catalog import CATALOG

    return tuple(r.id for r in CATALOG if r.waivable)


def fast(examples: int) -> settings:
    """Modest example counts, no deadline: the whole suite must stay fast on 2 cores."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- small value strategies ---------------------------------------------------------------
label_value = st.from_regex(r"\A[A-Za-z0-9]([-A-Za-z0-9_.]{0,10}[A-Za-z0-9])?\Z")
word = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.=/:", min_size=1, max_size=12)
free_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)  # short: never high-entropy
env_key = st.from_regex(r"\A[A-Z][A-Z0-9_]{0,10}\Z").filter(
    lambda k: not any(w in k for w in ("TOKEN", "SECRET", "PASS", "KEY", "PWD", "CRED", "AUTH"))
)
memory = st.sampled_from(["512Mi", "1Gi", "2Gi", "4Gi", "8Gi", "16Gi"])
cpu = st.sampled_from([0.5, 1, 2, 4, "500m", "250m", "1.5"])
gpu_pod_memory = st.sampled_from(["512Mi", "1Gi", "2Gi", "4Gi", "8Gi"])  # fits a 16 GiB GPU node
gpu_pod_cpu = st.sampled_from([0.5, 1, 2, "500m", "1.5"])  # fits a 4 vCPU GPU node
cron = st.sampled_from(["30 1 * * *", "0 */6 * * *", "@daily", "@hourly", "0 3 * * 1", "15 4 1 * *"])
object_path = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9._/=-]{0,20}\Z")


def image(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(
        [f"registry.example.com/ml/{name}:1.0{DIGEST}", f"ghcr.io/acme/{name}:v2{DIGEST}", f"registry.example.com:5000/{name}{DIGEST}"]
    )


@st.composite
def labels(draw: Any) -> dict[str, str]:
    keys = draw(st.lists(st.sampled_from(["team", "tier", "owner", "app.example.com/part", "cost-center"]), unique=True, max_size=3))
    return {k: draw(label_value) for k in keys}


@st.composite
def env_vars(draw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in draw(st.lists(env_key, unique=True, max_size=3)):
        out[key] = draw(
            st.one_of(
                free_text,
                st.builds(
                    lambda p, k: {"secret": f"{p}#{k}"},
                    st.from_regex(r"\Aml/[a-z]{1,8}/[a-z]{1,8}\Z"),
                    st.from_regex(r"\A[a-z][a-z_-]{0,8}\Z"),
                ),
            )
        )
    return out


# --- a whole environment ----------------------------------------------------------------
@st.composite
def environment(draw: Any, name: str, provider: str | None = None) -> dict[str, Any]:
    """A complete, valid environment document (plain data) named `name`."""
    provider = provider or draw(st.sampled_from(["aws", "gcp", "azure"]))
    if provider == "aws":
        cloud = {"provider": "aws", "region": draw(st.sampled_from(["eu-west-1", "eu-central-1", "us-east-1"])), "account": "123456789012"}
    elif provider == "azure":
        cloud = {
            "provider": "azure",
            "region": draw(st.sampled_from(["westeurope", "swedencentral", "brazilsouth", "qatarcentral"])),
            "subscription": "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
            "resource_group": draw(st.sampled_from(["ml-prod", "rg_ML.data(1)"])),
        }
    else:
        cloud = {"provider": "gcp", "region": draw(st.sampled_from(["europe-west4", "us-central1"])), "account": "ml-research-4711"}
    pools: dict[str, Any] = {
        "cpu": {"instance_type": draw(st.sampled_from(instance_types(provider, False))), "min": 1, "max": draw(st.integers(1, 20))}
    }
    gpu_types = gpu_instance_models(provider)
    gpu_type = draw(st.sampled_from(sorted(gpu_types)))
    confidential = [i for i in instance_types(provider, False) if i.startswith(("m6a.", "n2d-"))]
    if confidential and draw(st.booleans()):
        pools["secure"] = {"instance_type": draw(st.sampled_from(confidential)), "min": 0, "max": 2, "confidential": True}
    if draw(st.booleans()):
        pools["gpu"] = {
            "instance_type": draw(st.sampled_from(gpu_types[gpu_type])),
            "min": 0,
            "max": draw(st.integers(1, 4)),
            "spot": draw(st.booleans()),
        }
    spec: dict[str, Any] = {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": name, "labels": draw(labels())},
        "cloud": cloud,
        "cluster": {"name": draw(st.sampled_from(["c1", "ml-shared", "gke-1"])), "node_pools": pools},
        "gitops": {"repo": "https://git.example.com/ml/platform.git", "revision": draw(st.sampled_from(["main", "release/1.2", "v1.0.0"]))},
        "budget": {"monthly_usd": 10_000_000, "warn_ratio": 0.99},
        "compliance": {
            "allowed_regions": [cloud["region"], *draw(st.lists(st.sampled_from(["northeurope", "swedensouth", "us-east-2"]), max_size=1))],
            "frameworks": draw(st.lists(st.sampled_from(["gdpr", "soc2", "hipaa"]), unique=True, max_size=2)),
        },
        "access": [
            {"group": g, "role": r}
            for g, r in draw(
                st.dictionaries(
                    st.sampled_from(["ml-engineers", "analysts", "oncall", "x@example.com"]),
                    st.sampled_from(["viewer", "editor", "admin"]),
                    max_size=3,
                )
            ).items()
        ],
        "components": draw(components(provider, gpu_type, "gpu" in pools)),
    }
    if draw(st.booleans()):
        spec["cluster"]["namespace"] = f"ns-{name}"
    waivers = draw(
        st.lists(st.tuples(st.sampled_from(waivable_rules()), st.sampled_from([None, *spec["components"]])), max_size=2, unique=True)
    )
    if waivers:
        spec["exceptions"] = [
            {
                "rule": rule,
                **({"component": comp} if comp else {}),
                "reason": draw(st.sampled_from(["reviewed by the platform team", "mirror of open data, approved"])),
                "expires": "2027-03-01",
            }
            for rule, comp in waivers
        ]
    return spec


@st.composite
def components(draw: Any, provider: str, gpu_type: str, gpu_pool: bool) -> dict[str, Any]:
    """Stores first, then workloads (`after` only on earlier ones, so run order is acyclic;
    data flow may loop: a workload may write a store an earlier one reads), then monitoring
    and pipelines (whose steps' data flow is kept acyclic: a loop within one run is an error)."""
    names = iter(draw(st.permutations(COMPONENT_NAMES)))
    out: dict[str, Any] = {}
    stores: dict[str, str] = {}
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(STORE_TYPES))
        name = next(names)
        stores[name] = kind
        body: dict[str, Any] = {"type": kind, "classification": draw(st.sampled_from(["public", "internal", "confidential"]))}
        if kind == "database":
            engine = draw(st.sampled_from(["postgres", "mysql"]))
            body.update(
                engine=engine,
                instance_class=draw(st.sampled_from(database_classes(provider, engine))),
                storage_gb=draw(st.integers(20, 500)),
                multi_az=True,
                backup_retention_days=draw(st.integers(7, 35)),
            )
        else:
            body.update(size_gb=draw(st.integers(0, 5000)), lifecycle={"expire_after_days": draw(st.integers(30, 3650))}, versioning=True)
            if kind == "data_lake":
                body.update(format=draw(st.sampled_from(["parquet", "delta", "iceberg"])), catalog=draw(st.booleans()))
        if draw(st.booleans()):
            body["labels"] = draw(labels())
        out[name] = body
    buckets = [n for n, k in stores.items() if k != "database"]
    workloads: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(("spark_job", "training_job", "serving", "batch_inference", "job")))
        if kind in ("serving", "batch_inference") and not buckets:
            kind = "spark_job"
        name = next(names)
        reads = draw(st.lists(st.sampled_from(sorted(stores)), unique=True, max_size=2))
        writes = draw(st.lists(st.sampled_from(sorted(stores)), unique=True, max_size=2))
        body = {
            "type": kind,
            "reads": reads,
            "writes": writes,
            "resources": {"cpu": draw(cpu), "memory": draw(memory)},
            "env": draw(env_vars()),
        }
        if workloads and draw(st.booleans()):
            body["after"] = draw(st.lists(st.sampled_from(workloads), unique=True, min_size=1, max_size=2))
        if kind == "spark_job":
            body.update(
                image=draw(image(name)),
                main=f"local:///opt/app/{name}.py",
                args=draw(st.lists(free_text, max_size=3)),
                driver={"cores": 1, "memory": draw(memory)},
                executors={"instances": draw(st.integers(1, 8)), "cores": draw(st.integers(1, 4)), "memory": draw(memory)},
                hours_per_month=draw(st.integers(0, 100)),
                spot=draw(st.booleans()),
            )
            if draw(st.booleans()):
                body["dynamic_allocation"] = {"min": 1, "max": draw(st.integers(2, 10))}
        elif kind == "training_job":
            body.update(
                image=draw(image(name)),
                command=draw(st.lists(free_text, min_size=1, max_size=3)),
                nodes=draw(st.integers(1, 4)),
                max_runtime_hours=draw(st.integers(1, 48)),
                hours_per_month=draw(st.integers(0, 100)),
            )
            if gpu_pool:
                # pinned to the GPU pool: the pod must fit its smallest node (capacity model, MLC-E061)
                body.update(gpus={"type": gpu_type, "count": 1}, node_pool="gpu")
                body["resources"] = {"cpu": draw(gpu_pod_cpu), "memory": draw(gpu_pod_memory)}
            if buckets and draw(st.booleans()):
                body["checkpoint_to"] = draw(st.sampled_from(buckets))
            body["framework"] = draw(st.sampled_from(["pytorch", "ray"]))
        elif kind == "job":
            body.update(
                image=draw(image(name)),
                command=draw(st.lists(free_text, min_size=1, max_size=3)),
                max_runtime_hours=draw(st.integers(1, 12)),
                hours_per_month=draw(st.integers(0, 50)),
            )
        elif kind == "serving":
            body.pop("writes")
            body.pop("reads")
            body["model"] = {"from": draw(st.sampled_from(buckets)), "path": draw(object_path)}
            if draw(st.booleans()):
                body["runtime"] = draw(st.sampled_from(["sklearn", "xgboost", "pytorch", "tensorflow", "onnx", "triton", "huggingface"]))
            else:
                body["image"] = draw(image(name))
            body.update(
                replicas={"min": 2, "max": draw(st.integers(2, 10))},
                autoscaling={"metric": draw(st.sampled_from(["cpu", "concurrency", "rps"])), "target": draw(st.integers(1, 100))},
                slo={"latency_p99_ms": draw(st.integers(10, 2000)), "availability": 0.99},
            )
            if "runtime" in body and draw(st.booleans()):  # by weight only on KServe (image-based: MLC-E065)
                body["canary"] = {"path": draw(object_path), "traffic_percent": draw(st.integers(1, 99))}
        else:  # batch_inference
            body["model"] = {"from": draw(st.sampled_from(buckets)), "path": draw(object_path)}
            body.update(
                image=draw(image(name)), command=draw(st.lists(free_text, min_size=1, max_size=3)), hours_per_month=draw(st.integers(0, 50))
            )
        if kind in ("training_job", "batch_inference", "spark_job", "job") and draw(st.booleans()):
            body["schedule"] = draw(cron)
        out[name] = body
        workloads.append(name)
    databases = [n for n, k in stores.items() if k == "database"]
    clients = [w for w in workloads if out[w]["type"] in ("training_job", "job")]
    if databases and clients and draw(st.booleans()):  # MLflow on a database and its own artifact store
        artifacts, server = next(names), next(names)
        out[artifacts] = {"type": "object_store", "size_gb": 10, "lifecycle": {"expire_after_days": 365}, "versioning": True}
        out[server] = {"type": "tracking_server", "image": draw(image(server)), "database": draw(st.sampled_from(databases))}
        out[server].update(artifacts=artifacts, replicas=draw(st.integers(1, 3)))
        for client in draw(st.lists(st.sampled_from(clients), unique=True, min_size=1, max_size=2)):
            out[client]["tracking"] = server
    trials = [w for w in workloads if out[w]["type"] == "training_job" and out[w]["framework"] == "pytorch" and "gpus" not in out[w]]
    if trials and draw(st.booleans()):
        out[next(names)] = {
            "type": "tuning_job",
            "trial": draw(st.sampled_from(trials)),
            "objective": {"metric": "val_loss", "goal": draw(st.sampled_from(["minimize", "maximize"]))},
            "algorithm": draw(st.sampled_from(["random", "grid", "bayesianoptimization", "tpe", "hyperband"])),
            "parameters": {"lr": {"min": 0.0001, "max": 0.1, "scale": "log"}, "layers": {"min": 1, "max": 8, "type": "int"}},
            "max_trials": draw(st.integers(2, 20)),
            "parallel_trials": draw(st.integers(1, 2)),
        }
    if provider == "aws" and buckets and draw(st.booleans()):
        out[next(names)] = {
            "type": "edge_deployment",
            "image": draw(image("edge")),
            "runtime": draw(st.sampled_from(["onnx", "tflite", "triton"])),
            "model": {"from": draw(st.sampled_from(buckets)), "path": draw(object_path)},
            "fleet": {"cluster_labels": {"fleet": draw(st.sampled_from(["shops", "plants"]))}},
            "rollout": {"max_unavailable_percent": draw(st.integers(1, 100))},
        }
    runnable = [w for w in workloads if out[w]["type"] in RUNNABLE]
    if draw(st.booleans()):
        out[next(names)] = {
            "type": "monitoring",
            "targets": draw(st.lists(st.sampled_from(workloads), unique=True, min_size=1, max_size=3)),
            "alerts": {"latency_p99_ms": 500, "error_rate": 0.05},
            "retention_days": draw(st.integers(1, 90)),
            "dashboards": draw(st.booleans()),
        }
    if runnable and draw(st.booleans()):
        steps = _acyclic_steps(out, draw(st.lists(st.sampled_from(runnable), unique=True, min_size=1, max_size=3)))
        pipeline: dict[str, Any] = {"type": "pipeline", "steps": steps, "retries": draw(st.integers(0, 3))}
        handlers = [w for w in runnable if w not in steps]
        if handlers and draw(st.booleans()):
            pipeline["on_failure"] = draw(st.sampled_from(handlers))
        for step in steps + ([pipeline["on_failure"]] if "on_failure" in pipeline else []):
            out[step].pop("schedule", None)  # a pipeline step runs on the pipeline's schedule
        if draw(st.booleans()):
            pipeline["schedule"] = draw(cron)
        out[next(names)] = pipeline
    return out


def _acyclic_steps(out: dict[str, Any], chosen: list[str]) -> list[str]:
    """`chosen` in order, skipping a step whose data flow with the kept ones, together with
    every `after`, would make a cycle within one run."""

    def produces(name: str) -> set[str]:
        return set(out[name].get("writes") or []) | ({out[name]["checkpoint_to"]} if out[name].get("checkpoint_to") else set())

    def consumes(name: str) -> set[str]:
        model = out[name].get("model")
        return set(out[name].get("reads") or []) | ({model["from"]} if isinstance(model, dict) else set())

    after = {(first, name) for name, body in out.items() for first in body.get("after") or []}
    kept: list[str] = []
    for step in chosen:
        members = kept + [step]
        edges = after | {(a, b) for a in members for b in members if a != b and produces(a) & consumes(b)}
        reach = {m: {b for a, b in edges if a == m} for m in out}
        for _ in out:  # transitive closure, small
            reach = {m: r | {c for b in r for c in reach[b]} for m, r in reach.items()}
        if not any(m in reach[m] for m in members):
            kept.append(step)
    return kept


# --- inheritance: split a valid environment into an abstract parent and a child ------------
@st.composite
def projects(draw: Any) -> dict[str, dict[str, Any]]:
    """{env name: document} of a valid project: one environment, or a parent + child whose
    merge is a valid environment (fields overridden, lists replaced, a component deleted)."""
    full = draw(environment("e1"))
    if not draw(st.booleans()):
        return {"e1": full}
    parent = copy.deepcopy(full)
    parent["metadata"] = {"name": "base", "labels": {"team": "platform"}}
    parent["abstract"] = True
    child: dict[str, Any] = {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": "e1", "labels": dict(full["metadata"]["labels"])},
        "extends": "base",
        "components": {},
    }
    if "team" not in child["metadata"]["labels"]:
        child["metadata"]["labels"]["team"] = None  # null deletes the inherited label
    for key in ("budget", "gitops", "access"):
        if draw(st.booleans()):
            child[key] = parent.pop(key)  # only the child sets it
    # a component only the parent has, deleted by the child
    parent["components"]["obsolete"] = {"type": "object_store", "size_gb": 1}
    child["components"]["obsolete"] = None
    for name, body in full["components"].items():
        choice = draw(st.sampled_from(["inherit", "override", "child-only"]))
        if choice == "child-only":
            child["components"][name] = parent["components"].pop(name)
        elif choice == "override":
            for key in ("reads", "writes", "after", "args", "labels", "env"):
                if key in body:  # a parent decoy the child replaces (lists) or merges onto (maps)
                    parent["components"][name][key] = [] if isinstance(body[key], list) else {}
                    child["components"][name] = {key: body[key]}
                    break
    if parent.get("exceptions") and draw(st.booleans()):
        child["exceptions"] = parent.pop("exceptions")
    from compiler.frontend.resolve import merge

    merged = merge(parent, child)
    assert {k: v for k, v in merged.items() if k not in ("abstract", "extends")} == full, "strategy bug: the split does not merge back"
    return {"base": parent, "e1": child}


def _referenced(spec: dict[str, Any]) -> set[str]:
    out: set[str] = set()
    for body in spec["components"].values():
        for key in ("reads", "writes", "after", "targets", "steps"):
            out.update(body.get(key) or [])
    return out


# --- writing and compiling -------------------------------------------------------------
def to_yaml(document: dict[str, Any]) -> str:
    """YAML text whose strings are always double-quoted, so YAML 1.1 (PyYAML) and 1.2 (mlc)
    read the same types back."""
    import yaml

    class Dumper(yaml.SafeDumper):
        pass

    def quoted(dumper: Any, value: str) -> Any:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')

    Dumper.add_representer(str, quoted)
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=2**16)


def write_project(root: Path, documents: dict[str, dict[str, Any]], raw: dict[str, str] | None = None) -> Path:
    import shutil

    (root / "environments").mkdir(parents=True, exist_ok=True)
    (root / "schemas").mkdir(exist_ok=True)
    shutil.copy(REPO / "schemas" / "environment.schema.json", root / "schemas" / "environment.schema.json")
    for old in (root / "environments").glob("*.yaml"):
        old.unlink()
    for name, document in documents.items():
        (root / "environments" / f"{name}.yaml").write_text(to_yaml(document), encoding="utf-8")
    for name, text in (raw or {}).items():
        (root / "environments" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def run_main(*argv: str) -> tuple[int, str, str]:
    """compiler.cli.main in-process: (exit code, stdout, stderr)."""
    import contextlib
    import io

    from compiler.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def compile_args(root: Path, out: Path | None = None) -> list[str]:
    return ["compile", "--project", str(root), "--today", TODAY, "--no-cache", "--jobs", "1", *(["--out", str(out)] if out else [])]


def snapshot(directory: Path) -> dict[str, bytes]:
    if not directory.exists():
        return {}
    return {
        p.relative_to(directory).as_posix(): (b"-> " + str(p.readlink()).encode() if p.is_symlink() else p.read_bytes())
        for p in sorted(directory.rglob("*"))
        if p.is_file() or p.is_symlink()
    }


def emitted_files(root: Path, env: str = "e1") -> dict[str, bytes]:
    """Every file mlc would write for `env`, even when policies would block it (the emitters
    run on every valid spec): load, plan, emit, serialise; no policy gate."""
    from compiler.frontend.project import Project
    from compiler.output.writer import serialise
    from compiler.pipeline import emit_environment, plan_environment

    (resolved,) = Project.at(root).load_environments([env])
    return serialise(emit_environment(plan_environment(resolved), []))


def parse_file(path: str, data: bytes) -> Any:
    import yaml

    text = data.decode("utf-8")
    return json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
