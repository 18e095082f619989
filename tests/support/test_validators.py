"""Unit tests of the test-side validators in tests/support/validators.py (not of the compiler)."""

from __future__ import annotations

import copy
import hashlib
import re
import time
from pathlib import Path

import pytest

try:  # tests/ is on sys.path under pytest's default "prepend" import mode
    from tests.support import validators as v

    if not hasattr(v, "validate_k8s_object"):  # a PyPI package of the same name
        raise ImportError
except ImportError:  # pragma: no cover
    from tests.support import validators as v

# ---------------------------------------------------------------------------------------
# vendored files
# ---------------------------------------------------------------------------------------

PROVENANCE = v.SCHEMA_DIR / "PROVENANCE.md"


def _recorded_hashes() -> dict[str, str]:
    text = PROVENANCE.read_text(encoding="utf-8")
    return {m.group(2): m.group(1) for m in re.finditer(r"^([0-9a-f]{64})  (\S+)$", text, re.M)}


def test_vendored_files_match_recorded_sha256():
    recorded = _recorded_hashes()
    on_disk = {str(p.relative_to(v.SCHEMA_DIR)): p for p in v.SCHEMA_DIR.rglob("*.json")}
    assert set(recorded) == set(on_disk), "PROVENANCE.md checksum list and vendored files differ"
    for rel, path in on_disk.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == recorded[rel], f"{rel} was modified"


def test_every_crd_mapping_points_at_a_vendored_file():
    for rel in [*v.CRD_SCHEMAS.values(), *v.TERRAFORM_PROVIDER_FILES.values()]:
        assert (v.SCHEMA_DIR / rel).is_file(), rel


def test_strictified_schemas_are_valid_and_patterns_compile():
    from jsonschema import Draft7Validator

    # the quirky one must pass the metaschema after the in-memory rewrite
    Draft7Validator.check_schema(v._crd_schema("monitoring.coreos.com/v1", "PrometheusRule"))
    for key in v.CRD_SCHEMAS:
        stack = [v._crd_schema(*key)]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                if isinstance(node.get("pattern"), str):
                    v._compile_pattern(node["pattern"])
                stack.extend(x for x in node.values() if isinstance(x, (dict, list)))
            elif isinstance(node, list):
                stack.extend(node)


def test_loading_everything_is_fast():
    t0 = time.perf_counter()
    for key in v.CRD_SCHEMAS:
        v._crd_validator(*key)
    v._k8s_registry()
    v._kustomize_validator()
    v._sarif_validator()
    for p in ("aws", "google"):
        v._tf_provider(p)
    assert time.perf_counter() - t0 < 10  # measured well under 1 s; generous for slow CI


# ---------------------------------------------------------------------------------------
# Kubernetes: built-in kinds
# ---------------------------------------------------------------------------------------

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "ranker", "namespace": "ml-prod", "labels": {"app.kubernetes.io/name": "ranker"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "ranker"}},
        "template": {
            "metadata": {"labels": {"app.kubernetes.io/name": "ranker"}},
            "spec": {
                "serviceAccountName": "ranker",
                "containers": [
                    {
                        "name": "server",
                        "image": "registry.example.com/ranker:1.2.3",
                        "ports": [{"containerPort": 8080, "name": "http"}],
                        "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}},
                        "env": [{"name": "MODE", "value": "prod"}],
                    }
                ],
            },
        },
    },
}


def test_good_deployment_passes():
    assert v.validate_k8s_object(DEPLOYMENT) == []


def test_misspelled_deployment_field_fails():
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    errs = v.validate_k8s_object(bad)
    assert len(errs) == 1 and "imagePullPolicyy" in errs[0] and "containers[0]" in errs[0], errs


def test_deployment_wrong_type_and_bad_metadata_fail():
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["replicas"] = "two"
    bad["metadata"]["labels"]["tier"] = True
    bad["metadata"]["resourceVersion"] = "123"
    errs = "\n".join(v.validate_k8s_object(bad))
    assert "spec.replicas" in errs
    assert "labels['tier']: value must be a string" in errs
    assert "unexpected key 'resourceVersion'" in errs


