"""The Kubernetes ServiceAccounts and the Terraform cloud identities agree: the annotated
role / service account / Azure identity is the one Terraform creates, and it trusts exactly
that ServiceAccount (namespace and name)."""

from __future__ import annotations

import pytest

from compiler.model.kinds import Trait
from compiler.targets.kubernetes.emit import emit_kubernetes
from tests.support.aws_policy import policy_of
from tests.support.terraform_helpers import compile_env, emit, example_environments, files_of, resources

CLIENT_ID = "azure.workload.identity/client-id"


def main_outputs(artifacts) -> dict:
    return files_of(artifacts)["main.tf.json"]["output"]


def _check_azure(env, res, outputs, workload, meta):
    """The annotation's client id is the one recorded for the workload, the Terraform output
    that reports client ids maps the workload to ITS identity, and that identity's only
    federated credential names exactly this ServiceAccount with the cluster's issuer."""
    tf = workload.replace("-", "_")
    identity = f"azurerm_user_assigned_identity.{tf}"
    assert meta["annotations"][CLIENT_ID] == env.spec["cloud"]["workload_client_ids"][workload]
    assert outputs["workload_client_ids"]["value"][workload] == f"${{{identity}.client_id}}"
    creds = [body for addr, body in res.items() if addr.startswith("azurerm_federated_identity_credential.")]
    mine = [c for c in creds if c["user_assigned_identity_id"] == f"${{{identity}.id}}"]
    assert mine == [res[f"azurerm_federated_identity_credential.{tf}"]]
    (cred,) = mine
    assert cred["subject"] == f"system:serviceaccount:{meta['namespace']}:{meta['name']}"
    assert cred["issuer"] == "${var.aks_oidc_issuer_url}" and cred["audience"] == ["api://AzureADTokenExchange"]
    assert [c for c in creds if c["subject"] == cred["subject"]] == [cred]  # no other identity trusts this ServiceAccount


EXAMPLES = {env.name: env for env in example_environments()}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_service_account_annotations_match_terraform_identities(name):
    compiled = compile_env(EXAMPLES[name])
    env = compiled.env
    res = resources(files_of(emit(compiled)))
    accounts = {  # workloads and monitor workloads (drift detectors, data-quality checks) alike
        a.content["metadata"]["labels"]["app.kubernetes.io/name"]: a.content
        for a in emit_kubernetes(compiled)
        if isinstance(a.content, dict)
        and a.content.get("kind") == "ServiceAccount"
        and a.content["metadata"]["labels"].get("app.kubernetes.io/name") in compiled.grants
    }
    # kinds whose pods are not the environment's own (edge servers) have no ServiceAccount here
    foreign = {n for n, c in env.components.items() if c.has(Trait.FOREIGN_PODS)}
    assert set(accounts) == set(compiled.grants) - foreign
    for workload, sa in accounts.items():
        meta, tf = sa["metadata"], workload.replace("-", "_")
        subject = f"{meta['namespace']}:{meta['name']}"
        if env.provider == "aws":
            role = res[f"aws_iam_role.{tf}"]
            assert meta["annotations"]["eks.amazonaws.com/role-arn"] == f"arn:aws:iam::{env.spec['cloud']['account']}:role/{role['name']}"
            (statement,) = policy_of(files_of(emit(compiled)), role["assume_role_policy"])["Statement"]
            assert statement["Condition"]["StringEquals"]["${local.oidc_issuer}:sub"] == f"system:serviceaccount:{subject}"
        elif env.provider == "azure":
            _check_azure(env, res, main_outputs(emit(compiled)), workload, meta)
        else:
            account = res[f"google_service_account.{tf}"]
            project = env.spec["cloud"]["account"]
            assert meta["annotations"]["iam.gke.io/gcp-service-account"] == f"{account['account_id']}@{project}.iam.gserviceaccount.com"
            binding = res[f"google_service_account_iam_member.{tf}-workload-identity"]
            assert binding["member"] == f"serviceAccount:{project}.svc.id.goog[{meta['namespace']}/{meta['name']}]"
