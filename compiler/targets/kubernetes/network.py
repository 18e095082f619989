"""NetworkPolicies: deny everything in the namespace, then allow what the graph needs.

  mlc-default-deny      every pod: no ingress, no egress
  mlc-allow-dns         every pod: egress to kube-dns in kube-system, UDP and TCP 53
  <workload>            per workload (pods selected by app.kubernetes.io/name), egress to
                        each of its real dependencies (`egress_dependencies`, one rule each):
                        TCP 443 anywhere: object stores (S3 / GCS), KMS, the token endpoints
                          of workload identity (AWS STS for IRSA's AssumeRoleWithWebIdentity,
                          Google's STS/IAM credentials API), the Kubernetes API (Spark driver).
                          Not narrower because those endpoints are large, changing public
                          ranges (or VPC endpoint prefix lists) that a NetworkPolicy cannot
                          name; FQDN rules need a CNI extension (Cilium, Calico). Buckets are
                          protected by the least-privilege identity.
                        GCP only, the GKE metadata server, where Workload Identity hands out
                          the pod's Google credentials: 169.254.169.254/32 TCP 80 (the address
                          client libraries call) and 169.254.169.252/32 TCP 988 (where GKE
                          Dataplane V2 redirects that traffic to gke-metadata-server). Source:
                          GKE docs "Use Workload Identity Federation for GKE", section on
                          network policies. AWS: nothing beyond 443. IRSA needs no instance
                          metadata (the webhook mounts a web-identity token, the SDK's chain
                          reads it before IMDS), and 169.254.169.254 stays blocked on purpose:
                          a pod that falls back to IMDS would get the node's role.
                        each database it reads/writes on the engine port (5432 / 3306): the
                          database's address is not known here (Terraform owns it), its
                          security group / authorised networks restrict the other side
                        Spark and multi-node training: all traffic between the app's own pods
                          (driver <-> executors, master <-> workers, NCCL)
                        serving: ingress on the serving ports from the namespace only, or from
                          anywhere when `public: true` (see below for KServe); egress to its
                          drift detector when it has one (monitor_workloads)
                        each feature store it reads or writes: its online store (Redis, TLS)
                          on 6379 (Azure Cache: 6380; address owned by Terraform; security
                          groups / authorised network / private endpoint restrict the other side)
  <feature store>       its materialisation pods: egress 443, identity endpoints, Redis (same port)
                        a workload logging to a tracking server (`tracking`): egress to the
                          server's pods on 5000; the server: ingress on 5000 from exactly those
                          workloads' pods
                        a tuning job's trial: egress to katib-db-manager (kubeflow, 6789) to
                          push its metrics; a Ray job: ingress to its pods on the dashboard port
                          8265 from the KubeRay operator's namespace (HTTP job submission)
                        tuning and edge deployments have no pods of their own here (trials run
                          as the trial job; edge servers on the fleet's clusters)
  <tuning>-suggestion   ingress to the Experiment's suggestion pods from Katib's controller
  <monitoring>-scrape-<target>
                        ingress to the target's metrics port from the Prometheus namespace
                        (`kubernetes.io/metadata.name: monitoring`)
  mlc-argo-workflows    Argo Workflows pods (labels naming.workflow_pod_labels): egress 443 to
                        the Kubernetes API, when argo/ has workflows for this environment

KServe InferenceServices run in Knative (serverless) mode, the mode that supports canary
traffic splits and concurrency/rps autoscaling. Requests reach the predictor pods through
the queue-proxy (8012 HTTP/1, 8013 h2c) from the Knative activator (namespace
knative-serving) and the ingress gateway (namespace istio-system), so those namespaces are
allowed besides the workload's own namespace; the autoscaler (knative-serving) scrapes
queue-proxy on 9090 and probes via 8022. A private InferenceService is additionally labelled
cluster-local, so the gateway does not expose it outside the cluster.
"""

from __future__ import annotations

from typing import Any

from compiler.model.environment import Component
from compiler.model.kinds import Category, Trait
from compiler.plan.compiled import Compiled
from compiler.providers import naming
from compiler.targets.kubernetes import common as c
from compiler.targets.kubernetes.kinds import handler, is_kserve
from compiler.targets.kubernetes.monitor_workloads import logger_egress

