"""The catalogue of input error codes (MLC-Exxx): title, explanation and how to fix.

Error codes are data, like the policy rule catalogue: `mlc explain MLC-E020` prints an
entry, `mlc explain --list` lists them with the rules. A test enumerates every `MLC-E`
literal in the compiler's source and fails when one is missing here, so a new code cannot
ship unexplained. Codes are grouped by stage: E00x reading a file, E01x project layout,
E02x schema, E03x inheritance, E04x references and graph, E05x output constraints, E06x
pricing and capacity, E07x limits, E08x waivers, E09x policy files.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorCode:
    code: str
    title: str
    explanation: str
    fix: str


def _entries(*rows: tuple[str, str, str, str]) -> dict[str, ErrorCode]:
    return {code: ErrorCode(code, title, explanation, fix) for code, title, explanation, fix in rows}


CATALOGUE: dict[str, ErrorCode] = _entries(
    (
        "MLC-E001",
        "file cannot be read or is too large",
        "The file could not be opened, or it is larger than the file-size limit (see the README's Limits table). "
        "mlc refuses oversized input instead of parsing it slowly.",
        "Check the file's permissions and size; split a very large environment into a parent and children.",
    ),
    (
        "MLC-E002",
        "file is not valid UTF-8",
        "Environment files must be UTF-8 text without NUL characters; the position of the first bad byte is reported.",
        "Re-save the file as UTF-8 (most editors have an 'encoding' setting) and remove control characters.",
    ),
    (
        "MLC-E003",
        "YAML syntax error or unsupported tag",
        "The YAML parser could not read the file, or it uses a tag (`!!python/...`, `!custom`) or a non-string "
        "mapping key. mlc loads YAML safely: no tag ever constructs an object.",
        "Fix the syntax at the reported line; remove the tag and write the value as plain YAML.",
    ),
    (
        "MLC-E004",
        "tab character in indentation",
        "YAML indents with spaces only; a tab in indentation is a syntax error that parsers report confusingly.",
        "Replace the tab with spaces (configure the editor to insert spaces in YAML files).",
    ),
    (
        "MLC-E005",
        "duplicate key",
        "A mapping defines the same key twice. YAML parsers silently keep one of them, so mlc rejects it.",
        "Delete one of the two keys (the message names the line of the first).",
    ),
    ("MLC-E006", "file is empty", "An environment file must hold one Environment mapping.", "Write the Environment or delete the file."),
    (
        "MLC-E007",
        "document root is not a mapping",
        "The top level of an environment file must be a mapping with apiVersion, kind, metadata and the spec.",
        "Start the file with `apiVersion: mlc/v1` and `kind: Environment` at column 1.",
    ),
    (
        "MLC-E008",
        "alias expansion too large",
        "Anchors and aliases would expand to more values than the limit (a 'billion laughs' document).",
        "Write the values out, or use `extends` to share configuration between environments.",
    ),
    (
        "MLC-E009",
        "nesting too deep",
        "The document nests deeper than the depth limit; no real environment needs that.",
        "Flatten the structure; check for a runaway indentation.",
    ),
    (
        "MLC-E010",
        "metadata.name differs from the file name",
        "An environment's name is its file stem, so `mlc compile prod` and out/prod agree with environments/prod.yaml.",
        "Rename the file or change metadata.name so they are equal.",
    ),
    (
        "MLC-E011",
        "file name is not a valid environment name",
        "Environment names become Kubernetes namespaces and cloud resource names: a DNS-1123 label "
        "(lower-case letters, digits, '-', at most 63 characters, starting with a letter).",
        "Rename the file, e.g. `environments/team-a-prod.yaml`.",
    ),
    (
        "MLC-E012",
        "not a regular file",
        "mlc reads only regular files: a symlink, device or folder in environments/ could make it read outside the project.",
        "Replace the link with a copy of the file, or use `extends` to share a parent.",
    ),
    (
        "MLC-E013",
        "two files for one environment",
        "Two files in environments/ name the same environment (prod.yaml beside prod.yml or PROD.yaml); mlc "
        "would have to pick one silently.",
        "Keep one file per environment, named <name>.yaml in lower case; delete or rename the other.",
    ),
    (
        "MLC-E020",
        "unknown field",
        "The field is not part of the spec (schemas/environment.schema.json); a misspelled key would otherwise be ignored.",
        "Use the suggested field name, or remove the field. Editors with the YAML language server show valid fields.",
    ),
    (
        "MLC-E021",
        "wrong type",
        "The value has the wrong JSON type (a string where a number is expected, a list where a map is), or is a number out of range.",
        'Write the value in the expected type; quote strings that look like numbers or booleans (e.g. "0123").',
    ),
    (
        "MLC-E022",
        "invalid value",
        "The value is of the right type but not allowed: outside the minimum/maximum, not one of the allowed values, "
        "or not in the expected format.",
        "Use one of the values the message lists, or a value inside the stated bounds.",
    ),
    (
        "MLC-E023",
        "missing required field",
        "The schema requires this field and no parent in the `extends` chain sets it.",
        "Add the field (or set it in a parent environment).",
    ),
    (
        "MLC-E024",
        "invalid name",
        "Names of components, node pools, labels and environments must be DNS-1123 labels, because they become "
        "Kubernetes object names and cloud resource names.",
        "Use lower-case letters, digits and '-', starting with a letter, at most 63 characters.",
    ),
    (
        "MLC-E025",
        "unknown component type",
        "`type` must name a component kind mlc knows (object_store, data_lake, database, spark_job, training_job, "
        "serving, batch_inference, monitoring, pipeline, ...).",
        "Use the suggested type; `mlc explain --list` and docs/ list the kinds.",
    ),
    (
        "MLC-E026",
        "cloud provider not supported by a target",
        "The environment's `cloud.provider` is registered, but a target (Terraform, Kubernetes identity, pricing) "
        "has no implementation for it; mlc refuses it rather than emitting another provider's resources.",
        "Use a provider every target supports (`mlc explain --list`, docs/), or implement the provider's "
        "modules (ARCHITECTURE.md, 'Adding a cloud provider').",
    ),
    (
        "MLC-E030",
        "unknown parent environment",
        "`extends` names an environment that has no file in environments/.",
        "Fix the name (see the did-you-mean), or add the parent file.",
    ),
    ("MLC-E031", "cycle in extends", "Environments extend each other in a loop, so no merge order exists.", "Remove one `extends` entry."),
    (
        "MLC-E032",
        "child changes the cloud provider",
        "A child environment may not change `cloud.provider` of its parent: every provider-specific field it inherits would be wrong.",
        "Create a separate parent for the other provider.",
    ),
    (
        "MLC-E033",
        "abstract environment selected",
        "An environment with `abstract: true` is only a parent and is never compiled on its own.",
        "Compile one of its children, or set `abstract: false`.",
    ),
    (
        "MLC-E034",
        "inheritance too deep or too wide",
        "The `extends` chain is longer, or an environment names more parents, than the limit.",
        "Flatten the hierarchy: merge intermediate parents.",
    ),
    (
        "MLC-E035",
        "environments on one cluster disagree on a platform setting",
        "Two environments that run on the same `cluster.name` need a cluster-wide controller configured differently "
        "(a feature flag, a provider's secret store, platform management on/off); one platform cannot serve both.",
        "Make the setting agree in both environments (ideally in their shared parent), or give one its own cluster.",
    ),
    (
        "MLC-E040",
        "unknown reference",
        "A reference field (reads, writes, model.from, checkpoint_to, after, targets, steps, on_failure, ...) names "
        "a component that does not exist in the resolved environment.",
        "Fix the name (see the did-you-mean), or add the component. `mlc trace ENV components` shows what exists.",
    ),
    (
        "MLC-E041",
        "reference of the wrong kind",
        "The referenced component exists but is not of a kind this field accepts (e.g. `reads` must name a store).",
        "Name a component of an accepted kind (the message lists them).",
    ),
    (
        "MLC-E042",
        "dependency cycle",
        "The run order contains a cycle: components wait for each other, so nothing can start.",
        "Remove one edge of the cycle (the message lists each edge with its line), or split the pipeline.",
    ),
    (
        "MLC-E043",
        "unknown node pool",
        "`node_pool` names a pool that `cluster.node_pools` does not define.",
        "Use one of the defined pools, or add the pool to cluster.node_pools.",
    ),
    (
        "MLC-E044",
        "pipeline step with its own schedule",
        "A workload that runs as a pipeline step (or on_failure handler) runs when the pipeline runs; a `schedule` of "
        "its own would run it twice.",
        "Remove the step's `schedule`, and schedule the pipeline instead.",
    ),
    (
        "MLC-E045",
        "lifecycle tiers out of order",
        "Lifecycle transitions must happen in order: infrequent access before archive before expiry.",
        "Make infrequent_after_days < archive_after_days < expire_after_days.",
    ),
    (
        "MLC-E046",
        "env value names a component that has no such URI",
        "An `env` value written as a store URI (`s3://models`, `gs://models`) is resolved to the store's real bucket "
        "URI; the named component is not a bucket-backed store, or the scheme is not the environment's provider's.",
        "Name an object_store or data_lake with the provider's scheme, or write the literal value you mean.",
    ),
    (
        "MLC-E047",
        "scale to zero not available",
        "`replicas.min: 0` needs a request-driven autoscaler (KServe on Knative); image-based serving runs as a "
        "Deployment with an HPA, whose minimum is 1, so the setting would silently keep one replica.",
        "Use `runtime:` (KServe) for scale to zero, or set `replicas.min: 1`.",
    ),
    (
        "MLC-E048",
        "monitoring needs an image",
        "Drift detectors and data-quality checks run mlc's monitor scripts in a container; no public image is "
        "pinned by mlc, so a monitoring component that asks for either must name one (`monitoring.image`).",
        "Build images/mlc-monitor (Dockerfile and pinned requirements in the repository) and set `image:` to it, pinned by digest.",
    ),
    (
        "MLC-E049",
        "drift reference cannot be derived",
        "A drift detector compares live requests with the data the model was trained on; mlc could not tell which "
        "store that is (none or several stores are read by the jobs writing the model store), or two monitoring "
        "components ask for a detector on one endpoint.",
        "Set `drift.reference.store` (and `path`), or keep one `drift_threshold` per endpoint.",
    ),
    (
        "MLC-E050",
        "emitted object too big for the API server",
        "An object mlc would emit (typically the WorkflowTemplate of a pipeline with hundreds of steps) is bigger than "
        "768 KiB as JSON. etcd refuses requests above 1.5 MiB, and the cluster adds to each object: server-side "
        "apply's managedFields, or client-side apply's copy of the whole object in an annotation, and a Workflow "
        "copies its template's spec into its status. The object would be refused or its Workflows would fail.",
        "Split the component (e.g. a long pipeline into several pipelines ordered with `after`), or shorten what it "
        "repeats; the message gives the measured size.",
    ),
    (
        "MLC-E051",
        "Argo template syntax in a spec string",
        "A string that reaches an Argo Workflow contains `{{`, which Argo would evaluate as an expression: a template-injection risk.",
        "Remove the braces; pass dynamic values through the pipeline's own parameters.",
    ),
    (
        "MLC-E052",
        "two Kubernetes objects with one name",
        "A component's name collides with an object mlc generates (e.g. `mlc-...`), so one would overwrite the other.",
        "Rename the component.",
    ),
    (
        "MLC-E053",
        "override matches nothing",
        "An `overrides.kubernetes` target (kind and name) or an `overrides.terraform` address names no object or "
        "resource that mlc emits for this environment; the patch would silently do nothing.",
        "Use the name mlc emits (see the did-you-mean, or list out/<env>/kubernetes and the *.tf.json files).",
    ),
    (
        "MLC-E054",
        "patch cannot be applied",
        "A JSON patch operation fails (its path does not exist, an index is out of range, a test fails), an entry "
        "gives both or neither of `patch` and `json6902`, or the patch changes the target's kind or name.",
        "Fix the operation at the reported line; `mlc trace ENV 'kubernetes/<file>.yaml#/path'` shows the object.",
    ),
    (
        "MLC-E055",
        "Terraform attribute unknown or not settable",
        "`overrides.terraform[].set` names an attribute or block the provider schema does not have for that "
        "resource type, one that is computed by the provider, or a meta-argument (count, for_each, provider, "
        "depends_on) that would change what exists.",
        "Use an attribute of the resource type (see the did-you-mean and the provider's documentation).",
    ),
    (
        "MLC-E056",
        "extra manifest cannot be used",
        "An `overrides.manifests` folder is missing, outside the project or behind a symbolic link, or a file in "
        "it is not one namespaced Kubernetes object with apiVersion, kind and metadata.name in the environment's "
        "namespace, is a Secret (its value would be written to out/), or collides with an object mlc emits.",
        "Keep one object per file in a plain project folder; patch emitted objects with `overrides.kubernetes`; "
        "reference secrets through the secret manager.",
    ),
    (
        "MLC-E057",
        "tuning trials exceed GPU capacity",
        "A tuning job runs `parallel_trials` trials at once, each on the trial job's `nodes` pods of `gpus.count` GPUs. "
        "The node pools the trial can use (its `node_pool`, else every pool with enough GPUs of its model) hold fewer "
        "such pods at their `max` size: trials would wait Pending while their deadline runs.",
        "Lower `parallel_trials` to the number the message suggests, or raise the pool's `max`.",
    ),
    (
        "MLC-E058",
        "tuning job cannot be planned",
        "A tuning job needs a run-time bound per trial (`hours_per_trial`, or `max_runtime_hours` on the trial job), "
        "parameter ranges with min < max (min > 0 on a log scale, integers for int parameters), no more parallel than "
        "total trials, and a trial Katib can run (a pytorch training job: a Job or a PyTorchJob).",
        "Fix the field the message points at.",
    ),
    (
        "MLC-E059",
        "node pool cannot be confidential",
        "`confidential: true` needs an instance type that runs as a confidential VM: AMD SEV-SNP families on AWS "
        "(m6a, c6a, r6a), Confidential GKE Nodes machine families on GCP (n2d, c2d, c3).",
        "Choose an instance type of a family the message lists, or remove `confidential`.",
    ),
    (
        "MLC-E060",
        "unknown price",
        "An instance type, GPU or database class is not in the pricing data, so the cost and the budget cannot be checked.",
        "Use a type listed in compiler/data/pricing.yaml (the message suggests the nearest), or add its price with a source.",
    ),
    (
        "MLC-E061",
        "pod does not fit a node of its pool",
        "A workload's pod asks for more CPU, memory or GPUs than one node of the pool it is scheduled on can give "
        "(allocatable: the instance's capacity less what the kubelet reserves, see docs/cost-model.md), so it stays "
        "Pending forever. Checked for pods pinned by `node_pool` and for GPU pods (placed on the pools with their GPU).",
        "Lower the request at the reported line, or use a pool with a larger instance type.",
    ),
    (
        "MLC-E062",
        "GPU model not offered by the pool",
        "`gpus.type` names a GPU model the instance type of the chosen `node_pool` does not carry (e.g. nvidia-a100 "
        "on an A10G pool): the pod could never be scheduled there.",
        "Ask for the pool's GPU model, or choose a pool whose instance type has the wanted GPU.",
    ),
    (
        "MLC-E063",
        "no node pool can run the workload",
        "The workload asks for GPUs but its `node_pool` has none, or no node pool of the environment has the GPU model "
        "it asks for; the namespace GPU quota (the pools' GPUs) would also refuse it.",
        "Add a node pool with that GPU (cluster.node_pools), or point `node_pool` at one.",
    ),
    (
        "MLC-E064",
        "machine type not offered in the region",
        "Accelerator-optimised machine types exist only in some zones; the zone table in compiler/data/pricing.yaml "
        "(machine_zones) lists none in the environment's region for the node pool's type, so GKE could not create its nodes.",
        "Choose a machine type offered in the region, or a region that offers it; correct the zone table if it is out of date.",
    ),
    (
        "MLC-E065",
        "canary cannot split traffic by weight",
        "A canary must get `traffic_percent` of the requests. mlc delivers that for KServe runtimes (two "
        "InferenceServices and a Knative Route with both percentages). A custom `image` runs as a Deployment behind a "
        "Kubernetes Service, which balances per pod: a second Deployment would get its share of the replicas, not the "
        "percentage asked for, and the platform mlc installs has no L7 proxy in front of plain Services.",
        "Serve the model with a KServe `runtime` to keep the canary, or remove `canary` and roll out by changing `image` or `model.path`.",
    ),
    (
        "MLC-E066",
        "stream retention outside the provider's limits",
        "A stream's `retention_hours` is outside what the cloud's stream service keeps (Kinesis data streams: 24 to "
        "8760 hours; Pub/Sub topics: up to 744 hours; Event Hubs Premium: 1 to 2160 hours, whole days).",
        "Set `retention_hours` within the limits the message names.",
    ),
    (
        "MLC-E070",
        "too many environments or components",
        "The project exceeds a size limit (see the README's Limits table), which protects CI from runaway input.",
        "Split the project, or remove unused components.",
    ),
    (
        "MLC-E080",
        "waiver names an unknown rule",
        "An `exceptions:` entry names a rule id that no built-in rule or KCL policy defines.",
        "Fix the rule id (see the did-you-mean); `mlc explain --list` lists the rules.",
    ),
    (
        "MLC-E081",
        "rule cannot be waived",
        "Some rules (e.g. plaintext secrets) protect invariants that no exception may switch off.",
        "Fix the finding instead of waiving it.",
    ),
    (
        "MLC-E082",
        "invalid waiver date",
        "`expires` must be a real date (YYYY-MM-DD); waivers expire so that exceptions are reviewed again.",
        "Write the date as YYYY-MM-DD.",
    ),
    (
        "MLC-E090",
        "policy file does not evaluate",
        "A KCL policy file failed to compile or run (syntax error, runtime error, or it exceeded its time or memory "
        "limit); no policy result would be trustworthy, so the environment is not compiled.",
        "Run `kcl run <file>` to see the error; fix the policy.",
    ),
    (
        "MLC-E091",
        "policy file breaks the convention",
        "A KCL policy evaluated but its result does not have the shape mlc expects (rule metadata and a `findings` list).",
        "Follow the convention described in policies/README.md.",
    ),
)


def explain_error(code: str) -> str:
    """Title, explanation and fix of an error code as plain text (KeyError when unknown)."""
    entry = CATALOGUE[code]
    wrap = lambda text: textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  ")  # noqa: E731
    return "\n".join([f"{entry.code}: {entry.title}", "", "What it means:", wrap(entry.explanation), "", "Fix:", wrap(entry.fix), ""])
