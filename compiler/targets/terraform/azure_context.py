"""What every Azure Terraform file needs: the compiled environment, the subscription and
resource group, tags, and the input variables the user must provide."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

from compiler.model.environment import Component
from compiler.providers import azure, naming
from compiler.targets.terraform.common import Expr, TerraformContext, lit, ref

KEY_VAULT = "mlc"  # resource name of the environment's Key Vault
GEO_KEY_VAULT = "mlc-geo"  # Key Vault in the paired region (geo-redundant backups with CMK)
WORKSPACE = "access-logs"  # resource name of the Log Analytics workspace
TENANT_ID = Expr("${data.azurerm_client_config.current.tenant_id}")
PRINCIPAL_TYPE = "ServicePrincipal"  # managed identities are service principals to Entra ID

_TAG_BAD = re.compile(r"[<>%&\\?/]")  # characters Azure refuses in tag names

VARIABLES: dict[str, dict[str, Any]] = {
    "aks_oidc_issuer_url": {
        "type": "string",
        "description": (
            "OIDC issuer URL of the AKS cluster (az aks show --query oidcIssuerProfile.issuerUrl); "
            "the cluster must have the OIDC issuer and workload identity enabled."
        ),
    },
    "aks_subnet_id": {
        "type": "string",
        "description": (
            "Resource id of the subnet the AKS nodes run in, with the Microsoft.Storage and Microsoft.KeyVault service "
            "endpoints: storage accounts and the Key Vault accept traffic from it only (and from admin_ip_ranges)."
        ),
    },
    "admin_ip_ranges": {
        "type": "list(string)",
        "default": [],
        "description": "Public IP ranges (CIDR) of whoever runs Terraform, allowed through the storage and Key Vault firewalls.",
    },
    "postgres_subnet_id": {
        "type": "string",
        "description": "Resource id of a subnet delegated to Microsoft.DBforPostgreSQL/flexibleServers (private access).",
    },
    "postgres_private_dns_zone_id": {
        "type": "string",
        "description": "Resource id of the private DNS zone <name>.private.postgres.database.azure.com linked to the cluster's VNet.",
    },
    "mysql_subnet_id": {
        "type": "string",
        "description": "Resource id of a subnet delegated to Microsoft.DBforMySQL/flexibleServers (private access).",
    },
    "mysql_private_dns_zone_id": {
        "type": "string",
        "description": "Resource id of the private DNS zone <name>.private.mysql.database.azure.com linked to the cluster's VNet.",
    },
    "mysql_admin_passwords": {
        "type": "map(string)",
        "sensitive": True,
        "ephemeral": True,
        "description": (
            "Administrator password per MySQL flexible server name, passed at plan/apply time only "
            "(write-only attribute: never stored in state or in out/)."
        ),
    },
    "private_endpoint_subnet_id": {
        "type": "string",
        "description": "Resource id of the subnet holding the private endpoints of the feature stores' online stores (Azure Cache).",
    },
    "redis_private_dns_zone_id": {
        "type": "string",
        "description": "Resource id of the private DNS zone privatelink.redis.cache.windows.net linked to the cluster's VNet.",
    },
    "budget_start_date": {
        "type": "string",
        "description": "First day of the month the budget starts, e.g. 2026-09-01T00:00:00Z (Azure refuses a start in the past).",
    },
    "budget_contact_emails": {
        "type": "list(string)",
        "default": [],
        "description": "E-mail addresses that receive budget alerts, in addition to the resource group's owners.",
    },
}


@dataclass
class AzureContext(TerraformContext):
    variables: ClassVar[dict[str, dict[str, Any]]] = VARIABLES
    geo_keys: bool = False  # a database uses the paired region's Key Vault

    @property
    def location(self) -> str:
        return self.env.region

    @property
    def resource_group(self) -> str:
        return azure.resource_group(self.env)

    def placement(self, location: str | None = None) -> dict[str, Any]:
        """location + resource_group_name, the first arguments of nearly every resource."""
        return {"location": location or self.location, "resource_group_name": self.resource_group}

    def tags(self, component: Component | None = None, **extra: str) -> dict[str, str]:
        """Environment and component labels, mlc's own tags; Azure has no provider-level
        default tags, so every taggable resource carries them all (the budget filters on
        mlc-environment)."""
        tags: dict[str, str] = {}
        tags.update(self.env.labels)
        if component is not None:
            tags.update(component.get("labels") or {})
            tags["mlc-component"] = component.name
            tags["mlc-classification"] = self.effective_class(component)
        tags["mlc-environment"] = self.env.name
        tags["managed-by"] = naming.MANAGED_BY
        tags.update(extra)
        return {_TAG_BAD.sub("_", k)[:512]: str(v)[:256] for k, v in sorted(tags.items())}

    def key_vault_id(self, geo: bool = False) -> Expr:
        return ref("azurerm_key_vault", GEO_KEY_VAULT if geo else KEY_VAULT, "id")

    def blob_service_id(self, store: Component) -> Expr:
        """ARM id of a store's blob service (diagnostic settings attach here)."""
        return Expr(f"{ref('azurerm_storage_account', store.name.replace('-', '_'), 'id')}/blobServices/default")

    def container_scope(self, store: Component) -> Expr:
        """ARM id of a store's container / ADLS Gen2 filesystem: the scope of its role assignments."""
        return Expr(f"{self.blob_service_id(store)}/containers/{lit(azure.container_name(store))}")