NAMESPACE_LABEL = "kubernetes.io/metadata.name"
PROMETHEUS_NAMESPACE = "monitoring"
KNATIVE_NAMESPACE = "knative-serving"
GATEWAY_NAMESPACE = "istio-system"
QUEUE_PROXY_PORTS = (8012, 8013)
KNATIVE_SYSTEM_PORTS = (8012, 8013, 8022, 9090)
DB_PORTS = {"postgres": 5432, "mysql": 3306}
HTTPS = 443


def _ports(*numbers: int, protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"protocol": protocol, "port": n} for n in sorted(set(numbers))]


def _namespace_peer(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: name}}}


def _policy(
    compiled: Compiled, name: str, component: Component | None, selector: dict[str, Any], ingress: list | None, egress: list | None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": selector}
    types = []
    if ingress is not None:
        types.append("Ingress")
    if egress is not None:
        types.append("Egress")
    spec["policyTypes"] = types
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return c.k8s_object("networking.k8s.io/v1", "NetworkPolicy", c.metadata(compiled, "NetworkPolicy", name, component), spec=spec)


def default_deny(compiled: Compiled) -> dict[str, Any]:
    return _policy(compiled, "mlc-default-deny", None, {}, [], [])


def allow_dns(compiled: Compiled) -> dict[str, Any]:
    peer = {"namespaceSelector": {"matchLabels": {NAMESPACE_LABEL: "kube-system"}}, "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}
    rule = {"to": [peer], "ports": _ports(53, protocol="UDP") + _ports(53)}
    return _policy(compiled, "mlc-allow-dns", None, {}, None, [rule])


def _ip_rule(cidr: str, port: int) -> dict[str, Any]:
    return {"to": [{"ipBlock": {"cidr": cidr}}], "ports": _ports(port)}


def egress_dependencies(compiled: Compiled, component: Component) -> list[tuple[str, dict[str, Any]]]:
    """(why, NetworkPolicy egress rule) for every dependency of a workload's pods, in order."""
    env = compiled.env
    out: list[tuple[str, dict[str, Any]]] = [("object stores, KMS, STS, Kubernetes API over TLS", {"ports": _ports(HTTPS)})]
    from compiler.providers.registry import provider_of

    out += [(why, _ip_rule(cidr, port)) for why, cidr, port in provider_of(env).identity_egress]
    stores = sorted(set(compiled.graph.reads(component.name)) | set(compiled.graph.writes(component.name)))
    db_ports = [DB_PORTS[env.components[s].spec["engine"]] for s in stores if env.components[s].has(Trait.DATABASE)]
    if db_ports:
        out.append(("databases it reads or writes", {"ports": _ports(*db_ports)}))
    if any(env.components[s].has(Trait.FEATURE_STORE) for s in stores):
        redis = {"ports": _ports(provider_of(env).feature_online_port)}
        out.append(("the online stores (Redis) of the feature stores it reads or writes", redis))
    if component.kind.distributed(component):
        own = {"podSelector": {"matchLabels": naming.selector_labels(component)}}
        out.append(("its own pods (Spark driver and executors, torch.distributed rendezvous and NCCL)", {"to": [own]}))
    if component.has(Trait.LONG_RUNNING):
        out += [("its request logger's drift detector", rule) for rule in logger_egress(compiled, component)]
    out += lifecycle_egress(compiled, component)
    return out


def lifecycle_egress(compiled: Compiled, component: Component) -> list[tuple[str, dict[str, Any]]]:
    """Egress to the tracking server it logs to, and to Katib's DB manager when it is a trial."""
    from compiler.targets.kubernetes.lifecycle import KATIB_NAMESPACE, KATIB_PORT, tracking_server_of, tuning_jobs_of

    out: list[tuple[str, dict[str, Any]]] = []
    server = tracking_server_of(compiled, component.name)
    if server is not None:
        peer = {"podSelector": {"matchLabels": naming.selector_labels(server)}}
        out.append((f"its tracking server {server.name}", {"to": [peer], "ports": _ports(naming.TRACKING_PORT)}))
    if tuning_jobs_of(compiled, component.name):
        out.append(("Katib's DB manager (trial metrics push)", {"to": [_namespace_peer(KATIB_NAMESPACE)], "ports": _ports(KATIB_PORT)}))
    return out


def lifecycle_ingress(compiled: Compiled, component: Component) -> list[dict[str, Any]]:
    """A tracking server admits the workloads that log to it."""
    clients = sorted(e.target for e in compiled.graph.edges_of("tracking") if e.source == component.name)
    if not clients:
        return []
    env = compiled.env
    peers = [{"podSelector": {"matchLabels": naming.selector_labels(env.components[name])}} for name in clients]
    return [{"from": peers, "ports": _ports(naming.TRACKING_PORT)}]


def workload_policy(compiled: Compiled, component: Component) -> dict[str, Any]:
    own = {"podSelector": {"matchLabels": naming.selector_labels(component)}}
    egress = [rule for _, rule in egress_dependencies(compiled, component)]
    ingress: list[dict[str, Any]] = []
    if component.kind.distributed(component):  # pods of one run talk to each other
        ingress.append({"from": [own]})
    ingress += handler(component).ingress(compiled, component)
    ingress += lifecycle_ingress(compiled, component)
    if component.has(Trait.LONG_RUNNING):
        public = bool(component.get("public"))
        if is_kserve(component):
            clients = None if public else [{"podSelector": {}}, _namespace_peer(GATEWAY_NAMESPACE)]
            rule: dict[str, Any] = {"ports": _ports(*QUEUE_PROXY_PORTS)}
            if clients is not None:
                rule = {"from": clients, **rule}
            ingress.append(rule)
            ingress.append({"from": [_namespace_peer(KNATIVE_NAMESPACE)], "ports": _ports(*KNATIVE_SYSTEM_PORTS)})
        else:
            rule = {"ports": _ports(int(component.spec["port"]))}
            if not public:
                rule = {"from": [{"podSelector": {}}], **rule}
            ingress.append(rule)
    return _policy(compiled, component.name, component, {"matchLabels": naming.selector_labels(component)}, ingress, egress)


def metrics_ports(component: Component) -> list[int]:
    """Ports Prometheus scrapes on a monitoring target's pods."""
    return [handler(component).scrape(component).port]


def scrape_policy_name(monitoring: Component, target: Component) -> str:
    return naming.bounded(f"{monitoring.name}-scrape-{target.name}", 63)


def scrape_policies(compiled: Compiled, monitoring: Component) -> list[dict[str, Any]]:
    env = compiled.env
    out = []
    for name in sorted(set(monitoring.get("targets") or [])):
        target = env.components[name]
        rule = {"from": [_namespace_peer(PROMETHEUS_NAMESPACE)], "ports": _ports(*metrics_ports(target))}
        out.append(
            _policy(
                compiled, scrape_policy_name(monitoring, target), monitoring, {"matchLabels": naming.selector_labels(target)}, [rule], None
            )
        )
    return out


def feature_store_policy(compiled: Compiled, store: Component) -> dict[str, Any]:
    """The materialisation pods of a feature store: offline lake and registry over 443, the
    identity endpoints, its online store (Redis) on the provider's TLS port; no ingress."""
    from compiler.providers.registry import provider_of

    egress = [{"ports": _ports(HTTPS)}]
    egress += [_ip_rule(cidr, port) for _, cidr, port in provider_of(compiled.env).identity_egress]
    egress.append({"ports": _ports(provider_of(compiled.env).feature_online_port)})
    return _policy(compiled, store.name, store, {"matchLabels": naming.selector_labels(store)}, [], egress)


def argo_policy(compiled: Compiled) -> dict[str, Any]:
    selector = {"matchLabels": naming.workflow_pod_labels(compiled.env)}
    return _policy(compiled, "mlc-argo-workflows", None, selector, None, [{"ports": _ports(HTTPS)}])


def emit_network_policies(compiled: Compiled, *, argo: bool) -> list[dict[str, Any]]:
    env = compiled.env
    objects = [default_deny(compiled), allow_dns(compiled)]
    for component in env.components.values():
        if component.is_workload and not component.has(Trait.FOREIGN_PODS):
            objects.append(workload_policy(compiled, component))
        elif component.category is Category.MONITORING:
            objects += scrape_policies(compiled, component)
    if argo:
        objects.append(argo_policy(compiled))
    return objects


# shared with the lifecycle kinds' own policies (kubernetes/lifecycle.py)
policy, namespace_peer, ports = _policy, _namespace_peer, _ports
