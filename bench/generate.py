"""Generate a synthetic mlc project: N concrete environments of ~12 components each.

    python bench/generate.py --envs N --out DIR [--seed S]

The project looks like a real platform repository:
- abstract parents per provider and region (`aws-eu-west-1-base`, `gcp-us-central1-base`, ...)
  holding the cluster, node pools, compliance, GitOps settings and the shared stores and
  feature ETL job;
- abstract team parents (`team-search`, ...) holding the labels (team, cost-center) and the
  access groups, and one `tier-prod` parent that hardens what production needs;
- N concrete environments, each `extends: [<provider/region base>, <team>(, tier-prod)]`,
  overriding sizes and adding the team's model workloads (training, two serving variants,
  batch scoring, monitoring, pipeline).

Every component type occurs in every environment: object_store, data_lake, database,
spark_job, training_job, serving (runtime and image variants), batch_inference,
monitoring and pipeline. Both clouds occur. Files are schema-valid and written to be free
of error-level policy findings: images pinned by digest, lifecycle rules on every bucket,
SLOs and monitoring on every endpoint, production serving with replicas.min >= 2,
multi-AZ production databases with >= 7 days of backups, checkpoints for spot training,
max_runtime_hours on GPU jobs, team + cost-center labels, and a budget of 1.5x the cost
estimate (computed with compiler.plan.cost on the resolved document).

Output is a pure function of (N, seed): the same arguments give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import random
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SCHEMA_HEADER = "# yaml-language-server: $schema=../schemas/environment.schema.json\n"


@dataclass(frozen=True)
class Region:
    provider: str
    region: str
    short: str
    account: str
    allowed: tuple[str, ...]
    registry: str


REGIONS: tuple[Region, ...] = (
    Region("aws", "eu-west-1", "euw1", "123456789012", ("eu-west-1", "eu-central-1"), "123456789012.dkr.ecr.eu-west-1.amazonaws.com/ml"),
    Region("aws", "us-east-1", "use1", "210987654321", ("us-east-1", "us-west-2"), "210987654321.dkr.ecr.us-east-1.amazonaws.com/ml"),
    Region(
        "aws", "eu-central-1", "euc1", "345678901234", ("eu-central-1", "eu-west-1"), "345678901234.dkr.ecr.eu-central-1.amazonaws.com/ml"
    ),
    Region(
        "gcp",
        "europe-west4",
        "euw4",
        "ml-platform-eu-4711",
        ("europe-west4", "europe-west1"),
        "europe-docker.pkg.dev/ml-platform-eu-4711/images",
    ),
    Region(
        "gcp", "us-central1", "usc1", "ml-platform-us-0815", ("us-central1", "us-east4"), "us-docker.pkg.dev/ml-platform-us-0815/images"
    ),
    # Azure: `account` is the subscription id
    Region(
        "azure", "westeurope", "weu", "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b", ("westeurope", "northeurope"), "mlplatformweu.azurecr.io/ml"
    ),
)

# team -> (cost center, models the team serves)
TEAMS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("search", "cc-101", ("ranker", "query-embed", "spell")),
    ("ads", "cc-202", ("ctr", "bidder", "pacing")),
    ("fraud", "cc-303", ("txn-risk", "account-risk")),
    ("recs", "cc-404", ("recommender", "similar-items", "trending")),
    ("forecast", "cc-505", ("demand", "supply")),
    ("nlp", "cc-606", ("summarizer", "classifier", "ner")),
)
STAGES = ("dev", "staging", "prod")
RUNTIMES = ("sklearn", "xgboost", "pytorch", "tensorflow", "onnx", "triton", "huggingface")

# provider -> instance types that the pricing data knows
CPU_POOLS = {
    "aws": ("m6i.2xlarge", "m6i.4xlarge", "r6i.2xlarge", "c6i.4xlarge"),
    "gcp": ("n2-standard-8", "n2-standard-16", "n2-highmem-8"),
    "azure": ("Standard_D8s_v5", "Standard_D16s_v5", "Standard_E8s_v5"),
}
GPU_POOLS = {  # provider -> (pool name, instance type, GPU type, GPUs per node)
    "aws": (
        ("gpu-a10g", "g5.2xlarge", "nvidia-a10g", 1),
        ("gpu-a100", "p4d.24xlarge", "nvidia-a100", 8),
        ("gpu-l4", "g6.xlarge", "nvidia-l4", 1),
    ),
    "gcp": (("gpu-a100", "a2-highgpu-1g", "nvidia-a100", 1), ("gpu-l4", "g2-standard-8", "nvidia-l4", 1)),
    "azure": (("gpu-a100", "Standard_NC24ads_A100_v4", "nvidia-a100", 1), ("gpu-t4", "Standard_NC8as_T4_v3", "nvidia-t4", 1)),
}
DB_CLASSES = {
    "aws": ("db.t3.large", "db.m5.large", "db.r6g.large", "db.r5.xlarge"),
    "gcp": ("db-custom-2-7680", "db-custom-4-15360", "db-custom-8-30720"),
    "azure": ("GP_Standard_D2ds_v5", "GP_Standard_D4ds_v5", "GP_Standard_D8ds_v5"),
}
MEMORY = ("2Gi", "4Gi", "8Gi", "16Gi")


def digest(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def image(region: Region, name: str, version: str) -> str:
    return f"{region.registry}/{name}:{version}@sha256:{digest(region.registry, name, version)}"


def lifecycle(rng: random.Random, expire: bool) -> dict[str, int]:
    infrequent = rng.choice((30, 45, 60, 90))
    out = {"infrequent_after_days": infrequent, "archive_after_days": infrequent + rng.choice((60, 90, 180))}
    if expire:
        out["expire_after_days"] = out["archive_after_days"] + rng.choice((185, 275, 365, 730))
    return out


# ------------------------------------------------------------------------- abstract parents


def cloud_of(region: Region) -> dict[str, str]:
    if region.provider == "azure":
        return {"provider": "azure", "region": region.region, "subscription": region.account, "resource_group": f"ml-{region.short}"}
    return {"provider": region.provider, "region": region.region, "account": region.account}


def region_base(region: Region, rng: random.Random) -> dict[str, Any]:
    """Cluster, node pools, compliance and the shared stores + feature ETL of one region."""
    gpu_pools = {
        name: {"instance_type": itype, "min": 0, "max": rng.choice((8, 12, 16)), "spot": True}
        for name, itype, _, _ in GPU_POOLS[region.provider]
    }
    return {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": f"{region.provider}-{region.region}-base", "labels": {"platform": "ml", "cloud": region.provider}},
        "abstract": True,
        "cloud": cloud_of(region),
        "cluster": {
            "name": f"ml-{region.short}",
            "node_pools": {"cpu": {"instance_type": CPU_POOLS[region.provider][0], "min": 1, "max": 10}, **gpu_pools},
        },
        "gitops": {"repo": "https://git.example.com/ml/platform.git", "revision": "main"},
        "budget": {"monthly_usd": 20000, "warn_ratio": 0.8},
        "compliance": {
            "allowed_regions": list(region.allowed),
            "frameworks": ["gdpr", "soc2"] if region.region.startswith("eu") else ["soc2"],
        },
        "access": [{"group": "ml-platform-oncall", "role": "admin"}, {"group": "data-analysts", "role": "viewer"}],
        "components": {
            "raw-events": {
                "type": "object_store",
                "classification": "confidential",
                "size_gb": 2000,
                "lifecycle": {"infrequent_after_days": 30, "archive_after_days": 90, "expire_after_days": 365},
            },
            "features": {
                "type": "data_lake",
                "classification": "confidential",
                "format": "delta",
                "size_gb": 500,
                "lifecycle": {"infrequent_after_days": 60, "archive_after_days": 180},
            },
            "models": {
                "type": "object_store",
                "classification": "confidential",
                "size_gb": 200,
                "lifecycle": {"infrequent_after_days": 90},
            },
            "predictions": {
                "type": "object_store",
                "classification": "confidential",
                "size_gb": 100,
                "lifecycle": {"infrequent_after_days": 30, "archive_after_days": 90, "expire_after_days": 400},
            },
            "metadata-db": {
                "type": "database",
                "engine": "postgres",
                "version": "16",
                "instance_class": DB_CLASSES[region.provider][0],
                "storage_gb": 100,
                "backup_retention_days": 7,
            },
            "feature-etl": {
                "type": "spark_job",
                "image": image(region, "feature-etl", "1.4.2"),
                "main": "local:///opt/app/etl.py",
                "args": ["--mode", "incremental", "--region", region.region],
                "reads": ["raw-events"],
                "writes": ["features"],
                "driver": {"cores": 1, "memory": "4Gi"},
                "executors": {"instances": 4, "cores": 2, "memory": "8Gi"},
                "schedule": "15 */6 * * *",
                "hours_per_month": 60,
                "env": {"LOG_LEVEL": "info", "WAREHOUSE_TOKEN": {"secret": "ml/etl/warehouse#token"}},
            },
        },
    }


def team_parent(team: str, cost_center: str) -> dict[str, Any]:
    return {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": f"team-{team}", "labels": {"team": team, "cost-center": cost_center}},
        "abstract": True,
        "access": [
            {"group": f"{team}-engineers", "role": "editor"},
            {"group": "data-analysts", "role": "viewer"},
            {"group": "ml-platform-oncall", "role": "admin"},
        ],
    }


def tier_prod() -> dict[str, Any]:
    return {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": "tier-prod", "labels": {"env": "prod", "tier": "critical"}},
        "abstract": True,
        "cluster": {"node_pools": {"cpu": {"min": 3, "max": 30}}},
        "components": {
            "metadata-db": {"multi_az": True, "backup_retention_days": 14},
            "feature-etl": {"dynamic_allocation": {"min": 4, "max": 16}},
        },
    }


# ------------------------------------------------------------------------- concrete environments


def environment(
    name: str, index: int, region: Region, team: str, models: tuple[str, ...], stage: str, rng: random.Random
) -> dict[str, Any]:
    """One concrete environment: overrides of the parents plus the team's model workloads."""
    prod = stage == "prod"
    model = models[index % len(models)]
    scale = {"dev": 0.1, "staging": 0.4, "prod": 1.0}[stage] * rng.choice((0.5, 1.0, 1.5, 2.0, 3.0))
    pool_name, _, gpu_type, gpus_per_node = rng.choice(GPU_POOLS[region.provider])
    gpu_count = min(gpus_per_node, rng.choice((1, 2, 4, 8)))
    nodes = rng.choice((1, 1, 2, 4)) if stage != "dev" else 1
    runtime = RUNTIMES[index % len(RUNTIMES)]
    version = f"{rng.randint(1, 4)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
    min_replicas = rng.choice((2, 3, 4)) if prod else 1
    parents = [f"{region.provider}-{region.region}-base", f"team-{team}"] + (["tier-prod"] if prod else [])
    train = f"train-{model}"
    serve, fallback, batch = f"{model}-serving", f"{model}-fallback", f"{model}-batch"
    env: dict[str, Any] = {
        "apiVersion": "mlc/v1",
        "kind": "Environment",
        "metadata": {"name": name, "labels": {"env": stage} if not prod else {"service": model}},
        "extends": parents,
        "cluster": {
            "name": f"ml-{region.short}-{stage}",
            "namespace": f"{team}-{stage}-{index:04d}",
            "node_pools": {"cpu": {"instance_type": rng.choice(CPU_POOLS[region.provider])}},
        },
        "components": {
            "raw-events": {"size_gb": max(10, int(2000 * scale))},
            "features": {"size_gb": max(10, int(500 * scale)), "format": rng.choice(("parquet", "delta", "iceberg"))},
            "models": {"size_gb": max(10, int(200 * scale))},
            "metadata-db": {"instance_class": rng.choice(DB_CLASSES[region.provider]), "storage_gb": max(20, int(300 * scale))},
            "feature-etl": {
                "executors": {"instances": max(1, int(8 * scale)), "cores": rng.choice((2, 4)), "memory": rng.choice(("8Gi", "16Gi"))},
                "hours_per_month": max(5, int(90 * scale)),
            },
            train: {
                "type": "training_job",
                "image": image(region, f"{model}-train", version),
                "command": ["python", "-m", f"{model.replace('-', '_')}.train", "--epochs", str(rng.choice((5, 10, 20)))],
                "reads": ["features"],
                "writes": ["models"],
                "checkpoint_to": "models",
                "gpus": {"type": gpu_type, "count": gpu_count},
                "nodes": nodes,
                "node_pool": pool_name,
                "spot": True,
                "max_runtime_hours": rng.choice((6, 12, 24, 48)),
                "hours_per_month": max(2, int(rng.choice((20, 40, 80)) * scale)),
                # fits one node of the smallest GPU pool (g6.xlarge: 3.92 CPU, 14.5 GiB allocatable)
                "resources": {"cpu": rng.choice((2, 3)), "memory": rng.choice(("8Gi", "12Gi"))},
                "env": {"WANDB_PROJECT": f"{team}-{model}", "WANDB_API_KEY": {"secret": f"{team}/wandb#api-key"}},
            },
            serve: {
                "type": "serving",
                "model": {"from": "models", "path": f"{model}/v{rng.randint(1, 40)}"},
                "runtime": runtime,
                "replicas": {"min": min_replicas, "max": min_replicas * rng.choice((2, 3, 4))},
                "autoscaling": {"metric": "concurrency", "target": rng.choice((10, 20, 50))},
                "resources": {"cpu": rng.choice((1, 2, 4)), "memory": rng.choice(MEMORY)},
                "slo": {"latency_p99_ms": rng.choice((50, 100, 150, 300)), "availability": 0.999 if prod else 0.99},
            },
            fallback: {
                "type": "serving",
                "model": {"from": "models", "path": f"{model}/baseline"},
                "image": image(region, f"{model}-fallback", version),
                "replicas": {"min": 2 if prod else 1, "max": 6},
                "autoscaling": {"metric": "cpu", "target": 70},
                "resources": {"cpu": 1, "memory": "2Gi"},
                "slo": {"latency_p99_ms": 300, "availability": 0.99},
                "env": {"MODEL_NAME": model, "LOG_LEVEL": "warning"},
            },
            batch: {
                "type": "batch_inference",
                "model": {"from": "models", "path": f"{model}/v{rng.randint(1, 40)}"},
                "image": image(region, f"{model}-batch", version),
                "command": ["python", "-m", f"{model.replace('-', '_')}.batch"],
                "reads": ["features"],
                "writes": ["predictions"],
                "hours_per_month": max(1, int(30 * scale)),
                "resources": {"cpu": 2, "memory": "8Gi"},
            },
            f"{model}-monitoring": {
                "type": "monitoring",
                "targets": [serve, fallback, batch],
                "alerts": {"latency_p99_ms": 400, "error_rate": 0.01, "drift_threshold": 0.2},
                "image": image(region, "mlc-monitor", version),  # runs the drift detectors
                "retention_days": 90 if prod else 30,
            },
            f"{model}-nightly": {
                "type": "pipeline",
                "steps": [train, batch],
                "schedule": f"{rng.randint(0, 59)} {rng.randint(0, 5)} * * *",
                "retries": 2,
            },
        },
    }
    if stage == "staging" and runtime != "triton":
        env["components"][serve]["canary"] = {"path": f"{model}/candidate", "traffic_percent": 10}
    if index % 5 == 0:  # some environments carry one extra store, exported by batch scoring
        env["components"]["exports"] = {
            "type": "object_store",
            "classification": "confidential",
            "size_gb": 50,
            "lifecycle": lifecycle(rng, expire=True),
        }
        env["components"][batch]["writes"] = ["predictions", "exports"]
    return env


