"""Terraform (JSON syntax) for a GCP environment.

Layout of out/<env>/terraform/ (each file only when it has something to hold):

  terraform.tf.json         terraform block: required versions, pinned provider, GCS backend
  main.tf.json              provider (project, region, default labels), the project and the
                            storage/BigQuery service agents (data sources), the KMS key ring
  variables.tf.json         inputs the spec cannot know (network, node service account, ...)
  logging.tf.json           the environment's storage access-log bucket (and its key)
  store-<name>.tf.json      per store: KMS key + agent grants and the bucket (+ BigQuery
                            dataset), or the Cloud SQL instance (+ its admin secret, no version),
                            or the Pub/Sub topic and its subscriptions (gcp_streaming.py)
  identity-<name>.tf.json   per workload: service account, Workload Identity binding,
                            bucket/instance-level roles from the graph's grants
  cluster.tf.json           GKE node pools from cluster.node_pools
  budget.tf.json            Cloud Billing budget with threshold rules
  audit.tf.json             Data Access audit logs of Cloud Storage (confidential/pii data)
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds.dispatch import DispatchTable, NotApplicable
from compiler.plan.compiled import Compiled
from compiler.providers import gcp, naming
from compiler.targets.terraform.common import (
    GOOGLE_PROVIDER,
    TAINT_EFFECT,
    TERRAFORM_REQUIRED_VERSION,
    Expr,
    TfFile,
    money,
    rname,
)
from compiler.targets.terraform.emitter import TerraformEmitter
from compiler.targets.terraform.gcp_context import KEY_RING, PROJECT_NUMBER, SERVICE_AGENT_DATA, GcpContext
from compiler.targets.terraform.gcp_feature_store import feature_store_file
from compiler.targets.terraform.gcp_iam import identity_file
from compiler.targets.terraform.gcp_storage import access_log_file, bucket_store_file, database_file
from compiler.targets.terraform.gcp_streaming import stream_file

# GPU model in the pricing data -> GKE accelerator type
ACCELERATORS = {
    "A100-40GB": "nvidia-tesla-a100",
    "A100-80GB": "nvidia-a100-80gb",
    "H100": "nvidia-h100-80gb",
    "H200": "nvidia-h200-141gb",
    "L4": "nvidia-l4",
    "T4": "nvidia-tesla-t4",
    "V100": "nvidia-tesla-v100",
}


def settings_file(ctx: GcpContext) -> TfFile:
    env = ctx.env
    f = TfFile("terraform/terraform.tf.json")
    f.set(
        "terraform",
        {
            "required_version": TERRAFORM_REQUIRED_VERSION,
            "required_providers": {"google": dict(GOOGLE_PROVIDER)},
            "backend": {"gcs": {"bucket": naming.state_bucket_name(env), "prefix": env.name}},
        },
    )
    return f


def main_file(ctx: GcpContext) -> TfFile:
    f = TfFile("terraform/main.tf.json")
    f.set("provider", {"google": {"project": ctx.project, "region": ctx.region, "default_labels": ctx.default_labels()}})
    f.data("google_project", "this", {"project_id": ctx.project})
    for agent in sorted(ctx.used_agents):
        if agent in SERVICE_AGENT_DATA:
            f.data(SERVICE_AGENT_DATA[agent], "this", {"project": ctx.project})
    f.resource("google_kms_key_ring", KEY_RING, {"name": gcp.kms_key_ring(ctx.env), "location": ctx.region})
    return f


# --- node pools ----------------------------------------------------------------------------
def guest_accelerators(machine_type: str, count: int, model: str | None) -> list[dict[str, Any]]:
    """GPUs attached to a2/a3/g2 machine types (count and model: the plan's instance facts),
    with GKE-managed driver installation."""
    if not count:
        return []
    if model not in ACCELERATORS:
        raise ValueError(f"no GKE accelerator type known for GPU model {model!r} of {machine_type}")  # pricing data bug
    return [{"type": ACCELERATORS[model], "count": count, "gpu_driver_installation_config": {"gpu_driver_version": "DEFAULT"}}]


def compute_labels(ctx: GcpContext, pool_name: str) -> dict[str, str]:
    """Labels of a pool's VMs and boot disks: the environment's default labels (incl. the
    `mlc-environment` label the budget filters on) and the pool's own."""
    return dict(sorted({**ctx.default_labels(), **ctx.labels(None, **{"mlc-node-pool": pool_name})}.items()))


def zones_of(ctx: GcpContext, pool_name: str) -> dict[str, Any]:
    """node_locations of a pool whose machine family only some zones offer (the capacity model's
    zone table); nothing for the others (GKE then uses every zone of the region)."""
    pool = ctx.compiled.capacity.pools.get(pool_name)
    zones = pool.zones if pool is not None else None
    return {"node_locations": list(zones)} if zones else {}


def cluster_file(ctx: GcpContext) -> TfFile:
    """GKE node pools. GPU nodes get GKE's own nvidia.com/gpu=present:NoSchedule taint
    (naming.GPU_TAINT_KEY), so only the spot taint is set here."""
    env = ctx.env
    f = TfFile("terraform/cluster.tf.json")
    for pool_name, pool in sorted(env.spec["cluster"]["node_pools"].items()):
        machine_type, spot = str(pool["instance_type"]), bool(pool["spot"])
        node_config: dict[str, Any] = {
            "machine_type": machine_type,
            "spot": spot,
            "disk_size_gb": pool["disk_gb"],
            "disk_type": "pd-balanced",
            "image_type": "COS_CONTAINERD",
            "service_account": ctx.var("node_service_account"),
            "oauth_scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            "labels": {naming.NODE_POOL_LABEL: pool_name},
            # on the VMs and their disks (provider default_labels do not reach them): the budget filters on these
            "resource_labels": compute_labels(ctx, pool_name),
            "metadata": {"disable-legacy-endpoints": "true"},
            "workload_metadata_config": {"mode": "GKE_METADATA"},
            "shielded_instance_config": {"enable_secure_boot": True, "enable_integrity_monitoring": True},
        }
        if pool.get("confidential"):  # Confidential GKE Nodes (AMD SEV on n2d/c2d, Intel TDX on c3)
            node_config["confidential_nodes"] = {"enabled": True}
        if spot:
            node_config["taint"] = [{"key": naming.SPOT_TAINT_KEY, "value": naming.SPOT_TAINT_VALUE, "effect": TAINT_EFFECT}]
        accelerators = guest_accelerators(machine_type, *ctx.compiled.pool_gpus(pool_name))
        if accelerators:
            node_config["guest_accelerator"] = accelerators
        f.resource(
            "google_container_node_pool",
            rname(pool_name),
            {
                "name": naming.bounded(f"{env.name}-{pool_name}", 40),
                "cluster": env.spec["cluster"]["name"],
                "location": ctx.region,
                **zones_of(ctx, pool_name),
                "autoscaling": {
                    "total_min_node_count": pool["min"],
                    "total_max_node_count": pool["max"],
                    "location_policy": "ANY" if spot else "BALANCED",
                },
                "management": {"auto_repair": True, "auto_upgrade": True},
                "upgrade_settings": {"max_surge": 1, "max_unavailable": 0},
                "node_config": node_config,
            },
        )
    return f


# --- budget --------------------------------------------------------------------------------
def budget_file(ctx: GcpContext) -> TfFile:
    """Monthly budget of this project's resources labelled with this environment."""
    env = ctx.env
    budget = env.spec["budget"]
    amount = money(budget["monthly_usd"])
    units, cents = divmod(amount, 1)
    f = TfFile("terraform/budget.tf.json")
    f.resource(
        "google_billing_budget",
        "monthly",
        {
            "billing_account": ctx.var("billing_account"),
            "display_name": naming.bounded(f"mlc-{env.name}-monthly", 60),
            "budget_filter": {
                "projects": [Expr(f"projects/{PROJECT_NUMBER}")],
                "labels": {"mlc-environment": ctx.default_labels()["mlc-environment"]},
                "calendar_period": "MONTH",
            },
            "amount": {"specified_amount": {"currency_code": "USD", "units": str(int(units)), "nanos": int(cents * 1_000_000_000)}},
            "threshold_rules": [
                {"threshold_percent": float(budget["warn_ratio"]), "spend_basis": "CURRENT_SPEND"},
                {"threshold_percent": 1.0, "spend_basis": "FORECASTED_SPEND"},
            ],
            "all_updates_rule": {
                "monitoring_notification_channels": ctx.var("budget_notification_channels"),
                "disable_default_iam_recipients": False,
            },
        },
    )
    return f


# --- audit ---------------------------------------------------------------------------------
def audit_file(ctx: GcpContext) -> TfFile:
    """Cloud Storage Data Access audit logs (reads and writes). GCP scopes them to the
    project, not a bucket: they cover every bucket of the project once one holds
    confidential or pii data."""
    f = TfFile("terraform/audit.tf.json")
    f.resource(
        "google_project_iam_audit_config",
        "storage",
        {
            "project": ctx.project,
            "service": "storage.googleapis.com",
            "audit_log_config": [{"log_type": "DATA_READ"}, {"log_type": "DATA_WRITE"}],
        },
    )
    return f


def edge_not_supported(ctx: GcpContext, component: Component) -> TfFile:
    """Edge fleets need a workload identity federation pool for the fleet's issuer; not built yet."""
    raise gcp.PROVIDER.unsupported("terraform", "edge_deployment: no identity for edge fleets on GCP yet")


# --- the emitter --------------------------------------------------------------------------
class GcpTerraform(TerraformEmitter[GcpContext]):
    components = DispatchTable(
        "terraform (gcp)",
        {
            "object_store": bucket_store_file,
            "data_lake": bucket_store_file,
            "database": database_file,
            "spark_job": identity_file,
            "training_job": identity_file,
            "serving": identity_file,
            "batch_inference": identity_file,
            "monitoring": NotApplicable("rules and dashboards live in the cluster (kubernetes/)"),
            "pipeline": NotApplicable("pipelines live in Argo (argo/); their steps have their own identities"),
            "job": identity_file,
            "tuning_job": NotApplicable("trials run as the trial job, with its identity"),
            "tracking_server": identity_file,
            "edge_deployment": edge_not_supported,
            "stream": stream_file,
            "stream_job": identity_file,
            "feature_store": feature_store_file,
        },
    )

    def monitor_file(self, ctx: Any, component: Component) -> TfFile:
        return identity_file(ctx, component)

    def context(self, compiled: Compiled) -> GcpContext:
        return GcpContext(compiled)

    settings_file = staticmethod(settings_file)
    main_file = staticmethod(main_file)
    access_log_file = staticmethod(access_log_file)
    cluster_file = staticmethod(cluster_file)
    budget_file = staticmethod(budget_file)
    audit_file = staticmethod(audit_file)


EMITTER = GcpTerraform()
