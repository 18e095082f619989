"""Azure workload identity: one user-assigned identity per workload, a federated identity
credential that lets exactly the workload's Kubernetes ServiceAccount (issuer: the AKS
cluster's OIDC issuer) sign in as it, and role assignments derived exactly from
`compiled.grants`, each scoped to one container:

  store read only     Storage Blob Data Reader on that container (list + read blobs)
  store write         Storage Blob Data Contributor on that container (read, write, delete:
                      Azure has no built-in data role that writes without reading)
  feature store read  Storage Blob Data Reader on its offline lake's filesystem (online read
                      and push are Redis AUTH over the network; azure_feature_store.py)
  database            no Azure role: flexible servers authorise in the database itself
                      (PostgreSQL: the Entra principal named like the identity; see
                      docs/azure.md); the network path is the NetworkPolicy's

No workload gets a subscription-, resource-group- or account-wide role, and none gets key
access: the stores' own identities use the customer-managed keys (azure_storage.py).
"""

from __future__ import annotations

import re

from compiler.model.environment import Component
from compiler.model.kinds import Trait
from compiler.model.kinds.feature_store import offline_lake
from compiler.providers import azure, naming
from compiler.targets.terraform.azure_context import PRINCIPAL_TYPE, AzureContext
from compiler.targets.terraform.azure_storage import container_address
from compiler.targets.terraform.common import Expr, TfFile, ref, rname

READ_ROLE = "Storage Blob Data Reader"
WRITE_ROLE = "Storage Blob Data Contributor"


def credential_name(ctx: AzureContext, workload: Component) -> str:
    """Federated credential name: 3-120 of [A-Za-z0-9_-], starting with a letter or digit."""
    raw = f"{ctx.env.namespace}-{naming.service_account(workload)}"
    return naming.bounded(re.sub(r"[^A-Za-z0-9_-]", "-", raw), 120)


def workload_identity(f: TfFile, ctx: AzureContext, workload: Component) -> Expr:
    """The workload's user-assigned identity and the federated credential of its
    ServiceAccount; returns the identity's principal id."""
    env, name = ctx.env, rname(workload)
    f.resource(
        "azurerm_user_assigned_identity",
        name,
        {**ctx.placement(), "name": azure.identity_name(env, workload), "tags": ctx.tags(workload)},
    )
    f.resource(
        "azurerm_federated_identity_credential",
        name,
        {
            "name": credential_name(ctx, workload),
            "user_assigned_identity_id": ref("azurerm_user_assigned_identity", name, "id"),
            "audience": [azure.TOKEN_AUDIENCE],
            "issuer": ctx.var("aks_oidc_issuer_url"),
            "subject": azure.federated_subject(env, workload),
        },
    )
    return ref("azurerm_user_assigned_identity", name, "principal_id")


def identity_file(ctx: AzureContext, workload: Component) -> TfFile:
    env, name = ctx.env, rname(workload)
    f = TfFile(f"terraform/identity-{workload.name}.tf.json", workload.name)
    grants = ctx.compiled.grants[workload.name]
    principal = workload_identity(f, ctx, workload)
    for store_name in grants.stores:
        store = env.components[store_name]
        if store.has(Trait.FEATURE_STORE):
            _offline_read(f, ctx, workload, store, principal)
            continue
        if not store.has(Trait.BUCKET):
            continue  # databases: in-database roles (see the module docstring)
        writes = store_name in grants.writes
        f.resource(
            "azurerm_role_assignment",
            f"{name}-{rname(store)}",
            {
                "scope": ctx.container_scope(store),
                "role_definition_name": WRITE_ROLE if writes else READ_ROLE,
                "principal_id": principal,
                "principal_type": PRINCIPAL_TYPE,
                "description": f"{workload.name} {'writes' if writes else 'reads'} {store_name} (mlc graph)",
                "depends_on": [container_address(store)],
            },
        )
    return f


def _offline_read(f: TfFile, ctx: AzureContext, workload: Component, store: Component, principal: Expr) -> None:
    """Reading a feature store: Storage Blob Data Reader on its offline lake's filesystem, unless
    the workload has a role on that lake already; writing it (online push) and its online read
    are Redis AUTH over the network, no role."""
    grants = ctx.compiled.grants[workload.name]
    if not any(a.store == store.name and not a.write for a in grants.access):
        return
    lake = ctx.env.components[offline_lake(store)]
    if lake.name in grants.stores:
        return
    f.resource(
        "azurerm_role_assignment",
        f"{rname(workload)}-{rname(store)}-offline",
        {
            "scope": ctx.container_scope(lake),
            "role_definition_name": READ_ROLE,
            "principal_id": principal,
            "principal_type": PRINCIPAL_TYPE,
            "description": f"{workload.name} reads feature store {store.name}: its offline store {lake.name} (mlc graph)",
            "depends_on": [container_address(lake)],
        },
    )