@pytest.mark.parametrize(
    "obj",
    [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-prod", "labels": {"team": "ml"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "etl", "namespace": "ml-prod"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dash"}, "data": {"a.json": "{}"}},
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "ranker"},
            "spec": {"selector": {"app": "ranker"}, "ports": [{"port": 80, "targetPort": "http"}]},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "editors"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
            "subjects": [{"kind": "Group", "name": "ml-engineers", "apiGroup": "rbac.authorization.k8s.io"}],
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny"},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        },
        {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "ranker"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "ranker"},
                "minReplicas": 1,
                "maxReplicas": 4,
                "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "ranker"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": {"app": "ranker"}}},
        },
    ],
    ids=lambda o: o["kind"],
)
def test_good_core_objects_pass(obj):
    assert v.validate_k8s_object(obj) == []


def test_agrees_with_kubernetes_validate_itself():
    import kubernetes_validate

    assert kubernetes_validate.validate(DEPLOYMENT, v.K8S_VERSION, strict=True)
    bad = copy.deepcopy(DEPLOYMENT)
    bad["spec"]["strategy"] = {"typo": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, v.K8S_VERSION, strict=True)
    assert v.validate_k8s_object(bad)


@pytest.mark.parametrize(
    "api_version,kind",
    [
        ("v1", "Widget"),
        ("apps/v1", "deployment"),  # kind is case-sensitive
        ("apps.example.com/v1", "Deployment"),  # same file name as apps/v1, different group
        ("apps/v1", "DeploymentSpec"),  # a definition, not a kind
        ("argoproj.io/v1alpha1", "Rollout"),  # not vendored
        ("sparkoperator.k8s.io/v1beta1", "SparkApplication"),  # wrong version
        ("autoscaling/v2beta2", "HorizontalPodAutoscaler"),  # removed in 1.26
    ],
)
def test_unknown_api_version_or_kind_is_an_error(api_version, kind):
    errs = v.validate_k8s_object({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}})
    assert errs and "unknown kind" in errs[0], errs


def test_missing_apiversion_or_name():
    assert v.validate_k8s_object({"kind": "ConfigMap", "metadata": {"name": "x"}})
    errs = v.validate_k8s_object({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert any("metadata.name: required" in e for e in errs), errs


@pytest.mark.parametrize(
    "kind_obj,name,ok",
    [
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "a.b-c", True),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "Upper", False),
        ({"apiVersion": "v1", "kind": "ConfigMap"}, "x\n", False),
        ({"apiVersion": "v1", "kind": "Service"}, "1svc", False),
        ({"apiVersion": "v1", "kind": "Namespace"}, "a.b", False),
        ({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "roleRef": None}, "mlc:viewer", True),
    ],
)
def test_metadata_name_rules(kind_obj, name, ok):
    obj = {k: val for k, val in kind_obj.items() if val is not None}
    obj["metadata"] = {"name": name}
    errs = [e for e in v.validate_k8s_object(obj) if "metadata.name" in e]
    assert (errs == []) == ok, errs


# ---------------------------------------------------------------------------------------
# Kubernetes: custom kinds (vendored CRD schemas, strictified)
# ---------------------------------------------------------------------------------------

SPARK = {
    "apiVersion": "sparkoperator.k8s.io/v1beta2",
    "kind": "SparkApplication",
    "metadata": {"name": "etl", "namespace": "ml-prod"},
    "spec": {
        "type": "Python",
        "mode": "cluster",
        "image": "registry.example.com/etl:1",
        "mainApplicationFile": "local:///app/main.py",
        "sparkVersion": "3.5.1",
        "driver": {"cores": 1, "memory": "2g", "serviceAccount": "etl"},
        "executor": {"instances": 2, "cores": 2, "memory": "4g"},
    },
}


def test_minimal_spark_application_passes():
    assert v.validate_k8s_object(SPARK) == []


