"""Rules on the patched output: an override may add what mlc does not model, never weaken it.

Each check compares the security facts of an object before and after each override entry
(in order), so a finding names the entry that introduced the regression and sits on the
line inside it that made it (the key `privileged`, `serviceAccountName`, `acl`, ...), or on
the entry when no such key is visible (a JSON patch path, a `null`). Extra manifests are
compared against nothing: they must meet the same bar on their own.

Facts are position-independent strings ("container 'ranker' is privileged"), so a patch
that only reorders or adds containers does not look like a change to the others.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from compiler.core.secrets_scan import find_secret
from compiler.frontend.loader import escape_pointer_token
from compiler.model.environment import Environment
from compiler.policy.hits import Hit
from compiler.targets.overrides import OverrideResult

PRIVILEGED = "MLC-SEC-050"
HARDENING = "MLC-SEC-051"
PUBLIC = "MLC-SEC-052"
WILDCARD = "MLC-IAM-050"
IDENTITY = "MLC-IAM-051"
CREDENTIAL = "MLC-SEC-001"

_PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
_PRIMITIVE_ROLES = frozenset({"roles/owner", "roles/editor"})
# Azure built-in roles that can do everything (or hand out roles), and scopes that are not one resource
_AZURE_BROAD_ROLES = frozenset({"Owner", "Contributor", "User Access Administrator", "Storage Blob Data Owner"})
_AZURE_WIDE_SCOPE = re.compile(r"/subscriptions/[^/]+(/resourceGroups/[^/]+)?/?\Z|/\Z", re.IGNORECASE)
_IDENTITY_ANNOTATIONS = ("eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account", "azure.workload.identity/client-id")


# --- facts ---------------------------------------------------------------------------------------


def _containers(pod: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(pod.get(key) or []):
            if isinstance(container, dict):
                yield str(container.get("name", f"{key}[{index}]")), container


def _pod_specs(value: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every dict that holds a `containers` list (a PodSpec or a KServe predictor)."""
    if isinstance(value, dict):
        if isinstance(value.get("containers"), list):
            yield where or "pod", value
        for key, child in value.items():
            yield from _pod_specs(child, f"{where}.{key}" if where else key)
    elif isinstance(value, list):
        for child in value:
            yield from _pod_specs(child, where)


def kubernetes_facts(obj: Any) -> dict[str, set[str]]:
    """rule id -> weaknesses of one Kubernetes object (privilege, hardening, identity)."""
    facts: dict[str, set[str]] = {PRIVILEGED: set(), HARDENING: set(), IDENTITY: set()}
    for where, pod in _pod_specs(obj):
        pod_context = pod.get("securityContext") or {}
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(flag) is True:
                facts[PRIVILEGED].add(f"{where} sets {flag}")
        if pod.get("automountServiceAccountToken") is True:
            facts[HARDENING].add(f"{where} mounts its token explicitly")
        for volume in pod.get("volumes") or []:
            if isinstance(volume, dict) and "hostPath" in volume:
                facts[HARDENING].add(f"{where} mounts a host path (volume {volume.get('name')!r})")
        for name, container in _containers(pod):
            context = container.get("securityContext") or {}
            label = f"container {name!r} of {where}"
            if context.get("privileged") is True:
                facts[PRIVILEGED].add(f"{label} is privileged")
            if context.get("allowPrivilegeEscalation") is not False:
                facts[HARDENING].add(f"{label} may escalate privileges")
            if context.get("runAsNonRoot", pod_context.get("runAsNonRoot")) is not True:
                facts[HARDENING].add(f"{label} may run as root")
            if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
                facts[HARDENING].add(f"{label} runs as user 0")
            if context.get("readOnlyRootFilesystem") is not True:
                facts[HARDENING].add(f"{label} has a writable root filesystem")
            capabilities = context.get("capabilities") or {}
            if "ALL" not in (capabilities.get("drop") or []):
                facts[HARDENING].add(f"{label} keeps the default capabilities")
            for added in capabilities.get("add") or []:
                facts[HARDENING].add(f"{label} adds capability {added}")
            seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
            if seccomp == "Unconfined":
                facts[HARDENING].add(f"{label} runs without seccomp")
    for key in ("serviceAccountName", "serviceAccount"):
        for found in _values_of(obj, key):
            facts[IDENTITY].add(f"runs as ServiceAccount {found!r}")
    if isinstance(obj, dict) and obj.get("kind") == "ServiceAccount":
        annotations = (obj.get("metadata") or {}).get("annotations") or {}
        for annotation in _IDENTITY_ANNOTATIONS:
            if annotation in annotations:
                facts[IDENTITY].add(f"is bound to cloud identity {annotations[annotation]!r}")
    return facts