def _merged(docs: list[dict[str, Any]]) -> dict[str, Any]:
    from compiler.frontend.resolve import merge

    merged: dict[str, Any] = {}
    for doc in docs:
        merged = merge(merged, doc)
    return merged


def set_budget(env: dict[str, Any], parents: dict[str, dict[str, Any]], schema: str) -> None:
    """budget.monthly_usd = 1.5x the cost estimate of the resolved environment, rounded up."""
    from compiler.model.environment import Environment, apply_defaults
    from compiler.plan.cost import estimate
    from compiler.plan.pricing import load_pricing

    spec = apply_defaults(_merged([parents[p] for p in env["extends"]] + [env]), schema)
    name = str(spec["metadata"]["name"])
    total = estimate(Environment(name, f"environments/{name}.yaml", (name,), (), spec), load_pricing()).total_usd
    env["budget"] = {"monthly_usd": int(math.ceil(total * 1.5 / 500.0) * 500) + 500}


# ------------------------------------------------------------------------- writing


def dump(doc: dict[str, Any]) -> str:
    return SCHEMA_HEADER + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False, width=200, allow_unicode=True)


def generate(envs: int, out: Path, seed: int = 1) -> dict[str, Any]:
    """Write the project into `out` (environments/ and schemas/ are replaced); returns a summary."""
    rng = random.Random(seed)
    schema_src = REPO / "schemas" / "environment.schema.json"
    env_dir = out / "environments"
    if env_dir.exists():
        shutil.rmtree(env_dir)
    env_dir.mkdir(parents=True)
    (out / "schemas").mkdir(exist_ok=True)
    shutil.copy(schema_src, out / "schemas" / "environment.schema.json")
    (out / "policies").mkdir(exist_ok=True)

    parents: dict[str, dict[str, Any]] = {}
    for region in REGIONS:
        doc = region_base(region, rng)
        parents[doc["metadata"]["name"]] = doc
    for team, cost_center, _ in TEAMS:
        parents[f"team-{team}"] = team_parent(team, cost_center)
    parents["tier-prod"] = tier_prod()

    concrete: list[tuple[str, dict[str, Any]]] = []
    for i in range(envs):
        region = REGIONS[i % len(REGIONS)]
        team, _, models = TEAMS[(i + i // len(REGIONS)) % len(TEAMS)]
        stage = STAGES[i % len(STAGES)]
        name = f"{team}-{stage}-{region.short}-{i:04d}"
        doc = environment(name, i, region, team, models, stage, rng)
        set_budget(doc, parents, str(schema_src))
        concrete.append((name, doc))

    for name, doc in list(parents.items()) + concrete:
        (env_dir / f"{name}.yaml").write_text(dump(doc), encoding="utf-8")
    components = sum(len(_merged([parents[p] for p in d["extends"]] + [d])["components"]) for _, d in concrete)
    return {
        "environments": envs,
        "abstract_parents": len(parents),
        "components": components,
        "providers": sorted({r.provider for r in REGIONS[: max(1, min(envs, len(REGIONS)))]}),
        "shared_parent": f"{REGIONS[0].provider}-{REGIONS[0].region}-base",
        "sample_env": concrete[0][0] if concrete else None,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--envs", type=int, required=True, help="number of concrete environments")
    ap.add_argument("--out", type=Path, required=True, help="project directory to (re)generate")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    summary = generate(args.envs, args.out, args.seed)
    print(
        f"{summary['environments']} environments ({summary['components']} components) + "
        f"{summary['abstract_parents']} abstract parents in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