def test_spark_application_unknown_field_fails():
    bad = copy.deepcopy(SPARK)
    bad["spec"]["executor"]["instance"] = 3
    errs = v.validate_k8s_object(bad)
    assert len(errs) == 1 and "spec.executor" in errs[0] and "'instance' was unexpected" in errs[0], errs


def test_spark_application_unknown_top_level_key_and_missing_required():
    bad = copy.deepcopy(SPARK)
    bad["extra"] = {}
    del bad["spec"]["sparkVersion"]
    errs = "\n".join(v.validate_k8s_object(bad))
    assert "'extra' was unexpected" in errs and "'sparkVersion' is a required property" in errs


def test_argo_application_allows_its_extra_top_level_field():
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "ml-prod", "namespace": "argocd"},
        "spec": {
            "project": "ml-prod",
            "source": {"repoURL": "https://git.example.com/ml/platform.git", "targetRevision": "main", "path": "out/prod/kubernetes"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "ml-prod"},
        },
        "operation": {"sync": {"revision": "main"}},
    }
    assert v.validate_k8s_object(app) == []


def test_prometheus_rule_partial_response_strategy():
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "ranker-slo", "labels": {"release": "prom"}},
        "spec": {
            "groups": [
                {
                    "name": "ranker",
                    "partial_response_strategy": "warn",
                    "rules": [
                        {"alert": "RankerLatency", "expr": "histogram_quantile(0.99, x) > 0.2", "for": "5m", "labels": {"severity": "page"}}
                    ],
                }
            ]
        },
    }
    assert v.validate_k8s_object(rule) == []  # would raise re.error without the rewrite
    for good in ("ABORT", "Warn", ""):
        rule["spec"]["groups"][0]["partial_response_strategy"] = good
        assert v.validate_k8s_object(rule) == [], good
    for bad in ("never", "warn\n"):
        rule["spec"]["groups"][0]["partial_response_strategy"] = bad
        errs = v.validate_k8s_object(rule)
        assert len(errs) == 1 and "partial_response_strategy" in errs[0], errs


def test_int_or_string_and_integer_strictness():
    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "train"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {
                    "replicas": 1,
                    "template": {
                        "spec": {
                            "containers": [{"name": "pytorch", "image": "i", "resources": {"limits": {"nvidia.com/gpu": 8, "cpu": "4"}}}]
                        }
                    },
                }
            }
        },
    }
    assert v.validate_k8s_object(job) == []
    master = job["spec"]["pytorchReplicaSpecs"]["Master"]
    master["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"] = 1.5  # int-or-string: no floats
    master["replicas"] = 1.0
    errs = "\n".join(v.validate_k8s_object(job))
    assert "limits.cpu" in errs and "Master.replicas: 1.0 is not of type 'integer'" in errs


def test_list_type_map_duplicates_fail():
    job = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "train"},
        "spec": {
            "pytorchReplicaSpecs": {
                "Master": {
                    "template": {
                        "spec": {
                            "containers": [
                                {
                                    "name": "pytorch",
                                    "image": "i",
                                    "ports": [{"containerPort": 23456}, {"containerPort": 23456, "protocol": "TCP"}],
                                }
                            ]
                        }
                    }
                }
            }
        },
    }
    errs = v.validate_k8s_object(job)
    assert len(errs) == 1 and "duplicate entry" in errs[0] and "ports[1]" in errs[0], errs


def test_nullable_field_accepts_null():
    es = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db"},
        "spec": {
            "secretStoreRef": {"name": "aws", "kind": "ClusterSecretStore"},
            "target": {"name": "db"},
            "data": [{"secretKey": "password", "remoteRef": {"key": "prod/db", "property": "password"}}],
        },
        "status": {"refreshTime": None},
    }
    assert v.validate_k8s_object(es) == []
    es["status"]["syncedResourceVersion"] = None  # not nullable
    assert v.validate_k8s_object(es)