def _values_of(value: Any, key: str) -> Iterator[str]:
    if isinstance(value, dict):
        for k, child in value.items():
            if k == key and isinstance(child, str):
                yield child
            else:
                yield from _values_of(child, key)
    elif isinstance(value, list):
        for child in value:
            yield from _values_of(child, key)


def _policy_actions(document: Any) -> Iterator[str]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, dict) and statement.get("Effect", "Allow") == "Allow":
            actions = statement.get("Action", [])
            yield from [actions] if isinstance(actions, str) else [a for a in actions if isinstance(a, str)]


def terraform_facts(rtype: str, body: dict[str, Any]) -> dict[str, set[str]]:
    """rule id -> weaknesses of one Terraform resource (public storage, wildcard IAM)."""
    facts: dict[str, set[str]] = {PUBLIC: set(), WILDCARD: set()}
    if rtype == "aws_s3_bucket_public_access_block":
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            if body.get(flag) is not True:
                facts[PUBLIC].add(f"{flag} is not true")
    if body.get("acl") in _PUBLIC_ACLS:
        facts[PUBLIC].add(f"acl is {body['acl']}")
    if rtype == "google_storage_bucket":
        if body.get("public_access_prevention") != "enforced":
            facts[PUBLIC].add("public_access_prevention is not enforced")
        if body.get("uniform_bucket_level_access") is not True:
            facts[PUBLIC].add("uniform_bucket_level_access is off")
    if rtype == "azurerm_storage_account" and body.get("allow_nested_items_to_be_public") is not False:
        facts[PUBLIC].add("allow_nested_items_to_be_public is not false")
    if rtype == "azurerm_storage_account" and body.get("shared_access_key_enabled") is not False:
        facts[PUBLIC].add("shared_access_key_enabled is not false (account keys and SAS tokens bypass Entra ID)")
    if rtype == "azurerm_storage_container" and body.get("container_access_type", "private") != "private":
        facts[PUBLIC].add(f"container_access_type is {body.get('container_access_type')}")
    if rtype == "azurerm_role_assignment":
        role, scope = body.get("role_definition_name"), body.get("scope")
        if isinstance(role, str) and role in _AZURE_BROAD_ROLES:
            facts[WILDCARD].add(f"assigns the broad role {role}")
        if isinstance(scope, str) and _AZURE_WIDE_SCOPE.search(scope):
            facts[WILDCARD].add(f"is scoped to {scope} (a subscription or resource group, not one container)")
    members = [body.get("member")] + list(body.get("members") or [])
    for member in members:
        if isinstance(member, str) and member in _PUBLIC_MEMBERS:
            facts[PUBLIC].add(f"grants to {member}")
    for key in ("policy", "assume_role_policy", "inline_policy"):
        for action in _policy_actions(body.get(key)) if key in body else ():
            if action == "*" or action.endswith(":*"):
                facts[WILDCARD].add(f"allows {action}")
    for statement in body.get("statement") or []:
        for action in (statement or {}).get("actions") or []:
            if action == "*" or action.endswith(":*"):
                facts[WILDCARD].add(f"allows {action}")
    if isinstance(body.get("role"), str) and body["role"] in _PRIMITIVE_ROLES:
        facts[WILDCARD].add(f"grants the primitive role {body['role']}")
    return facts


# --- locating ------------------------------------------------------------------------------------

