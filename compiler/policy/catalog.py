"""The catalog of built-in Python rules: data only (id, title, severity, rationale, fix).

A title states the GOOD state ("Stores holding pii data are private"); a finding is
reported when the state does not hold. The predicates live in `checks_*.py` and are
paired with these entries, by id, in `registry.CHECKS`. KCL rules declare the same
fields in their `.k` file (see compiler/policy/kcl.py) and become `Rule` values too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RULE_ID = re.compile(r"MLC-(SEC|IAM|NET|BUD|GOV|REL|COST|USR)-[0-9]{3}\Z")  # same as the waiver schema
AREAS = {
    "SEC": "security",
    "IAM": "identity and access",
    "NET": "network exposure",
    "BUD": "budget and cost",
    "GOV": "governance and compliance",
    "REL": "reliability",
    "COST": "cost",
    "USR": "user-defined",
}
BUILTIN = "built-in"


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # the good state
    severity: str  # error | warning | info
    rationale: str
    fix: str
    waivable: bool = True
    source: str = BUILTIN  # "built-in" (Python) or the project-relative path of a .k file

    @property
    def area(self) -> str:
        return self.id.split("-")[1]


def _r(id: str, severity: str, title: str, rationale: str, fix: str, waivable: bool = True) -> Rule:
    return Rule(id, title, severity, rationale, fix, waivable)


CATALOG: tuple[Rule, ...] = (
    # ------------------------------------------------------------------ SEC: security
    _r(
        "MLC-SEC-001",
        "error",
        "No credential is written in plaintext in an environment file",
        "Environment files are committed to Git and copied into CI logs, plan.json and pull-request "
        "reviews; a credential written there is leaked to everyone who can read the repository, "
        "forever (Git history). Detection covers well-known key formats (cloud keys, private keys, "
        "tokens, connection strings with passwords) and long high-entropy strings. The message "
        "never repeats the value.",
        "Rotate the credential now (assume it is compromised), remove it from the file, store it in "
        'the secret manager and reference it: `env: {NAME: {secret: "<path>#<key>"}}`.',
        waivable=False,
    ),
    _r(
        "MLC-SEC-002",
        "error",
        "Stores holding pii or confidential data are not public",
        "A public bucket is readable by anyone on the internet. Classification follows the data "
        "flow (lineage): a store written by a job that reads pii data holds pii data too, whatever "
        "its own `classification` says.",
        "Remove `public: true` from the store. Publish a reviewed, anonymised extract to a separate store classified `public` instead.",
    ),
    _r(
        "MLC-SEC-003",
        "error",
        "Public endpoints do not serve models derived from pii data",
        "A model trained on personal data can leak it (membership inference, memorised training "
        "examples). An internet-facing endpoint serving such a model exposes that data to "
        "anyone. The finding shows the lineage path from the pii source to the endpoint.",
        "Make the endpoint private (`public: false`) and put an authenticated gateway in front of "
        "it, or train the served model on anonymised data only.",
    ),
    _r(
        "MLC-SEC-004",
        "warning",
        "Stores are not public",
        "Even data classified internal or public should only be published deliberately: a public "
        "bucket is an exfiltration path and an egress-cost risk. Pii and confidential stores are "
        "covered by MLC-SEC-002 (error); this rule makes every other public store an explicit, "
        "reviewed decision.",
        "Remove `public: true`, or add a waiver with the reason (e.g. a mirror of open data) in `exceptions:`.",
    ),
    _r(
        "MLC-SEC-005",
        "warning",
        "Container images are pinned by digest",
        "A tag (`:1.4.2`, `:latest`) can be moved to different content after review; only a "
        "digest (`@sha256:...`) guarantees that what runs is what was reviewed and scanned, and "
        "makes the compiled output reproducible.",
        "Append the digest: `image: registry/app:1.4.2@sha256:<64 hex>` (e.g. from `crane digest` or `docker buildx imagetools inspect`).",
    ),
    _r(
        "MLC-SEC-006",
        "warning",
        "Public endpoints do not serve models derived from confidential data",
        "A model can reveal properties of its training data; serving a model derived from "
        "confidential data to the internet discloses some of that data.",
        "Make the endpoint private, or serve a model trained on data classified internal or public.",
    ),
    _r(
        "MLC-SEC-007",
        "warning",
        "Credential-named variables use secret references",
        "A variable named like a credential (`*_PASSWORD`, `*_TOKEN`, `*_API_KEY`, `*_SECRET`) "
        "with a plaintext value is almost always a credential too short or too regular to be "
        "recognised by MLC-SEC-001; plaintext values are written to Kubernetes manifests in out/.",
        'Store the value in the secret manager and reference it: `NAME: {secret: "<path>#<key>"}`.',
    ),
    _r(
        "MLC-SEC-008",
        "error",
        "Stores holding pii or confidential data keep versioning on",
        "Object versioning is the part of the audit trail the spec controls: it keeps every "
        "overwritten or deleted object recoverable and attributable (access logging and KMS "
        "encryption are always emitted for buckets). Turning it off on sensitive data makes "
        "accidental or malicious deletion unrecoverable.",
        "Remove `versioning: false` (the default is on). Use lifecycle expiry to bound storage instead of disabling versions.",
    ),
    # ------------------------------------------------------------------ IAM: identity and access
    _r(
        "MLC-IAM-001",
        "error",
        "Admin is never granted to everyone",
        'The group "*" matches every authenticated identity of the cluster\'s identity provider; '
        "granting it admin gives everyone full control of the namespace, its secrets and its "
        "service accounts (and through them the cloud roles).",
        "Grant admin to a named on-call or platform group; give `*` at most `viewer`.",
    ),
    _r(
        "MLC-IAM-002",
        "warning",
        "Admin is not granted to every group",
        "When every group listed in `access` is admin, roles no longer separate duties: nobody "
        "is limited to reading or to changing workloads.",
        "Keep admin for one operating group and give the others `editor` or `viewer`.",
    ),
    _r(
        "MLC-IAM-003",
        "warning",
        "Write access is not granted to everyone",
        'Granting `editor` to "*" lets every authenticated identity change workloads, which run with the workloads\' data permissions.',
        'Grant `editor` to named groups; give "*" at most `viewer`.',
    ),
    _r(
        "MLC-IAM-004",
        "error",
        "Workload permissions are exactly the declared data flow",
        "Least privilege is derived from `reads`, `writes`, `model.from` and `checkpoint_to` "
        "(read and write: a job resumes from its checkpoints): a "
        "workload can touch a store only if the spec says so. This rule re-checks the derived "
        "grants against the declarations, so a compiler change that widened them would block the "
        "build instead of shipping. It cannot fire on a correct compiler.",
        "This is a compiler bug: report it with the environment file. Do not waive it.",
    ),
    _r(
        "MLC-IAM-005",
        "error",
        "Derived IAM grants name specific stores, never wildcards",
        "A grant on `*` (or on a store that does not exist) gives a workload access to data it "
        "never declared. Grants are derived from the graph, so this holds by construction; the "
        "rule keeps it so.",
        "This is a compiler bug: report it with the environment file.",
    ),
    _r(
        "MLC-IAM-006",
        "warning",
        "Each group appears once in access",
        "A group listed twice gets the union of both roles, which is easy to miss in review "
        "(an overlay adding `viewer` does not remove an inherited `admin`).",
        "Keep one entry per group with the intended role.",
    ),
    # ------------------------------------------------------------------ NET: network exposure
    _r(
        "MLC-NET-001",
        "warning",
        "Public endpoints bound their scale with autoscaling and an explicit replicas.max",
        "Internet traffic is not under your control: without autoscaling a spike takes the "
        "endpoint down, and without a deliberate ceiling a spike (or an attack) scales cost "
        "without limit.",
        "Add `autoscaling: {metric: ..., target: ...}` and set `replicas: {max: N}` explicitly.",
    ),
    _r(
        "MLC-NET-002",
        "warning",
        "Internet-facing endpoints have no write access to data stores",
        "A public endpoint is the most exposed component; if it is compromised, write access "
        "lets the attacker alter or destroy data (and poison training data).",
        "Remove `writes` from the public endpoint; send what it must record through a queue or a separate private component.",
    ),
    # ------------------------------------------------------------------ BUD: budget and cost
    _r(
        "MLC-BUD-001",
        "error",
        "The estimated monthly cost is within the budget",
        "The budget is the limit agreed for the environment; a change that takes the estimate "
        "over it must be reviewed by whoever owns the budget before anything is applied. The "
        "estimate is the one `mlc cost` shows.",
        "Reduce the biggest contributors named in the message (replicas, GPU hours, node pool "
        "minimums, storage tiers) or raise `budget.monthly_usd` with the budget owner's approval.",
    ),
    _r(
        "MLC-BUD-002",
        "warning",
        "The estimated monthly cost is below the budget's warning threshold",
        "Crossing `budget.warn_ratio` of the budget leaves little room for the next change.",
        "Review the biggest contributors named in the message, or adjust the budget.",
    ),
    _r(
        "MLC-BUD-003",
        "warning",
        "Every environment declares a budget",
        "Without `budget.monthly_usd` nothing stops a change from multiplying the cost of the "
        "environment, and no cloud budget alarm is emitted.",
        "Add `budget: {monthly_usd: <limit>, warn_ratio: 0.8}` to the environment (or its parent).",
    ),
    _r(
        "MLC-BUD-004",
        "info",
        "Cheaper equivalent settings are used",
        "The cost model spots settings with a cheaper equivalent: spot capacity for GPU training "
        "that checkpoints, serving floors without headroom. Each suggestion states the estimated "
        "monthly saving.",
        "Apply the suggestion in the message, or ignore it: info findings never block.",
    ),
    _r(
        "MLC-BUD-005",
        "warning",
        "Large stores have lifecycle rules",
        "Stores of 1,000 GB or more without lifecycle rules keep every object in the most "
        "expensive storage tier forever; tiering and expiry typically cut their cost by half.",
        "Add `lifecycle: {infrequent_after_days: 30, archive_after_days: 90, expire_after_days: ...}` fitting how the data is used.",
    ),
    _r(
        "MLC-BUD-006",
        "warning",
        "GPU training jobs declare max_runtime_hours",
        "A hung or diverging GPU job runs (and bills) until someone notices; a deadline stops it (activeDeadlineSeconds).",
        "Set `max_runtime_hours` a little above the longest expected run.",
    ),
    _r(
        "MLC-BUD-007",
        "warning",
        "GPU node pools scale to zero",
        "A GPU node pool with `min` above 0 bills its GPU nodes every hour, used or not.",
        "Set `min: 0` on the GPU pool and let the cluster autoscaler add nodes when jobs arrive.",
    ),
    # ------------------------------------------------------------------ GOV: governance
    _r(
        "MLC-GOV-001",
        "error",
        "The environment's region is one of compliance.allowed_regions",
        "Data residency rules (GDPR transfers, customer contracts) limit where data may be "
        "stored and processed; `compliance.allowed_regions` records that limit.",
        "Move the environment to an allowed region, or change `allowed_regions` with compliance's approval.",
    ),
    _r(
        "MLC-GOV-002",
        "warning",
        "Waivers are renewed or removed before they expire",
        "A waiver accepts a finding for a limited time. Once `expires` has passed the waiver no "
        "longer applies (the finding counts again) and the stale entry should be cleaned up.",
        "Fix the waived finding and delete the waiver, or extend `expires` after a new review.",
        waivable=False,
    ),
    _r(
        "MLC-GOV-003",
        "info",
        "Every waiver matches a finding",
        "A waiver that matches nothing is dead configuration: the problem was fixed, the "
        "component renamed, or the rule id or component is wrong.",
        "Delete the waiver, or correct its `rule` / `component`.",
        waivable=False,
    ),
    _r(
        "MLC-GOV-004",
        "warning",
        "A store's classification is at least that of the data flowing into it",
        "Lineage decides the effective classification: a store written by a job that reads pii "
        "data holds data derived from pii. A lower declared `classification` misleads readers, "
        "access reviews and the tools that read the labels.",
        "Raise the store's `classification` to the effective one shown in the message, or stop "
        "the flow of sensitive data into it (aggregate or anonymise first and waive with the "
        "reason).",
    ),
    _r(
        "MLC-GOV-005",
        "warning",
        "Pii stores expire their data when GDPR applies",
        "GDPR's storage-limitation principle (Art. 5(1)(e)) requires personal data to be kept no "
        "longer than necessary; a lifecycle expiry makes that limit enforced rather than intended. "
        "Applies when `compliance.frameworks` includes gdpr.",
        "Add `lifecycle: {expire_after_days: N}` with the retention period of the data.",
    ),
    _r(
        "MLC-GOV-006",
        "warning",
        "Environments holding pii data declare compliance frameworks and allowed regions",
        "Without `compliance.frameworks` and `compliance.allowed_regions`, the rules that protect "
        "personal data (residency, retention) cannot run.",
        "Add `compliance: {allowed_regions: [...], frameworks: [gdpr]}` (or the frameworks that apply).",
    ),
    _r(
        "MLC-GOV-070",
        "error",
        "Workloads touching data of the classes in compliance.confidential_computing run on confidential node pools",
        "Confidential VMs (AMD SEV-SNP, Intel TDX, Confidential GKE Nodes) keep data encrypted in memory, out of "
        "reach of the host and the cloud operator. The requirement follows lineage: a job reading a store, an "
        "endpoint serving a model trained on pii data, a tracking server storing its runs all touch that data. "
        "Edge fleets run outside the environment's cluster and cannot meet it.",
        "Set `node_pool:` to a pool with `confidential: true` (an AMD SEV-SNP / Confidential GKE Nodes instance "
        "type), or stop the flow of that class into the workload.",
    ),
    # ------------------------------------------------------------------ REL: reliability
    _r(
        "MLC-REL-001",
        "warning",
        "Spot training jobs write checkpoints",
        "Spot capacity can be reclaimed at any time; a job without checkpoints restarts from the "
        "beginning after every interruption and may never finish.",
        "Add `checkpoint_to: <store>` (and resume from it in the training code), or run on-demand.",
    ),
    _r(
        "MLC-REL-002",
        "warning",
        "Checkpoints stay readable for the whole run",
        "A lifecycle rule that expires or archives the checkpoint store's objects sooner than "
        "`max_runtime_hours` deletes (or makes unreadable) the checkpoints a resumed job needs.",
        "Lengthen `expire_after_days` / `archive_after_days` of the checkpoint store beyond the "
        "job's maximum runtime, or checkpoint to another store.",
    ),
    _r(
        "MLC-REL-003",
        "warning",
        "Serving endpoints declare an SLO",
        "Without `slo` there is no agreed latency or availability: alerts, capacity and on-call have nothing to be measured against.",
        "Add `slo: {latency_p99_ms: ..., availability: ...}`.",
    ),
    _r(
        "MLC-REL-004",
        "warning",
        "Serving endpoints are monitored",
        "An endpoint that no `monitoring` component targets has no ServiceMonitor and no alerts: an outage is found by its users.",
        "Add the endpoint to the `targets` of a monitoring component.",
    ),
    _r(
        "MLC-REL-005",
        "error",
        "Serving in production runs at least 2 replicas",
        "With one replica every deployment, node drain or crash is an outage. Production is an "
        "environment labelled `env: prod` or `tier: prod`.",
        "Set `replicas: {min: 2}` or more.",
    ),
    _r(
        "MLC-REL-006",
        "error",
        "Production databases are multi-AZ",
        "A single-AZ database is down for the length of a zone outage or maintenance failover.",
        "Set `multi_az: true`.",
    ),
    _r(
        "MLC-REL-007",
        "error",
        "Production databases keep at least 7 days of backups",
        "Corruption and bad migrations are often noticed days later; fewer than 7 days of backups may not reach back to a good state.",
        "Set `backup_retention_days: 7` or more.",
    ),
    _r(
        "MLC-REL-008",
        "warning",
        "Pipelines with spot steps retry failed steps",
        "A step on spot capacity (its own `spot: true` or a spot node pool) is interrupted as a "
        "matter of course; with `retries: 0` one interruption fails the whole pipeline run. "
        "(A step that also has its own schedule, which would run twice, is rejected as input "
        "error MLC-E044.)",
        "Set `retries: 2` (or more) on the pipeline, and checkpoint long steps.",
    ),
    _r(
        "MLC-REL-009",
        "info",
        "Scheduled pipelines declare an on_failure handler",
        "A scheduled pipeline fails unattended; an `on_failure` step can alert, clean up or roll back.",
        "Add `on_failure: <workload>` to the pipeline.",
    ),
    _r(
        "MLC-REL-010",
        "warning",
        "A pipeline's on_failure handler is not one of its steps",
        "The failure handler would run as a normal step too (and fail with the others), so it cannot handle their failure.",
        "Use a dedicated workload as `on_failure`.",
    ),
    _r(
        "MLC-REL-011",
        "warning",
        "Production serving does not run on spot nodes",
        "Spot nodes are reclaimed with two minutes' notice, often many at once; endpoints on them "
        "lose capacity exactly when the provider is short of it.",
        "Use an on-demand node pool for production serving (`node_pool`).",
    ),
    _r(
        "MLC-REL-012",
        "warning",
        "Availability SLOs of 99.9% or more run at least 2 replicas",
        "A single replica cannot meet three nines: one restart or node drain a week uses the "
        "whole error budget. (In production MLC-REL-005 already requires 2 replicas.)",
        "Set `replicas: {min: 2}` or lower the availability objective.",
    ),
    _r(
        "MLC-REL-013",
        "warning",
        "Monitoring of serving endpoints defines alerts",
        "A monitoring component without `alerts` only collects metrics: nobody is told when the endpoint breaks its SLO.",
        "Add `alerts: {latency_p99_ms: ..., error_rate: ...}` to the monitoring component.",
    ),
    _r(
        "MLC-REL-050",
        "error",
        "Node pools and the GPU quota hold the largest job next to the always-on pods",
        "Serving replicas and canaries hold their nodes and GPUs all month. When a pool at its max size "
        "(or the namespace GPU ResourceQuota, the sum of every pool's max x GPUs per node) cannot hold "
        "the largest run of a job on top of them, part of the job stays Pending: a distributed job "
        "waits at rendezvous until its deadline, and the GPU-hours of the pods that did start are paid "
        "for nothing.",
        "Raise the pool's `max` to the number of nodes the message names, move the job or the endpoint "
        "to another pool, or make the job smaller.",
    ),
    # ------------------------------------------------------------------ streaming (checks_streaming.py)
    _r(
        "MLC-SEC-060",
        "error",
        "Streams carrying pii stay encrypted with their customer-managed key",
        "mlc encrypts every stream with its own KMS key, so access to the events needs both the stream grant and "
        "the key grant and can be audited and revoked per stream. A Terraform override that changes the stream's "
        "encryption (Kinesis encryption_type / kms_key_id, Pub/Sub kms_key_name) of a stream whose events are pii "
        "(by its classification or what flows into it) removes that.",
        "Remove the override of the encryption attributes; the key is managed by mlc.",
        waivable=False,
    ),
    _r(
        "MLC-SEC-061",
        "error",
        "Streams carrying pii keep events no longer than the compliance frameworks allow",
        "A stream is transport: personal data kept there for long is a second, unmanaged copy (no lifecycle, no "
        "deletion by key). mlc's limits per framework: gdpr 168 h, hipaa 168 h, pci-dss 24 h, soc2 720 h, "
        "iso27001 720 h; the strictest framework in compliance.frameworks applies.",
        "Lower `retention_hours` to the limit, and keep what must stay longer in a store with lifecycle expiry.",
    ),
    _r(
        "MLC-SEC-062",
        "error",
        "Online stores of feature stores carrying pii stay encrypted and authenticated",
        "A feature store's online store (ElastiCache / Memorystore for Redis) holds the latest features of every "
        "entity. mlc encrypts it at rest with its own key, in transit with TLS, and requires AUTH. A Terraform "
        "override that changes those attributes of a feature store whose data is pii (by its classification or "
        "what flows into it from its offline lake) removes that.",
        "Remove the override of the encryption / authentication attributes.",
        waivable=False,
    ),
    _r(
        "MLC-REL-060",
        "warning",
        "Stream jobs on spot capacity checkpoint their state",
        "A reclaimed spot node kills a JobManager or TaskManager; without checkpoints (checkpoint_to) the job "
        "restarts with empty state and from wherever its sources' positions default to.",
        "Add `checkpoint_to: <bucket store>`, or run on-demand.",
    ),
    _r(
        "MLC-REL-061",
        "warning",
        "Stream jobs on spot capacity checkpoint at least every 60 seconds",
        "After a spot reclaim Flink restarts from the last completed checkpoint and replays everything since; "
        "with a long interval every reclaim replays minutes of events and delays results.",
        "Set `checkpoint_interval_seconds` to 60 or less.",
    ),
    # ------------------------------------------------------------------ overrides (checks_overrides.py)
    _r(
        "MLC-SEC-050",
        "error",
        "Overrides do not make containers privileged or share the host's namespaces",
        "A privileged container or one in the host's network, PID or IPC namespace controls the node and every "
        "other pod on it; an override is the one place such a setting could slip past the compiler's hardening.",
        "Remove the setting from the override (the finding names the line). If a node-level agent is really "
        "needed, install it with the platform, not in an ML environment.",
    ),
    _r(
        "MLC-SEC-051",
        "error",
        "Overrides keep the pod hardening mlc emits",
        "mlc emits every pod non-root, without privilege escalation, with a read-only root filesystem, all "
        "capabilities dropped and no host paths, as Pod Security `restricted` requires; an override that removes "
        "one of them is rejected by the namespace or weakens isolation.",
        "Keep the hardening: give the process a writable emptyDir instead of a writable root filesystem, and run it as a non-root user.",
    ),
    _r(
        "MLC-SEC-052",
        "error",
        "Overrides do not make storage public",
        "Stores are private by construction (public access blocked, uniform access, no public ACLs or members); "
        "public data is declared with `public: true` on the component, where MLC-SEC-002/004 review it.",
        "Remove the attribute from the override; declare `public: true` on the store if it is really public.",
    ),
    _r(
        "MLC-IAM-050",
        "error",
        "Overrides add no wildcard IAM permission",
        "Grants are derived from the data-flow graph, one statement per edge; a wildcard action (`*`, `s3:*`) or "
        "a primitive role (owner, editor) in an override undoes least privilege for the whole identity.",
        "Declare the data flow (`reads`/`writes`) so mlc derives the grant, or name the exact actions needed.",
    ),
    _r(
        "MLC-IAM-051",
        "error",
        "Overrides keep each workload on its own identity",
        "Each workload's ServiceAccount is bound to a cloud identity holding exactly its grants; pointing a "
        "workload (or an extra manifest) at another ServiceAccount or cloud identity gives it someone else's access.",
        "Remove the serviceAccountName/identity change; declare the data flow the workload needs instead.",
    ),
)

BY_ID: dict[str, Rule] = {rule.id: rule for rule in CATALOG}