def test_cron_workflow_v4_requires_schedules_list():
    cw = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "CronWorkflow",
        "metadata": {"name": "nightly"},
        "spec": {"schedules": ["0 2 * * *"], "workflowSpec": {"workflowTemplateRef": {"name": "pipeline"}}},
    }
    assert v.validate_k8s_object(cw) == []
    cw["spec"]["schedule"] = "0 2 * * *"
    assert any("'schedule' was unexpected" in e for e in v.validate_k8s_object(cw))


def test_inference_service_name_rule():
    isvc = {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "ranker"},
        "spec": {"predictor": {"model": {"modelFormat": {"name": "sklearn"}, "storageUri": "s3://bucket/model"}}},
    }
    assert v.validate_k8s_object(isvc) == []
    isvc["metadata"]["name"] = "2ranker"
    assert any("DNS-1035" in e for e in v.validate_k8s_object(isvc))


def test_thousands_of_objects_stay_fast():
    v.validate_k8s_object(SPARK)
    v.validate_k8s_object(DEPLOYMENT)
    t0 = time.perf_counter()
    for _ in range(1000):
        assert not v.validate_k8s_object(SPARK)
        assert not v.validate_k8s_object(DEPLOYMENT)
    assert time.perf_counter() - t0 < 10  # ~0.5 s measured


# ---------------------------------------------------------------------------------------
# kustomization.yaml and SARIF
# ---------------------------------------------------------------------------------------


def test_kustomization():
    good = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": "ml-prod",
        "resources": ["a.yaml", "b.yaml"],
    }
    assert v.validate_kustomization(good) == []
    assert v.validate_k8s_object(good) == []  # dispatches
    assert v.validate_kustomization({**good, "resource": []})
    assert v.validate_kustomization({**good, "apiVersion": "v1"})


SARIF = {
    "version": "2.1.0",
    "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
    "runs": [
        {
            "tool": {"driver": {"name": "mlc", "informationUri": "https://example.com/mlc", "rules": [{"id": "MLC-SEC-004"}]}},
            "results": [
                {
                    "ruleId": "MLC-SEC-004",
                    "level": "error",
                    "message": {"text": "bucket is public"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "environments/prod.yaml"},
                                "region": {"startLine": 14, "startColumn": 7},
                            }
                        }
                    ],
                }
            ],
            "invocations": [{"executionSuccessful": True, "startTimeUtc": "2026-03-01T12:00:00Z"}],
        }
    ],
}


def test_sarif_good_and_bad():
    assert v.validate_sarif(SARIF) == []
    bad = copy.deepcopy(SARIF)
    bad["runs"][0]["results"][0]["level"] = "fatal"
    bad["runs"][0]["invocations"][0]["startTimeUtc"] = "yesterday"
    bad["runs"][0]["tool"]["driver"]["informationUri"] = "no scheme"
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] = {"endLine": 3}  # needs a start
    errs = "\n".join(v.validate_sarif(bad))
    for needle in ("level", "startTimeUtc", "informationUri", "region"):
        assert needle in errs, (needle, errs)


# ---------------------------------------------------------------------------------------
# Terraform JSON
# ---------------------------------------------------------------------------------------

