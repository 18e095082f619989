"""edge_deployment: a hardened model server delivered to a fleet of edge clusters.

  argocd/applicationset-<env>-<name>.yaml   ApplicationSet: a `clusters` generator selecting the
                                            Argo CD cluster secrets labelled fleet.cluster_labels;
                                            one Application per cluster syncing edge/<name>/;
                                            progressive sync (RollingSync) updates at most
                                            rollout.max_unavailable_percent of the fleet at once
  argocd/appproject-<env>-<name>.yaml       AppProject of the fleet: exactly the edge objects
                                            below, only into the edge namespace
  edge/<name>/                              kustomize directory the Applications sync:
    namespace       Pod Security restricted (enforce/audit/warn)
    serviceaccount  the fleet identity's subject; no API token mounted
    deployment      the model server (runtime image pinned by digest), read-only root
                    filesystem, non-root, no capabilities, seccomp RuntimeDefault; a projected
                    ServiceAccount token (audience sts.amazonaws.com) and AWS_ROLE_ARN /
                    AWS_WEB_IDENTITY_TOKEN_FILE, so the cloud SDK in the image assumes the
                    fleet's role, which may only read the model path (terraform/identity-<name>);
                    RollingUpdate with maxUnavailable = rollout.max_unavailable_percent
    service         ClusterIP on `port`
    networkpolicy   default deny; DNS; egress TCP 443 (object store, STS); ingress on `port`
                    from pods of the edge cluster
The image contract: serve HTTP on `port` (PORT), load the model from MODEL_URI (a directory
of the object store, read-only) with the SDK's default credential chain; write only under /tmp.
The Triton runtime is started with `--model-repository=$(MODEL_URI)`, which Triton reads
from S3 natively.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.plan.compiled import Compiled
from compiler.providers import aws, naming
from compiler.targets.artifact import Artifact
from compiler.targets.kubernetes import common as c

API_VERSION = "argoproj.io/v1alpha1"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
WAVE_PROJECT, WAVE_MAIN = "-1", "0"  # as the environment's own AppProject and Application
EDGE_LABEL = "mlc.dev/edge-deployment"
TOKEN_DIR = "/var/run/secrets/mlc/aws"
TOKEN_AUDIENCE = "sts.amazonaws.com"
TOKEN_SECONDS = 3600
PSA_LEVEL = "restricted"


def edge_dir(component: Component) -> str:
    return f"edge/{component.name}"


def _meta(compiled: Compiled, component: Component, name: str, namespace: str | None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace:
        meta["namespace"] = namespace
    meta["labels"] = dict(sorted({**naming.k8s_labels(compiled.env, component), **labels}.items()))
    return meta


def model_uri(compiled: Compiled, component: Component) -> str:
    env = compiled.env
    model = component.spec["model"]
    return naming.store_uri(env, env.components[model["from"]], model["path"])


def server_deployment(compiled: Compiled, component: Component, namespace: str) -> dict[str, Any]:
    env = compiled.env
    image = component.spec["image"]
    port = int(component.spec["port"])
    extra = {
        "MODEL_URI": model_uri(compiled, component),
        "MODEL_RUNTIME": str(component.spec["runtime"]),
        "PORT": str(port),
        "AWS_REGION": env.region,
        "AWS_ROLE_ARN": aws.role_arn(env, component),
        "AWS_WEB_IDENTITY_TOKEN_FILE": f"{TOKEN_DIR}/token",
    }
    server: dict[str, Any] = {"name": "server", "image": image, "imagePullPolicy": c.image_pull_policy(image)}
    if component.spec["runtime"] == "triton":
        server["args"] = ["tritonserver", "--model-repository=$(MODEL_URI)", f"--http-port={port}", "--allow-grpc=false"]
    server["ports"] = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    server["env"] = c.env_vars(env, component, extra)
    server["resources"] = c.resources(component)
    server["securityContext"] = c.container_security_context()
    server["volumeMounts"] = [c.tmp_mount(), {"name": "cloud-token", "mountPath": TOKEN_DIR, "readOnly": True}]
    server["livenessProbe"] = {"tcpSocket": {"port": "http"}, "initialDelaySeconds": 10, "periodSeconds": 10}
    server["readinessProbe"] = {"tcpSocket": {"port": "http"}, "periodSeconds": 5}
    token = {"serviceAccountToken": {"audience": TOKEN_AUDIENCE, "expirationSeconds": TOKEN_SECONDS, "path": "token"}}
    pod = {
        "serviceAccountName": naming.service_account(component),
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": c.pod_security_context(),
        "containers": [server],
        "volumes": [c.tmp_volume(), {"name": "cloud-token", "projected": {"sources": [token]}}],
    }
    percent = f"{int(component.spec['rollout']['max_unavailable_percent'])}%"
    spec = {
        "replicas": 1,
        "revisionHistoryLimit": 3,
        "selector": {"matchLabels": naming.selector_labels(component)},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": percent}},
        "template": {"metadata": {"labels": naming.k8s_labels(env, component)}, "spec": pod},
    }
    return c.k8s_object("apps/v1", "Deployment", _meta(compiled, component, component.name, namespace), spec=spec)


def edge_objects(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    namespace = naming.edge_namespace(component)
    version = f"v{compiled.env.spec['cluster'].get('version', '1.31')}"
    psa = {}
    for mode in ("audit", "enforce", "warn"):
        psa[f"pod-security.kubernetes.io/{mode}"] = PSA_LEVEL
        psa[f"pod-security.kubernetes.io/{mode}-version"] = version
    port = int(component.spec["port"])
    own = {"matchLabels": naming.selector_labels(component)}
    dns = {
        "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}],
        "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
    }
    policy_spec = {
        "podSelector": own,
        "policyTypes": ["Ingress", "Egress"],
        "ingress": [{"from": [{"namespaceSelector": {}}], "ports": [{"protocol": "TCP", "port": port}]}],
        "egress": [dns, {"ports": [{"protocol": "TCP", "port": 443}]}],
    }
    deny = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    service = {
        "type": "ClusterIP",
        "selector": naming.selector_labels(component),
        "ports": [{"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}],
    }
    return [
        c.k8s_object("v1", "Namespace", _meta(compiled, component, namespace, None, **psa)),
        c.k8s_object(
            "v1",
            "ServiceAccount",
            _meta(compiled, component, naming.service_account(component), namespace),
            automountServiceAccountToken=False,
        ),
        server_deployment(compiled, component, namespace),
        c.k8s_object("v1", "Service", _meta(compiled, component, component.name, namespace), spec=service),
        c.k8s_object("networking.k8s.io/v1", "NetworkPolicy", _meta(compiled, component, "mlc-default-deny", namespace), spec=deny),
        c.k8s_object("networking.k8s.io/v1", "NetworkPolicy", _meta(compiled, component, component.name, namespace), spec=policy_spec),
    ]


def fleet_project(compiled: Compiled, component: Component, objects: list[dict[str, Any]]) -> dict[str, Any]:
    env = compiled.env
    namespace = naming.edge_namespace(component)
    namespaced = sorted({(o["apiVersion"].rpartition("/")[0], o["kind"]) for o in objects if o["kind"] != "Namespace"})
    return {
        "apiVersion": API_VERSION,
        "kind": "AppProject",
        "metadata": {
            "name": naming.edge_application_set(env, component),
            "namespace": naming.ARGOCD_NAMESPACE,
            "labels": naming.k8s_labels(env, component),
            "annotations": {SYNC_WAVE: WAVE_PROJECT},
        },
        "spec": {
            "description": f"mlc environment {env.name}: edge fleet {component.name}, only its model server",
            "sourceRepos": [env.spec["gitops"]["repo"]],
            "destinations": [{"name": "*", "namespace": namespace}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace", "name": namespace}],
            "namespaceResourceWhitelist": [{"group": g, "kind": k} for g, k in namespaced],
            "orphanedResources": {"warn": True},
        },
    }


def application_set(compiled: Compiled, component: Component) -> dict[str, Any]:
    env = compiled.env
    gitops = env.spec["gitops"]
    name = naming.edge_application_set(env, component)
    labels = dict(sorted(component.spec["fleet"]["cluster_labels"].items()))
    percent = f"{int(component.spec['rollout']['max_unavailable_percent'])}%"
    app_labels = {**naming.k8s_labels(env, component), EDGE_LABEL: component.name}
    template = {
        "metadata": {"name": f"{name}-{{{{ .name }}}}", "labels": dict(sorted(app_labels.items()))},
        "spec": {
            "project": name,
            "source": {"repoURL": gitops["repo"], "targetRevision": gitops["revision"], "path": f"out/{env.name}/{edge_dir(component)}"},
            "destination": {"server": "{{ .server }}", "namespace": naming.edge_namespace(component)},
            "syncPolicy": {"syncOptions": ["ServerSideApply=true", "CreateNamespace=false", "PruneLast=true"], "retry": {"limit": 5}},
        },
    }
    spec = {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [{"clusters": {"selector": {"matchLabels": labels}}}],
        "strategy": {
            "type": "RollingSync",
            "rollingSync": {
                "steps": [{"matchExpressions": [{"key": EDGE_LABEL, "operator": "In", "values": [component.name]}], "maxUpdate": percent}]
            },
        },
        "template": template,
    }
    meta = {
        "name": name,
        "namespace": naming.ARGOCD_NAMESPACE,
        "labels": naming.k8s_labels(env, component),
        "annotations": {SYNC_WAVE: WAVE_MAIN},
    }
    return {"apiVersion": API_VERSION, "kind": "ApplicationSet", "metadata": meta, "spec": spec}


def emit_edge(compiled: Compiled, component: Component) -> list[Artifact]:
    env = compiled.env
    base = edge_dir(component)
    objects = edge_objects(compiled, component)
    out = [
        Artifact(
            f"argocd/applicationset-{naming.edge_application_set(env, component)}.yaml",
            application_set(compiled, component),
            "yaml",
            component.name,
        ),
        Artifact(
            f"argocd/appproject-{naming.edge_application_set(env, component)}.yaml",
            fleet_project(compiled, component, objects),
            "yaml",
            component.name,
        ),
    ]
    files = [f"{o['kind'].lower()}-{o['metadata']['name']}.yaml" for o in objects]
    out += [Artifact(f"{base}/{f}", o, "yaml", component.name) for f, o in zip(files, objects, strict=True)]
    kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": sorted(files)}
    out.append(Artifact(f"{base}/kustomization.yaml", kustomization, "yaml", component.name))
    return out