_KEYS = {
    PRIVILEGED: ("privileged", "hostNetwork", "hostPID", "hostIPC", "securityContext"),
    HARDENING: (
        "allowPrivilegeEscalation",
        "runAsNonRoot",
        "runAsUser",
        "readOnlyRootFilesystem",
        "capabilities",
        "seccompProfile",
        "hostPath",
        "automountServiceAccountToken",
        "securityContext",
    ),
    IDENTITY: ("serviceAccountName", "serviceAccount", *_IDENTITY_ANNOTATIONS),
    PUBLIC: (
        "block_public_acls",
        "block_public_policy",
        "ignore_public_acls",
        "restrict_public_buckets",
        "acl",
        "public_access_prevention",
        "uniform_bucket_level_access",
        "allow_nested_items_to_be_public",
        "shared_access_key_enabled",
        "container_access_type",
        "member",
        "members",
    ),
    WILDCARD: ("policy", "assume_role_policy", "inline_policy", "statement", "actions", "role", "role_definition_name", "scope"),
}


def _find_key(value: Any, keys: tuple[str, ...], pointer: str) -> str | None:
    """Pointer of the first of `keys` (in priority order) anywhere inside `value`."""
    for wanted in keys:
        found = _search(value, wanted, pointer)
        if found is not None:
            return found
    return None


def _search(value: Any, wanted: str, pointer: str) -> str | None:
    if isinstance(value, dict):
        for key, child in value.items():
            at = f"{pointer}/{escape_pointer_token(str(key))}"
            if key == wanted:
                return at
            found = _search(child, wanted, at)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, dict) and isinstance(child.get("path"), str) and wanted in child["path"].split("/"):
                return f"{pointer}/{index}/path"  # a JSON patch operation on that field
            found = _search(child, wanted, f"{pointer}/{index}")
            if found is not None:
                return found
    return None


def _where(env: Environment, entry_pointer: str, rule: str) -> tuple[str, bool]:
    entry = _lookup(env.spec, entry_pointer)
    for field in ("patch", "json6902", "set"):
        if isinstance(entry, dict) and field in entry:
            found = _find_key(entry[field], _KEYS[rule], f"{entry_pointer}/{field}")
            if found is not None:
                return found, True
    return entry_pointer, False


def _lookup(spec: Any, pointer: str) -> Any:
    value = spec
    for token in pointer.split("/")[1:]:
        value = value[int(token)] if isinstance(value, list) else value[token.replace("~1", "/").replace("~0", "~")]
    return value


# --- the check -----------------------------------------------------------------------------------


def _facts(path: str, obj: Any) -> dict[str, set[str]]:
    if "#" in path:  # terraform/<file>.tf.json#<type>.<name>
        return terraform_facts(path.split("#", 1)[1].split(".", 1)[0], obj)
    return kubernetes_facts(obj)


def _label(path: str, obj: Any) -> str:
    if "#" in path:
        return path.split("#", 1)[1]
    return f"{obj.get('kind')} {obj.get('metadata', {}).get('name')!r}"


def override_hits(env: Environment, result: OverrideResult) -> list[tuple[str, Hit]]:
    """(rule id, hit) for every weakness an override entry introduces, in entry order."""
    hits: list[tuple[str, Hit]] = []
    for entry_pointer, path, before, after in result.steps:
        old, new = _facts(path, before), _facts(path, after)
        for rule, weaknesses in new.items():
            for weakness in sorted(weaknesses - old.get(rule, set())):
                at, exact = _where(env, entry_pointer, rule)
                hits.append((rule, Hit(None, at, f"override of {_label(path, after)}: {weakness}", key=exact)))
    emitted_accounts = {
        obj["metadata"]["name"]
        for obj in (a.content for a in result.artifacts)
        if isinstance(obj, dict) and obj.get("kind") == "ServiceAccount"
    }
    for path, entry_pointer in sorted(result.extra.items()):
        obj = result.after[path]
        facts = kubernetes_facts(obj)
        label = f"extra manifest {obj['kind']} {obj['metadata']['name']!r}"
        for rule in (PRIVILEGED, HARDENING):
            for weakness in sorted(facts[rule]):
                hits.append((rule, Hit(None, entry_pointer, f"{label}: {weakness}")))
        for account in sorted(set(_values_of(obj, "serviceAccountName")) & emitted_accounts):
            hits.append((IDENTITY, Hit(None, entry_pointer, f"{label} runs as {account!r}, the identity of an mlc workload")))
        for text in _strings(obj):
            kind = find_secret(text)
            if kind is not None:
                hits.append((CREDENTIAL, Hit(None, entry_pointer, f"{label} holds what looks like a credential ({kind}) in plaintext")))
                break
    return hits


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield str(key)
            yield from _strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _strings(child)