AWS_DOC = {
    "terraform": {
        "required_version": ">= 1.6",
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 6.0"}},
        "backend": {"s3": {"bucket": "tf-state", "key": "ml/prod.tfstate", "region": "eu-west-1", "use_lockfile": True}},
    },
    "provider": {"aws": {"region": "eu-west-1", "default_tags": {"tags": {"team": "ml-platform"}}}},
    "resource": {
        "aws_s3_bucket": {"raw": {"bucket": "ml-prod-raw", "tags": {"team": "ml-platform"}, "force_destroy": False}},
        "aws_s3_bucket_versioning": {
            "raw": {"bucket": "${aws_s3_bucket.raw.id}", "versioning_configuration": {"status": "Enabled"}},
        },
        "aws_eks_node_group": {
            "gpu": {
                "cluster_name": "ml-prod",
                "node_role_arn": "${aws_iam_role.nodes.arn}",
                "subnet_ids": ["subnet-1", "subnet-2"],
                "instance_types": ["p4d.24xlarge"],
                "scaling_config": [{"min_size": 0, "max_size": 4, "desired_size": 0}],
                "taint": [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}],
                "lifecycle": {"ignore_changes": ["scaling_config[0].desired_size"]},
                "depends_on": ["aws_iam_role.nodes"],
            }
        },
        "aws_iam_role": {"nodes": {"name": "ml-prod-nodes", "assume_role_policy": '{"Version":"2012-10-17","Statement":[]}'}},
    },
    "variable": {"env": {"type": "string", "default": "prod"}},
    "output": {"bucket": {"value": "${aws_s3_bucket.raw.arn}"}},
    "locals": {"name": "ml-prod"},
}


def test_terraform_good_aws_document_passes():
    assert v.validate_terraform_json(AWS_DOC, "aws") == []


def test_terraform_list_of_bodies_and_google_provider():
    doc = {
        "terraform": [
            {
                "required_providers": [{"google": {"source": "hashicorp/google", "version": ">= 6.0, < 7.0"}}],
                "backend": [{"gcs": {"bucket": "tf-state"}}],
            }
        ],
        "provider": {"google": [{"project": "p", "region": "europe-west1"}, {"alias": "us", "project": "p", "region": "us-central1"}]},
        "resource": [
            {
                "google_storage_bucket": {
                    "raw": {"name": "ml-prod-raw", "location": "EU", "uniform_bucket_level_access": True, "versioning": {"enabled": True}}
                }
            },
            {"google_storage_bucket": {"logs": [{"name": "ml-prod-logs", "location": "EU", "provider": "google.us", "count": "${1}"}]}},
        ],
    }
    assert v.validate_terraform_json(doc, "google") == []
    assert v.validate_terraform_json(doc, "gcp") == []


def test_terraform_unknown_resource_type():
    doc = copy.deepcopy(AWS_DOC)
    doc["resource"]["aws_s3_buckett"] = {"x": {"bucket": "b"}}
    doc["resource"]["google_storage_bucket"] = {"y": {"name": "n", "location": "EU"}}  # wrong provider
    errs = v.validate_terraform_json(doc, "aws")
    assert len(errs) == 2 and all("unknown resource type" in e for e in errs), errs
    assert "did you mean aws_s3_bucket" in errs[0]


def test_terraform_unknown_attribute_and_block():
    doc = copy.deepcopy(AWS_DOC)
    doc["resource"]["aws_s3_bucket"]["raw"]["versioning_enabled"] = True
    doc["resource"]["aws_s3_bucket_versioning"]["raw"]["versioning_configuration"]["mfa_deletee"] = "Disabled"
    errs = v.validate_terraform_json(doc, "aws")
    assert len(errs) == 2, errs
    assert "resource.aws_s3_bucket.raw.versioning_enabled: unknown attribute or block" in errs[0]
    assert "versioning_configuration.mfa_deletee" in errs[1] and "did you mean mfa_delete" in errs[1]


def test_terraform_missing_required_attribute_and_block():
    doc = copy.deepcopy(AWS_DOC)
    del doc["resource"]["aws_eks_node_group"]["gpu"]["node_role_arn"]
    del doc["resource"]["aws_s3_bucket_versioning"]["raw"]["versioning_configuration"]
    doc["resource"]["aws_s3_bucket_versioning"]["raw"]["bucket"] = None  # null = unset
    errs = "\n".join(v.validate_terraform_json(doc, "aws"))
    assert "required attribute 'node_role_arn' is missing" in errs
    assert "required attribute 'bucket' is missing" in errs
    assert "at least 1 'versioning_configuration' block(s) required" in errs


