"""Overrides: the escape hatch (`overrides:` in an environment), applied so the guarantees hold.

Three kinds, each written in the form its tool applies, and applied by mlc as well, so that
what is validated and policy-checked is exactly what the tool will produce:

  kubernetes   strategic-merge patches (`patch:`) or RFC 6902 JSON patches (`json6902:`) on an
               object mlc emits, selected by kind and name. Written into the environment's
               kustomization.yaml `patches:`; Argo CD (kustomize) applies them at sync.
  terraform    attribute sets on a resource mlc emits (`address: aws_s3_bucket.models`),
               written as Terraform's own `terraform/override.tf.json` (Terraform merges an
               override file's top-level attributes and replaces its nested blocks).
  manifests    folders of extra YAML files in the project (one object per file, like mlc's
               own output), copied into `kubernetes/extra-<kind>-<name>.yaml` and listed in the
               kustomization, so out/ stays self-contained.

mlc's view of a patch follows kustomize: for built-in Kubernetes kinds, lists with a patch
merge key (containers, env, volumes, ...) merge by that key (patch items first, in patch
order, then the untouched items; `$patch: delete` in an item removes it); for custom resources
lists are replaced; `{$patch: delete}` as a map's value deletes the key and `$patch: replace`
replaces the map. (`null` deletes too, but in an environment file `null` already means "remove
the inherited value", so patches use `$patch: delete`.) A test compares this view with `kubectl kustomize`
object by object.

Errors are located at the override's YAML line: a target or address that matches nothing
(MLC-E053), a JSON patch that does not apply (MLC-E054), a Terraform attribute the provider
does not have or that cannot be set (MLC-E055), a manifest folder or file that cannot be used
(MLC-E056). Security regressions (privileged, removed hardening, public buckets, wildcard
IAM, another identity) are policy findings (compiler/policy/checks_overrides.py).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from compiler.core.diagnostics import Diagnostic, InputError, Location, did_you_mean
from compiler.frontend.loader import escape_pointer_token, load_file
from compiler.model.environment import Environment
from compiler.targets.artifact import Artifact

E_UNMATCHED = "MLC-E053"
E_JSON_PATCH = "MLC-E054"
E_TF_ATTRIBUTE = "MLC-E055"
E_MANIFEST = "MLC-E056"

KUBERNETES_DIR = "kubernetes"
OVERRIDE_TF = "terraform/override.tf.json"
TERRAFORM_ATTRIBUTES = Path(__file__).resolve().parent.parent / "data" / "terraform_attributes.json"
MAX_MANIFEST_FILES = 200

# API groups of built-in kinds: kustomize knows their OpenAPI schema, so their lists merge by key.
BUILTIN_GROUPS = frozenset({"", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io"})
# list field -> patch merge key (x-kubernetes-patch-merge-key of the Kubernetes API types)
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "imagePullSecrets": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
}
# Terraform meta-arguments an override may set; the others change what exists, not how.
TF_META_ALLOWED = frozenset({"lifecycle"})
TF_META_FORBIDDEN = frozenset({"count", "for_each", "provider", "depends_on", "provisioner", "connection"})
# Cluster-scoped kinds are not confined by the kustomization's namespace.
CLUSTER_SCOPED = frozenset(
    {
        "Namespace",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "MutatingWebhookConfiguration",
        "ValidatingWebhookConfiguration",
        "ClusterSecretStore",
        "ClusterIssuer",
    }
)
_KIND = re.compile(r"[A-Z][A-Za-z0-9]{0,62}\Z")
_NAME = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\Z")


@dataclass(frozen=True)
class Change:
    """One value an override set in the output: where (artifact + pointer) and by which entry."""

    path: str  # artifact path, e.g. kubernetes/inferenceservice-ranker.yaml
    pointer: str  # JSON pointer inside the object
    override: str  # JSON pointer of the override entry in the environment spec


@dataclass
class OverrideResult:
    """The patched view and what produced it."""

    artifacts: list[Artifact]  # emitted artifacts with kustomization/override.tf.json written
    before: dict[str, Any]  # artifact path -> object as mlc emitted it (only patched ones)
    after: dict[str, Any]  # artifact path -> object as the tool will apply it
    owners: dict[str, str]  # artifact path -> pointer of the override entry (last wins)
    extra: dict[str, str] = field(default_factory=dict)  # extra manifest artifact path -> overrides pointer
    changes: list[Change] = field(default_factory=list)
    steps: list[tuple[str, str, Any, Any]] = field(default_factory=list)  # (entry, path, before, after), in entry order


# --- strategic merge and JSON patch -----------------------------------------------------------


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0] if "/" in api_version else ""


def strategic_merge(target: Any, patch: Any, builtin: bool, field_name: str = "") -> Any:
    """kustomize's strategic merge of `patch` into `target` (both plain data; returns new data)."""
    if isinstance(patch, dict) and patch.get("$patch") == "replace":
        return _strip_directives(patch)
    if isinstance(patch, dict) and isinstance(target, dict):
        merged = dict(target)
        for key, value in patch.items():
            if key == "$patch":
                continue
            if value is None or (isinstance(value, dict) and value.get("$patch") == "delete"):
                merged.pop(key, None)
            elif key in merged:
                merged[key] = strategic_merge(merged[key], value, builtin, key)
            else:
                merged[key] = _strip_directives(value)
        return merged
    if isinstance(patch, list) and isinstance(target, list) and builtin and field_name in MERGE_KEYS:
        merge_key = MERGE_KEYS[field_name]
        if all(isinstance(i, dict) and merge_key in i for i in target + patch):
            originals = {item[merge_key]: item for item in target}
            out, mentioned = [], set()
            for item in patch:
                mentioned.add(item[merge_key])
                if item.get("$patch") == "delete":
                    continue
                base = originals.get(item[merge_key])
                out.append(strategic_merge(base, item, builtin) if base is not None else _strip_directives(item))
            return out + [item for item in target if item[merge_key] not in mentioned]
    return _strip_directives(patch)


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip_directives(v)
            for k, v in value.items()
            if k != "$patch" and v is not None and not (isinstance(v, dict) and v.get("$patch") == "delete")
        }
    if isinstance(value, list):
        return [_strip_directives(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


class JsonPatchError(Exception):
    pass


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPatchError(f'"{pointer}" is not a JSON pointer (it must start with "/")')
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise JsonPatchError(f'path "{path}" does not exist in the object (no "{token}")')
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise JsonPatchError(f'path "{path}" does not exist in the object')


def _remove(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        raise JsonPatchError("cannot remove the whole object")
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise JsonPatchError(f'path "{path}" does not exist in the object')


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise JsonPatchError(f'index "{last}" of "{path}" is out of range')
    else:
        raise JsonPatchError(f'"{path}" is inside a value that is neither an object nor a list')
    return doc


def json_patch(target: Any, operations: list[dict[str, Any]]) -> tuple[Any, int | None, str]:
    """Apply RFC 6902 operations; returns (result, None, "") or (target, failing index, reason)."""
    doc = copy.deepcopy(target)
    for index, op in enumerate(operations):
        try:
            kind, path = op["op"], op["path"]
            if kind == "add":
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            elif kind == "remove":
                _remove(doc, path)
            elif kind == "replace":
                _get(doc, path)
                if _tokens(path):
                    _remove(doc, path)
                doc = _add(doc, path, copy.deepcopy(op.get("value")))
            elif kind in ("move", "copy"):
                if "from" not in op:
                    raise JsonPatchError(f'"{kind}" needs "from"')
                value = _remove(doc, op["from"]) if kind == "move" else copy.deepcopy(_get(doc, op["from"]))
                doc = _add(doc, path, value)
            elif kind == "test":
                if _get(doc, path) != op.get("value"):
                    raise JsonPatchError(f'test failed: "{path}" does not hold the given value')
        except JsonPatchError as exc:
            return target, index, str(exc)
    return doc, None, ""


# --- what changed --------------------------------------------------------------------------------


def _leaves(value: Any, pointer: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, child in value.items():
            out.update(_leaves(child, f"{pointer}/{escape_pointer_token(str(key))}"))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, child in enumerate(value):
            out.update(_leaves(child, f"{pointer}/{index}"))
        return out
    return {pointer: value}


def changed_pointers(before: Any, after: Any) -> list[str]:
    """Leaf pointers whose value differs (added, changed or removed), sorted."""
    old, new = _leaves(before), _leaves(after)
    return sorted(p for p in set(old) | set(new) if old.get(p, _MISSING) != new.get(p, _MISSING))


_MISSING = object()


# --- Terraform -----------------------------------------------------------------------------------


@functools.cache
def terraform_attributes() -> dict[str, Any]:
    """resource type -> {"set": settable attributes, "read_only": computed-only, "blocks": {...}}.

    Generated from the vendored provider schemas (tests/support/gen_terraform_attributes.py;
    a test keeps it in step with them)."""
    data: dict[str, Any] = json.loads(TERRAFORM_ATTRIBUTES.read_text(encoding="utf-8"))
    return data


def _check_tf_block(value: Any, schema: dict[str, Any], pointer: str, where: str) -> list[tuple[str, str]]:
    """(pointer, message) for every key not in the provider schema of this block."""
    problems: list[tuple[str, str]] = []
    if not isinstance(value, dict):
        return [(pointer, f"{where} must be a mapping of attributes")]
    settable, read_only, blocks = set(schema.get("set", ())), set(schema.get("read_only", ())), schema.get("blocks", {})
    for key, child in value.items():
        at = f"{pointer}/{escape_pointer_token(key)}"
        if key in settable:
            continue
        if key in read_only:
            problems.append((at, f'"{key}" of {where} is computed by the provider and cannot be set'))
        elif key in blocks:
            items = child if isinstance(child, list) else [child]
            for index, item in enumerate(items):
                sub = f"{at}/{index}" if isinstance(child, list) else at
                problems += _check_tf_block(item, blocks[key], sub, f"{where}.{key}")
        else:
            known = settable | set(blocks)
            problems.append((at, f'{where} has no attribute "{key}"{did_you_mean(key, known)}'))
    return problems


def _terraform_resources(artifacts: list[Artifact]) -> dict[str, tuple[str, dict[str, Any]]]:
    """address -> (artifact path, resource body) of every resource mlc emits."""
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for artifact in artifacts:
        if artifact.path.startswith("terraform/") and isinstance(artifact.content, dict):
            for rtype, resources in (artifact.content.get("resource") or {}).items():
                for name, body in resources.items():
                    found[f"{rtype}.{name}"] = (artifact.path, body)
    return found


def _escape_tf(value: Any) -> Any:
    from compiler.targets.terraform.common import escape_tf

    if isinstance(value, str):
        return escape_tf(value)
    if isinstance(value, dict):
        return {k: _escape_tf(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape_tf(v) for v in value]
    return value


# --- the stage -----------------------------------------------------------------------------------


def _object_index(artifacts: list[Artifact]) -> dict[tuple[str, str], Artifact]:
    index = {}
    for artifact in artifacts:
        obj = artifact.content
        if artifact.path.startswith(f"{KUBERNETES_DIR}/") and isinstance(obj, dict) and "kind" in obj and obj["kind"] != "Kustomization":
            index[(obj["kind"], obj["metadata"]["name"])] = artifact
    return index


def _patch_document(obj: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """The patch as kustomize reads it: apiVersion, kind and metadata.name of its target."""
    document = {"apiVersion": obj["apiVersion"], "kind": obj["kind"]}
    metadata = dict(patch.get("metadata") or {})
    metadata["name"] = obj["metadata"]["name"]
    return {**document, **{k: v for k, v in patch.items() if k not in ("apiVersion", "kind")}, "metadata": metadata}


def apply_overrides(env: Environment, artifacts: list[Artifact], project_root: Path) -> OverrideResult | None:
    """The artifacts with every override applied (None when the environment has none)."""
    overrides = env.spec.get("overrides") or {}
    if not any(overrides.get(k) for k in ("kubernetes", "terraform", "manifests")):
        return None
    from compiler.output.serialize import dump_yaml as to_yaml

    problems: list[Diagnostic] = []
    by_path = {a.path: a for a in artifacts}
    index = _object_index(artifacts)
    result = OverrideResult(artifacts=[], before={}, after={}, owners={})
    patches: list[dict[str, Any]] = []
    for i, entry in enumerate(overrides.get("kubernetes") or []):
        base = f"/overrides/kubernetes/{i}"
        kind, name = entry["target"]["kind"], entry["target"]["name"]
        artifact = index.get((kind, name))
        if artifact is None:
            names = sorted(n for k, n in index if k == kind)
            hint = did_you_mean(name, set(names)) if names else did_you_mean(kind, {k for k, _ in index})
            problems.append(Diagnostic(env.locate(f"{base}/target"), E_UNMATCHED, f"no {kind} named {name!r} is emitted{hint}"))
            continue
        has_patch, has_json = "patch" in entry, "json6902" in entry
        if has_patch == has_json:
            problems.append(Diagnostic(env.locate(base, key=True), E_JSON_PATCH, 'give exactly one of "patch" or "json6902"'))
            continue
        current = result.after.get(artifact.path, artifact.content)
        if has_patch:
            patched = strategic_merge(current, entry["patch"], _group(current["apiVersion"]) in BUILTIN_GROUPS)
            text = to_yaml(_patch_document(current, entry["patch"]))
        else:
            patched, failed, reason = json_patch(current, entry["json6902"])
            if failed is not None:
                problems.append(Diagnostic(env.locate(f"{base}/json6902/{failed}"), E_JSON_PATCH, f"JSON patch does not apply: {reason}"))
                continue
            text = to_yaml(entry["json6902"])
        if patched.get("kind") != kind or patched.get("metadata", {}).get("name") != name:
            problems.append(Diagnostic(env.locate(base, key=True), E_JSON_PATCH, "a patch may not change the kind or name of its target"))
            continue
        result.before.setdefault(artifact.path, artifact.content)
        result.changes += [Change(artifact.path, p, base) for p in changed_pointers(current, patched)]
        result.steps.append((base, artifact.path, current, patched))
        result.after[artifact.path] = patched
        result.owners[artifact.path] = base
        patches.append({"target": {"kind": kind, "name": name}, "patch": text})

    override_tf: dict[str, dict[str, Any]] = {}
    resources = _terraform_resources(artifacts)
    schemas = terraform_attributes() if overrides.get("terraform") else {}
    for i, entry in enumerate(overrides.get("terraform") or []):
        base = f"/overrides/terraform/{i}"
        address = entry["address"]
        if address not in resources:
            problems.append(
                Diagnostic(
                    env.locate(f"{base}/address"), E_UNMATCHED, f"no resource {address!r} is emitted{did_you_mean(address, set(resources))}"
                )
            )
            continue
        rtype, rname = address.split(".", 1)
        path, body = resources[address]
        schema = schemas.get(rtype)
        settings = entry["set"]
        bad = [k for k in settings if k in TF_META_FORBIDDEN]
        for key in bad:
            problems.append(
                Diagnostic(env.locate(f"{base}/set/{escape_pointer_token(key)}", key=True), E_TF_ATTRIBUTE, f'"{key}" cannot be overridden')
            )
        checked = {k: v for k, v in settings.items() if k not in TF_META_FORBIDDEN and k not in TF_META_ALLOWED}
        if schema is None:
            problems.append(Diagnostic(env.locate(f"{base}/address"), E_TF_ATTRIBUTE, f"no provider schema is known for {rtype}"))
            continue
        located = _check_tf_block(checked, schema, f"{base}/set", rtype)
        problems += [Diagnostic(env.locate(p, key=True), E_TF_ATTRIBUTE, message) for p, message in located]
        if bad or located:
            continue
        escaped = _escape_tf(settings)
        override_tf.setdefault(rtype, {}).setdefault(rname, {}).update(escaped)
        key = f"{path}#{address}"
        current = result.after.get(key, body)
        patched = {**current, **escaped}  # Terraform: top-level attributes replaced, nested blocks replaced
        result.before.setdefault(key, body)
        result.changes += [Change(key, p, base) for p in changed_pointers(current, patched)]
        result.steps.append((base, key, current, patched))
        result.after[key] = patched
        result.owners[key] = base

    extra: list[Artifact] = []
    for i, folder in enumerate(overrides.get("manifests") or []):
        pointer = f"/overrides/manifests/{i}"
        found, errors = _load_manifests(env, project_root, folder, pointer)
        problems += errors
        for obj, display in found:
            kind, name = obj["kind"], obj["metadata"]["name"]
            path = f"{KUBERNETES_DIR}/extra-{kind.lower()}-{name}.yaml"
            if (kind, name) in index or path in by_path or any(a.path == path for a in extra):
                problems.append(Diagnostic(Location(display, 1, 1), E_MANIFEST, f"{kind} {name!r} is already emitted; patch it instead"))
                continue
            extra.append(Artifact(path, obj, "yaml", None))
            result.extra[path] = pointer
            result.after[path] = obj
    if problems:
        raise InputError(problems)

    out: list[Artifact] = []
    for artifact in artifacts:
        if artifact.path == f"{KUBERNETES_DIR}/kustomization.yaml":
            content = dict(artifact.content)
            content["resources"] = sorted(content["resources"] + [a.path.removeprefix(f"{KUBERNETES_DIR}/") for a in extra])
            if patches:
                content["patches"] = patches
            artifact = Artifact(artifact.path, content, artifact.format, artifact.component)
        out.append(artifact)
    out += extra
    if override_tf:
        out.append(Artifact(OVERRIDE_TF, {"resource": override_tf}, "json"))
    result.artifacts = sorted(out, key=lambda a: a.path)
    return result


def _load_manifests(env: Environment, root: Path, folder: str, pointer: str) -> tuple[list[tuple[dict[str, Any], str]], list[Diagnostic]]:
    """Objects of one manifests folder (one object per *.yaml/*.yml file, sorted by name)."""
    where = env.locate(pointer)
    parts = Path(folder).parts
    if Path(folder).is_absolute() or ".." in parts or not parts:
        return [], [Diagnostic(where, E_MANIFEST, f"{folder!r} must be a folder inside the project (relative, no '..')")]
    directory = root / folder
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return [], [Diagnostic(where, E_MANIFEST, f"{folder!r} goes through a symbolic link; use a plain folder in the project")]
    if not directory.is_dir():
        return [], [Diagnostic(where, E_MANIFEST, f"{folder!r} is not a folder of the project")]
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    if len(files) > MAX_MANIFEST_FILES:
        return [], [Diagnostic(where, E_MANIFEST, f"{folder!r} holds {len(files)} files; the limit is {MAX_MANIFEST_FILES}")]
    found, problems = [], []
    for file in files:
        display = f"{Path(folder).as_posix().rstrip('/')}/{file.name}"
        try:
            document = load_file(str(file), display)
        except InputError as exc:
            problems += exc.diagnostics
            continue
        obj = document.data
        metadata = obj.get("metadata") if isinstance(obj, dict) else None
        if not (
            isinstance(obj, dict)
            and isinstance(obj.get("apiVersion"), str)
            and isinstance(obj.get("kind"), str)
            and _KIND.match(obj["kind"])
            and isinstance(metadata, dict)
            and isinstance(metadata.get("name"), str)
            and _NAME.match(metadata["name"])
        ):
            problems.append(
                Diagnostic(document.locate(""), E_MANIFEST, "expected one Kubernetes object with apiVersion, kind and metadata.name")
            )
            continue
        if obj["kind"] == "Secret":
            problems.append(
                Diagnostic(
                    document.locate("/kind"),
                    E_MANIFEST,
                    "a Secret would put its value in out/; reference the secret manager instead (ExternalSecret)",
                )
            )
            continue
        if obj["kind"] in CLUSTER_SCOPED or obj["kind"] == "Kustomization":
            problems.append(
                Diagnostic(
                    document.locate("/kind"),
                    E_MANIFEST,
                    f"{obj['kind']} is cluster-scoped; extra manifests stay in the environment's namespace",
                )
            )
            continue
        if "namespace" in metadata and metadata["namespace"] != env.namespace:
            problems.append(
                Diagnostic(
                    document.locate("/metadata/namespace"), E_MANIFEST, f"namespace must be the environment's ({env.namespace}) or omitted"
                )
            )
            continue
        found.append((obj, display))
    return found, problems


def manifest_folders(spec: dict[str, Any]) -> tuple[str, ...]:
    """The project folders an environment's overrides copy manifests from."""
    return tuple((spec.get("overrides") or {}).get("manifests") or ())


def trace_output(env: Environment, result: OverrideResult | None, artifacts: list[Artifact], target: str) -> str:
    """`mlc trace ENV 'kubernetes/<file>.yaml#/json/pointer'`: the output value and what set it:
    an override entry (with its file:line), an extra manifest, or mlc itself."""
    from compiler.analysis.trace import lookup
    from compiler.frontend.project import UsageError

    path, _, pointer = target.partition("#")
    final = {a.path: a.content for a in (result.artifacts if result else artifacts)}
    changes = list(result.changes) if result else []
    if result:  # the patched view, as kustomize and Terraform will apply it
        for key, obj in result.after.items():
            if "#" not in key:
                final[key] = obj
                continue
            file, _, address = key.partition("#")
            rtype, rname = address.split(".", 1)
            final[file] = {**final[file], "resource": {**final[file]["resource"], rtype: {**final[file]["resource"][rtype], rname: obj}}}
        prefix = {c.path: "/resource/" + "/".join(c.path.partition("#")[2].split(".", 1)) for c in changes if "#" in c.path}
        changes = [Change(c.path.partition("#")[0], prefix.get(c.path, "") + c.pointer, c.override) for c in changes]
    if path not in final:
        raise UsageError(f'"{path}" is not an output file of "{env.name}"{did_you_mean(path, set(final))}')
    if pointer and not pointer.startswith("/"):
        raise UsageError(f'"{pointer}" is not a JSON pointer; write it as /metadata/annotations/...')
    try:
        value = lookup(final[path], pointer)
    except KeyError as missing:
        raise UsageError(f'"{target}" is not set in the output (no key {missing})') from None
    lines = [f"{target} = {json.dumps(value, ensure_ascii=False)}"]
    if result is not None and path in result.extra:
        origin = result.extra[path]
        folder = _lookup_spec(env.spec, origin)
        lines.append(f"  from the extra manifests folder {folder!r} (listed at {env.locate(origin)})")
        return "\n".join(lines) + "\n"
    setters = [
        c
        for c in changes
        if c.path == path and (c.pointer == pointer or c.pointer.startswith(pointer + "/") or pointer.startswith(c.pointer + "/"))
    ]
    if not setters:
        owner = next((a.component for a in artifacts if a.path == path), None)
        lines.append(f"  emitted by mlc ({'component ' + repr(owner) if owner else 'environment-level object'}); no override changes it")
    for override in sorted({c.override for c in setters}, key=lambda o: (o.split("/")[2], int(o.split("/")[3]))):
        whole = any(c.override == override and (c.pointer == pointer or pointer.startswith(c.pointer + "/")) for c in setters)
        verb = "set by" if whole else "changed inside by"
        lines.append(f"  {verb} the override at {env.locate(override)} ({override.removeprefix('/').replace('/', '.')})")
    return "\n".join(lines) + "\n"


def _lookup_spec(spec: Any, pointer: str) -> Any:
    from compiler.analysis.trace import lookup

    return lookup(spec, pointer)
