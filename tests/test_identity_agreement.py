"""The Kubernetes ServiceAccounts and the Terraform cloud identities agree: the annotated
role / service account is the one Terraform creates, and it trusts exactly that
ServiceAccount (namespace and name)."""

from __future__ import annotations

import pytest
from aws_policy import policy_of
from terraform_helpers import compile_env, emit, example_environments, files_of, resources

from compiler.model.kinds import Trait
from compiler.targets.kubernetes.emit import emit_kubernetes

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
        else:
            account = res[f"google_service_account.{tf}"]
            project = env.spec["cloud"]["account"]
            assert meta["annotations"]["iam.gke.io/gcp-service-account"] == f"{account['account_id']}@{project}.iam.gserviceaccount.com"
            binding = res[f"google_service_account_iam_member.{tf}-workload-identity"]
            assert binding["member"] == f"serviceAccount:{project}.svc.id.goog[{meta['namespace']}/{meta['name']}]"