def test_terraform_computed_only_attribute_set():
    doc = copy.deepcopy(AWS_DOC)
    doc["resource"]["aws_s3_bucket"]["raw"]["arn"] = "arn:aws:s3:::x"
    doc["resource"]["aws_s3_bucket"]["raw"]["id"] = "ml-prod-raw"  # optional+computed: allowed
    errs = v.validate_terraform_json(doc, "aws")
    assert errs == ["resource.aws_s3_bucket.raw.arn: attribute is computed-only (read-only) and must not be set"], errs


def test_terraform_too_many_nested_blocks():
    doc = copy.deepcopy(AWS_DOC)
    ng = doc["resource"]["aws_eks_node_group"]["gpu"]
    ng["scaling_config"].append({"min_size": 1, "max_size": 2, "desired_size": 1})
    ng["taint"] = [{"key": f"k{i}", "effect": "NO_SCHEDULE"} for i in range(51)]
    doc["resource"]["aws_s3_bucket"]["raw"]["timeouts"] = [{"create": "1m"}, {"create": "2m"}]
    errs = "\n".join(v.validate_terraform_json(doc, "aws"))
    assert "scaling_config: at most 1 block(s) allowed (list), got 2" in errs
    assert "taint: at most 50 block(s) allowed (set), got 51" in errs
    assert "timeouts: at most 1 block(s) allowed (single), got 2" in errs


def test_terraform_value_types_are_loose_but_not_absent():
    doc = copy.deepcopy(AWS_DOC)
    raw = doc["resource"]["aws_s3_bucket"]["raw"]
    raw["force_destroy"] = '${var.env == "dev"}'  # expression fits any type
    raw["object_lock_enabled"] = "false"  # Terraform converts
    assert v.validate_terraform_json(doc, "aws") == []
    raw["tags"] = ["team"]  # map expected
    raw["policy"] = {"Version": "2012-10-17"}  # string expected (must be jsonencode'd)
    raw["force_destroy"] = "maybe"
    ng = doc["resource"]["aws_eks_node_group"]["gpu"]
    ng["scaling_config"][0]["max_size"] = "four"
    errs = "\n".join(v.validate_terraform_json(doc, "aws"))
    for needle in ("raw.tags", "raw.policy", "raw.force_destroy", "max_size"):
        assert needle in errs, (needle, errs)


def test_terraform_meta_arguments_and_lifecycle():
    doc = copy.deepcopy(AWS_DOC)
    raw = doc["resource"]["aws_s3_bucket"]["raw"]
    raw["count"] = 1
    raw["for_each"] = {"a": "b"}
    raw["lifecycle"] = {"prevent_destroy": True, "ignore_changes": ["tagz"], "create_before_destroyy": True}
    raw["provisioner"] = [{"local-exec": {"command": "true"}}]
    errs = "\n".join(v.validate_terraform_json(doc, "aws"))
    assert "count and for_each are mutually exclusive" in errs
    assert "'tagz' is not an attribute" in errs
    assert "unknown lifecycle argument 'create_before_destroyy'" in errs


def test_terraform_top_level_provider_and_terraform_blocks():
    doc = copy.deepcopy(AWS_DOC)
    doc["resources"] = {}
    doc["provider"]["aws"]["regoin"] = "eu-west-1"
    doc["terraform"]["required_providers"]["aws"] = {"source": "hashicorp/aws"}
    doc["terraform"]["backend"]["gcs"] = {"bucket": "x"}
    errs = "\n".join(v.validate_terraform_json(doc, "aws"))
    assert "resources: unknown top-level key" in errs
    assert "provider.aws.regoin: unknown attribute" in errs
    assert "version is required" in errs
    assert "exactly one backend allowed" in errs


def test_terraform_version_constraint_must_admit_vendored_schema():
    doc = copy.deepcopy(AWS_DOC)
    doc["terraform"]["required_providers"]["aws"]["version"] = "~> 5.0"
    assert any("does not admit 6.47.0" in e for e in v.validate_terraform_json(doc, "aws"))
    for ok in ("~> 6.0", ">= 6.0, < 7.0", "~> 6.47.0", "6.47.0", "~> 6"):
        assert v._constraint_admits(ok, "6.47.0"), ok
    for bad in ("~> 6.48.0", "< 6", "!= 6.47.0", "~> 5"):
        assert not v._constraint_admits(bad, "6.47.0"), bad


