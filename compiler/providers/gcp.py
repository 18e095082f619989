"""GCP: Workload Identity service accounts, gs:// URIs, Secret Manager, the GCP pricing
section, the GCP Terraform emitter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from compiler.model.environment import Component, Environment
from compiler.providers.base import Provider
from compiler.providers.naming import bounded

if TYPE_CHECKING:
    from compiler.targets.terraform.emitter import TerraformEmitter


def service_account_id(env: Environment, component: Component) -> str:
    """account_id of a google_service_account: 6-30 chars, [a-z][-a-z0-9]*[a-z0-9]."""
    name = bounded(f"{env.name}-{component.name}", 30)
    if not name[0].isalpha():
        name = bounded(f"w{name}", 30)
    return name


def service_account_email(env: Environment, component: Component) -> str:
    return f"{service_account_id(env, component)}@{env.spec['cloud'].get('account', 'project')}.iam.gserviceaccount.com"


def sql_iam_user(env: Environment, component: Component, engine: str) -> str:
    """Cloud SQL IAM user of a workload's service account (postgres: email without
    .gserviceaccount.com; mysql: the part before @)."""
    email = service_account_email(env, component)
    return email.removesuffix(".gserviceaccount.com") if engine == "postgres" else email.split("@", 1)[0]


def kms_key_ring(env: Environment) -> str:
    return bounded(f"mlc-{env.name}", 63)


class Gcp(Provider):
    name = "gcp"
    identity_egress = (
        ("GKE metadata server (Workload Identity credentials)", "169.254.169.254/32", 80),
        ("gke-metadata-server behind Dataplane V2", "169.254.169.252/32", 988),
    )

    def spark_store_conf(self) -> dict[str, str]:
        # the GCS connector 3.x: APPLICATION_DEFAULT resolves the metadata server, where
        # Workload Identity serves the pod's service account
        return {"spark.hadoop.fs.gs.auth.type": "APPLICATION_DEFAULT"}

    def external_secrets_provider(self, settings: dict[str, Any]) -> dict[str, Any]:
        return {"gcpsm": {"projectID": settings["account"]}}

    pricing_key = "gcp"
    store_scheme = "gs"
    store_schemes_read = ("gs",)
    catalog_name_limit = 1024  # BigQuery dataset
    stream_retention_hours = (1, 744)  # Pub/Sub topic retention: 10 minutes to 31 days
    stream_resource = ("google_pubsub_topic", ("kms_key_name",))
    feature_online_engines = ("redis",)  # Memorystore for Redis
    feature_online_resource = ("google_redis_instance", ("auth_enabled", "customer_managed_key", "transit_encryption_mode"))

    # Confidential GKE Nodes: AMD SEV on N2D and C2D, SEV-SNP on N2D, Intel TDX on C3
    # (GKE docs, "Encrypt workload data in-use with Confidential GKE Nodes")
    confidential_families = ("n2d", "c2d", "c3")
    confidential_technology = "Confidential GKE Nodes"

    def identity_annotation(self, env: Environment, component: Component) -> dict[str, str]:
        return {"iam.gke.io/gcp-service-account": service_account_email(env, component)}

    def secret_store(self, env: Environment) -> str:
        return "mlc-gcp"  # backed by GCP Secret Manager

    def terraform(self) -> TerraformEmitter:
        from compiler.targets.terraform.gcp import EMITTER

        return EMITTER


PROVIDER = Gcp()
