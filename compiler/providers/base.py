"""What a cloud provider is to the compiler: one class per provider (providers/aws.py, gcp.py, azure.py).

Everything that differs between clouds sits behind this class: the workload identity the
Kubernetes ServiceAccount is annotated with (and its name, shared with Terraform), store
URIs, the secret store, name-length limits, the pricing section, and the Terraform
emitter. A provider that does not implement a part raises `NotSupportedError` naming the
target; the pipeline reports it as an input error at `cloud.provider` (MLC-E026), so a new
provider is never treated as one of the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from compiler.model.environment import Component, Environment
    from compiler.plan.pricing import InstanceType, ProviderPrices
    from compiler.targets.terraform.emitter import TerraformEmitter


class NotSupportedError(Exception):
    """The environment's provider lacks what a target needs."""

    def __init__(self, provider: str, target: str, what: str):
        super().__init__(f'cloud provider "{provider}" is not supported by the {target} target ({what})')
        self.provider = provider
        self.target = target
        self.what = what


class Provider:
    """A cloud provider. Subclasses set the class attributes and override what they support."""

    name: ClassVar[str]
    pricing_key: ClassVar[str | None] = None  # section of compiler/data/pricing.yaml
    store_scheme: ClassVar[str | None] = None  # URI scheme of bucket-backed stores (s3, gs)
    store_schemes_read: ClassVar[tuple[str, ...]] = ()  # schemes a spec may use to name a store (s3, s3a)
    catalog_name_limit: ClassVar[int] = 63  # data_lake catalog database / dataset name
    stream_retention_hours: ClassVar[tuple[int, int] | None] = None  # (min, max) a stream keeps events; None: no streams
    # Terraform resource type of a stream and its attributes that decide its encryption (MLC-SEC-060)
    stream_resource: ClassVar[tuple[str, tuple[str, ...]] | None] = None
    # online-store engines of a feature store mlc can create here (Terraform)
    feature_online_engines: ClassVar[tuple[str, ...]] = ()
    # Terraform resource type of a feature store's online store and its attributes that decide
    # its encryption and authentication (MLC-SEC-062)
    feature_online_resource: ClassVar[tuple[str, tuple[str, ...]] | None] = None
    # TCP port of the online store's TLS endpoint (network policies of readers, writers, materialisation)
    feature_online_port: ClassVar[int] = 6379
    #: instance families that run as confidential VMs (node_pools.<name>.confidential: true),
    #: and how the provider calls the technology, for messages
    confidential_families: ClassVar[tuple[str, ...]] = ()
    confidential_technology: ClassVar[str] = "confidential VMs"
    # (key, value) of the NoSchedule taint on spot nodes that workloads on spot tolerate;
    # None: mlc's own taint (naming.SPOT_TAINT_KEY), which the Terraform node pools set
    spot_taint: ClassVar[tuple[str, str] | None] = None

    def unsupported(self, target: str, what: str) -> NotSupportedError:
        return NotSupportedError(self.name, target, what)

    # --- what the platform and the pods need from the provider
    #: (why, CIDR, TCP port) a workload's pods must reach beyond TCP 443 to get their identity
    identity_egress: ClassVar[tuple[tuple[str, str, int], ...]] = ()

    def spark_store_conf(self) -> dict[str, str]:
        """Spark (Hadoop connector) settings that make it use the pod's workload identity."""
        raise self.unsupported("kubernetes", "no Spark object-store credentials")

    def secret_store_settings(self, env: Environment) -> dict[str, str]:
        """Cluster-wide facts of the provider's secret store (part of the platform settings,
        so two environments on one cluster that would need two stores are an error)."""
        return {}

    def external_secrets_provider(self, settings: dict[str, Any]) -> dict[str, Any]:
        """The `spec.provider` of the ClusterSecretStore External Secrets reads through."""
        raise self.unsupported("platform", "no External Secrets provider")

    # --- Kubernetes
    def identity_annotation(self, env: Environment, component: Component) -> dict[str, str]:
        """Annotation binding a workload's ServiceAccount to its cloud identity."""
        raise self.unsupported("kubernetes", "no workload identity")

    def pod_labels(self, env: Environment, component: Component) -> dict[str, str]:
        """Labels a workload's pods need for its cloud identity (none unless a provider says so)."""
        return {}

    def secret_entry(self, path: str) -> str:
        """The name a secret manager entry `path` (mlc/<env>/<component>/<what>) has in this
        provider's secret store."""
        return path

    def secret_store(self, env: Environment) -> str:
        """ClusterSecretStore (External Secrets Operator) of the provider's secret manager."""
        raise self.unsupported("kubernetes", "no secret store")

    def store_uri(self, env: Environment, store: Component, path: str = "") -> str:
        """<scheme>://<bucket>[/path] of a bucket-backed store (naming.bucket_name)."""
        if self.store_scheme is None:
            raise self.unsupported("kubernetes", "no object-store URI scheme")
        from compiler.providers.naming import bucket_name

        uri = f"{self.store_scheme}://{bucket_name(env, store)}"
        return f"{uri}/{path.strip('/')}" if path.strip("/") else uri

    # --- pricing and the instance catalogue
    def prices(self) -> ProviderPrices | None:
        """The provider's section of the pricing data (None: not priced)."""
        if self.pricing_key is None:
            return None
        from compiler.plan.pricing import load_pricing

        return load_pricing().providers.get(self.pricing_key)

    def instance(self, instance_type: str) -> InstanceType | None:
        """Facts of an instance/machine type from the pricing data (None when unknown)."""
        prices = self.prices()
        return prices.instances.get(instance_type) if prices else None

    def confidential_capable(self, instance_type: str) -> bool:
        """Whether node pools of this instance type can run as confidential VMs."""
        family = instance_type.split(".", 1)[0] if "." in instance_type else instance_type.split("-", 1)[0]
        return family in self.confidential_families

    # --- Terraform
    def terraform(self) -> TerraformEmitter:
        raise self.unsupported("terraform", "no Terraform emitter")
