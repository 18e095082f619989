"""What every GCP Terraform file needs: the compiled environment, the project, labels,
service agents, and the input variables the user must provide."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from compiler.model.environment import Component
from compiler.providers import naming
from compiler.targets.terraform.common import Expr, TerraformContext, gcp_labels, lit

KEY_RING = "mlc"  # resource name of the environment's KMS key ring
PROJECT_NUMBER = "${data.google_project.this.number}"

# Service agents that encrypt/decrypt with customer-managed keys on a service's behalf.
SERVICE_AGENT_EMAIL = {
    "gcs": "${data.google_storage_project_service_account.this.email_address}",
    "bigquery": "${data.google_bigquery_default_service_account.this.email}",
    # No data source in hashicorp/google returns it; it exists once Cloud SQL was used in
    # the project, or after `gcloud beta services identity create --service=sqladmin.googleapis.com`.
    "cloudsql": f"service-{PROJECT_NUMBER}@gcp-sa-cloud-sql.iam.gserviceaccount.com",
    # created when the Pub/Sub API is enabled; no data source returns it either
    "pubsub": f"service-{PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com",
    # Memorystore for Redis: created with the API, no data source returns it either
    "redis": f"service-{PROJECT_NUMBER}@cloud-redis.iam.gserviceaccount.com",
}
SERVICE_AGENT_DATA = {"gcs": "google_storage_project_service_account", "bigquery": "google_bigquery_default_service_account"}

VARIABLES: dict[str, dict[str, Any]] = {
    "project_id": {"type": "string", "description": "GCP project id (the spec's cloud.account is not set)."},
    "network": {
        "type": "string",
        "description": (
            "Id (projects/<p>/global/networks/<name>) of the VPC network the cluster runs in; "
            "Cloud SQL instances get a private IP in it (private services access must be set up on it)."
        ),
    },
    "node_service_account": {
        "type": "string",
        "description": (
            "E-mail of the existing least-privilege service account GKE nodes run as (roles/container.defaultNodeServiceAccount)."
        ),
    },
    "billing_account": {"type": "string", "description": "Billing account id (XXXXXX-XXXXXX-XXXXXX) the budget is created in."},
    "budget_notification_channels": {
        "type": "list(string)",
        "default": [],
        "description": (
            "Cloud Monitoring notification channel ids that receive budget alerts, in addition to the billing account's administrators."
        ),
    },
}


@dataclass
class GcpContext(TerraformContext):
    variables: ClassVar[dict[str, dict[str, Any]]] = VARIABLES
    used_agents: set[str] = field(default_factory=set)

    @property
    def project_literal(self) -> str | None:
        return self.account_literal

    @property
    def project(self) -> Expr:
        literal = self.project_literal
        return lit(literal) if literal else self.var("project_id")

    def service_agent(self, service: str) -> Expr:
        """IAM member of the project's service agent that uses CMEK keys for `service`.
        The storage and BigQuery agents come from data sources, which also create the agent
        if it does not exist yet; the Cloud SQL agent must exist already (see
        SERVICE_AGENT_DATA)."""
        self.used_agents.add(service)
        return Expr(f"serviceAccount:{SERVICE_AGENT_EMAIL[service]}")

    def default_labels(self) -> dict[str, str]:
        labels = dict(self.env.labels)
        labels["mlc-environment"] = self.env.name
        labels["managed-by"] = naming.MANAGED_BY
        return gcp_labels(labels)

    def labels(self, component: Component | None = None, **extra: str) -> dict[str, str]:
        """Per-resource labels (sanitised for GCP) on top of the provider's default labels."""
        labels: dict[str, str] = {}
        if component is not None:
            labels.update(component.get("labels") or {})
            labels["mlc-component"] = component.name
            labels["mlc-classification"] = self.effective_class(component)
        labels.update(extra)
        return gcp_labels(labels)
