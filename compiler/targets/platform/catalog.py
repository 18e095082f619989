"""The platform components mlc's output runs on: what, where from, which version, and why.

One row per Argo CD Application mlc can emit into out/_platform/<cluster>/apps/. A component
is emitted for a cluster when one of its `needed_by` triggers occurs in an environment on
that cluster (a kind mlc emits or creates at run time, or a GPU node pool on a provider
that does not install its own device plugin). Versions are pinned; the CRD schemas mlc
validates its output against (tests/support/upstream_schemas/) come from the same releases, except
where a row says otherwise.

Waves (argocd.argoproj.io/sync-wave in the root Application): CRDs and the webhooks others
depend on first, then the controllers, then platform-config (objects of the controllers'
own CRDs: ClusterSecretStore, KnativeServing); environment Applications follow at -1..1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

GPU_TRIGGER = "gpu-node-pool"  # a needs trigger that is not a kind


@dataclass(frozen=True)
class Component:
    name: str  # Application name suffix and Helm release name
    repo: str  # Helm repository URL, OCI registry path (no scheme) or Git repository
    version: str  # chart version, or Git tag for manifests
    namespace: str
    wave: int
    needed_by: tuple[str, ...]  # kinds (or GPU_TRIGGER) whose presence requires it
    why: str  # one line for REQUIREMENTS.md and docs/platform.md
    source: str  # where the version and settings come from (docs/code path upstream)
    chart: str | None = None  # None: `path` of a Git repository (kustomize)
    path: str | None = None
    providers: tuple[str, ...] = ("aws", "gcp")
    app_version: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # static Helm values; dynamic ones in emit


SERVING = ("InferenceService",)
COMPONENTS: tuple[Component, ...] = (
    Component(
        "cert-manager",
        "https://charts.jetstack.io",
        "v1.17.0",
        "cert-manager",
        -40,
        SERVING,
        "issues the serving certificates of KServe's admission webhooks",
        "kserve/kserve v0.20.0 hack/setup/quick-install/kserve-knative-mode-full-install-helm.sh (CERT_MANAGER_VERSION)",
        chart="cert-manager",
        values={"crds": {"enabled": True}},
    ),
    Component(
        "istio-base",
        "https://istio-release.storage.googleapis.com/charts",
        "1.27.1",
        "istio-system",
        -40,
        SERVING,
        "Istio CRDs: Knative's networking layer for KServe in Knative mode",
        "kserve/kserve v0.20.0 quick-install script (ISTIO_VERSION)",
        chart="base",
        values={"defaultRevision": "default"},
    ),
    Component(
        "istiod",
        "https://istio-release.storage.googleapis.com/charts",
        "1.27.1",
        "istio-system",
        -35,
        SERVING,
        "Istio control plane; sidecar injection stays off (KServe's default)",
        "kserve/kserve v0.20.0 quick-install script",
        chart="istiod",
        values={"proxy": {"autoInject": "disabled"}},
    ),
    Component(
        "istio-ingressgateway",
        "https://istio-release.storage.googleapis.com/charts",
        "1.27.1",
        "istio-system",
        -30,
        SERVING,
        "the gateway in istio-system that mlc's serving NetworkPolicies admit",
        "kserve/kserve v0.20.0 quick-install script",
        chart="gateway",
    ),
    Component(
        "knative-operator",
        "https://knative.github.io/operator",
        "v1.21.1",
        "knative-operator",
        -35,
        (*SERVING, "Route"),  # a canary's Route (serving.knative.dev) is Knative Serving's own kind
        "installs Knative Serving from the KnativeServing object in platform-config",
        "kserve/kserve v0.20.0 quick-install script (KNATIVE_OPERATOR_VERSION)",
        chart="knative-operator",
    ),
    Component(
        "kserve-crd",
        "ghcr.io/kserve/charts",
        "v0.20.0",
        "kserve",
        -30,
        SERVING,
        "InferenceService CRD (the schema mlc validates against is this release's)",
        "kserve/kserve v0.20.0 charts/kserve-crd",
        chart="kserve-crd",
    ),
    Component(
        "kserve-resources",
        "ghcr.io/kserve/charts",
        "v0.20.0",
        "kserve",
        -20,
        SERVING,
        "KServe controller in Knative mode (scale to zero and concurrency autoscaling need it; canaries are split by a Knative Route)",
        "kserve/kserve v0.20.0 charts/kserve-resources/values.yaml (kserve.controller.deploymentMode)",
        chart="kserve-resources",
        values={"kserve": {"version": "v0.20.0", "controller": {"deploymentMode": "Knative"}}},
    ),
    Component(
        "kserve-runtime-configs",
        "ghcr.io/kserve/charts",
        "v0.20.0",
        "kserve",
        -15,
        SERVING,
        "the ClusterServingRuntimes that serve `runtime:` model formats",
        "kserve/kserve v0.20.0 quick-install script (RUNTIME_CONFIG_CHART_NAME)",
        chart="kserve-runtime-configs",
        values={"kserve": {"version": "v0.20.0", "servingruntime": {"enabled": True}}},
    ),
    Component(
        "external-secrets",
        "https://charts.external-secrets.io",
        "2.9.0",
        "external-secrets",
        -30,
        ("ExternalSecret",),
        "External Secrets Operator: turns ExternalSecrets into Secrets from the cloud's secret manager",
        "external-secrets/external-secrets v2.9.0 deploy/charts/external-secrets",
        chart="external-secrets",
    ),
    Component(
        "spark-operator",
        "https://kubeflow.github.io/spark-operator",
        "2.5.2",
        "spark-operator",
        -30,
        ("SparkApplication", "ScheduledSparkApplication"),
        "runs SparkApplications; its mutating webhook applies the pod fields mlc sets (securityContext, volumes, tolerations)",
        "kubeflow/spark-operator v2.5.2 charts/spark-operator-chart/values.yaml",
        chart="spark-operator",
    ),
    Component(
        "training-operator",
        "https://github.com/kubeflow/trainer.git",
        "v1.9.4",
        "kubeflow",
        -30,
        ("PyTorchJob",),
        "Kubeflow Training Operator v1: runs PyTorchJobs (no Helm chart upstream; its kustomize overlay)",
        "kubeflow/trainer v1.9.4 manifests/overlays/standalone",
        path="manifests/overlays/standalone",
    ),
    Component(
        "katib",
        "https://github.com/kubeflow/katib.git",
        "v0.19.0",
        "kubeflow",
        -30,
        ("Experiment",),
        "Katib (controller, DB manager on :6789, MySQL): runs tuning Experiments; trials push metrics (no sidecar injection)",
        "kubeflow/katib v0.19.0 manifests/v1beta1/installs/katib-standalone",
        path="manifests/v1beta1/installs/katib-standalone",
    ),
    Component(
        "kuberay-operator",
        "https://ray-project.github.io/kuberay-helm/",
        "1.7.0",
        "kuberay",
        -30,
        ("RayJob",),
        "KubeRay operator: runs RayJobs (HTTP submission to the head's dashboard on :8265)",
        "ray-project/kuberay v1.7.0 helm-chart/kuberay-operator",
        chart="kuberay-operator",
        app_version="v1.7.0",
    ),
    Component(
        "kube-prometheus-stack",
        "https://prometheus-community.github.io/helm-charts",
        "88.1.6",
        "monitoring",
        -30,
        ("ServiceMonitor", "PodMonitor", "PrometheusRule"),
        "Prometheus operator v0.93.0 and a Prometheus in `monitoring` that selects mlc's monitors and rules",
        "prometheus-community/helm-charts kube-prometheus-stack-88.1.6 (appVersion v0.93.0)",
        chart="kube-prometheus-stack",
        app_version="v0.93.0",
    ),
    Component(
        "argo-workflows",
        "https://argoproj.github.io/argo-helm",
        "1.0.18",
        "argo",
        -30,
        ("WorkflowTemplate", "CronWorkflow"),
        "Argo Workflows controller: runs mlc's pipelines and scheduled runs",
        "argoproj/argo-helm argo-workflows-1.0.18 (appVersion v4.0.6, the newest chart; mlc's CRD schemas are v4.1.2, same v4 API)",
        chart="argo-workflows",
        app_version="v4.0.6",
    ),
    Component(
        "flink-kubernetes-operator",
        "https://downloads.apache.org/flink/flink-kubernetes-operator-1.15.0/",
        "1.15.0",
        "flink-operator",
        -30,
        ("FlinkDeployment",),
        "runs FlinkDeployments (application mode), takes their savepoints on upgrade; its webhook is off, so cert-manager is not needed",
        "apache/flink-kubernetes-operator release-1.15.0 helm/flink-kubernetes-operator/values.yaml (webhook.create)",
        chart="flink-kubernetes-operator",
        values={"webhook": {"create": False}},
    ),
    Component(
        "feast-operator",
        "https://github.com/feast-dev/feast.git",
        "v0.66.0",
        "feast-operator-system",
        -30,
        ("FeatureStore",),
        "runs FeatureStores (feast.dev/v1): the registry, offline and online feature servers of each feature store",
        "feast-dev/feast v0.66.0 infra/feast-operator/config/default (the operator's kustomize install)",
        path="infra/feast-operator/config/default",
    ),
    Component(
        "nvidia-device-plugin",
        "https://nvidia.github.io/k8s-device-plugin",
        "0.19.0",
        "nvidia-device-plugin",
        -30,
        (GPU_TRIGGER,),
        "advertises nvidia.com/gpu on mlc's GPU pools; tolerates mlc's taints (the chart's defaults tolerate only nvidia.com/gpu)",
        "NVIDIA/k8s-device-plugin v0.19.0 deployments/helm/nvidia-device-plugin/values.yaml (tolerations, affinity)",
        chart="nvidia-device-plugin",
        providers=("aws",),  # GKE installs and manages the device plugin on GPU nodes itself
    ),
)

BY_NAME = {c.name: c for c in COMPONENTS}
CONFIG_WAVE = -10  # platform-config: objects of the controllers' CRDs
PROJECT_WAVE = -50


def needed(triggers: set[str], provider: str) -> list[Component]:
    """The components the given triggers require on `provider`, in wave then name order."""
    chosen = [c for c in COMPONENTS if provider in c.providers and triggers & set(c.needed_by)]
    return sorted(chosen, key=lambda c: (c.wave, c.name))