def test_terraform_google_has_no_provider_schema_only_object_check():
    doc = {"provider": {"google": {"anything_goes": 1}}}
    assert v.validate_terraform_json(doc, "google") == []
    assert v.validate_terraform_json({"provider": {"google": "eu"}}, "google")


def test_terraform_module_cross_file_checks():
    files = {
        "main.tf.json": {k: AWS_DOC[k] for k in ("resource", "output")},
        "backend.tf.json": {"terraform": AWS_DOC["terraform"], "provider": AWS_DOC["provider"], "variable": AWS_DOC["variable"]},
    }
    assert v.validate_terraform_module(files, "aws") == []
    files["extra.tf.json"] = {
        "resource": {
            "aws_kms_key": {
                "k": {"description": "${var.missing}", "tags": {"b": "${aws_s3_bucket.raw.nope}", "c": "${aws_s3_bucket.gone.arn}"}}
            }
        },
        "output": {"bucket": {"value": "x"}},
    }
    errs = "\n".join(v.validate_terraform_module(files, "aws"))
    assert "var.missing" in errs and "no attribute 'nope'" in errs and "aws_s3_bucket.gone" in errs


def test_terraform_unknown_provider_argument():
    with pytest.raises(ValueError):
        v.validate_terraform_json({}, "oracle")


# ---------------------------------------------------------------------------------------
# files on disk
# ---------------------------------------------------------------------------------------


def test_validate_output_dir(tmp_path: Path):
    import json

    import yaml

    k = tmp_path / "kubernetes"
    k.mkdir()
    (k / "deployment-ranker.yaml").write_text(yaml.safe_dump(DEPLOYMENT), encoding="utf-8")
    (k / "kustomization.yaml").write_text(yaml.safe_dump({"resources": ["deployment-ranker.yaml"]}), encoding="utf-8")
    t = tmp_path / "terraform"
    t.mkdir()
    (t / "main.tf.json").write_text(json.dumps(AWS_DOC), encoding="utf-8")
    assert v.validate_output_dir(tmp_path) == []
    bad = copy.deepcopy(SPARK)
    bad["spec"]["oops"] = 1
    (k / "spark.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    errs = v.validate_output_dir(tmp_path)
    assert len(errs) == 1 and "spark.yaml" in errs[0] and "oops" in errs[0]


def test_terraform_object_attributes():
    errs: list[str] = []
    v._check_tf_value({"a": "x"}, ["object", {"a": "string", "b": "number"}], "p", errs)
    assert errs == ["p: object attributes ['b'] are required by the type (set them to null if unused)"]
    # list-of-object arguments given as a JSON array may be read as nested blocks: partial is fine
    sg = {
        "name": "db",
        "vpc_id": "vpc-1",
        "ingress": [{"from_port": 5432, "to_port": 5432, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/8"]}],
    }
    assert v.validate_terraform_json({"resource": {"aws_security_group": {"db": sg}}}, "aws") == []
    sg["ingress"][0]["port"] = 5432
    errs = v.validate_terraform_json({"resource": {"aws_security_group": {"db": sg}}}, "aws")
    assert len(errs) == 1 and "object attribute 'port'" in errs[0], errs


@pytest.mark.parametrize(
    "pattern,text,matches",
    [
        ("^a$", "a", True),
        ("^a$", "a\n", False),  # Python's $ alone would accept this
        ("^[$]$", "$", True),
        (r"^\$x$", "$x", True),
        ("^(?i)(abort|warn)?$", "WARN", True),  # Go-style flag after ^
        ("(?m)^a$", "a\nb", True),  # multi-line patterns keep Python's $
    ],
)
def test_pattern_semantics(pattern, text, matches):
    assert bool(v._compile_pattern(pattern).search(text)) == matches
