"""Security, identity and network checks (MLC-SEC-*, MLC-IAM-*, MLC-NET-*).

Each check is a small stateless function `(compiled) -> Iterable[Hit]`; see catalog.py
for the title, rationale and fix of each id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from compiler.core.secrets_scan import find_secret
from compiler.frontend.loader import Document, escape_pointer_token
from compiler.model.environment import CLASSIFICATION_RANK, Component, Environment
from compiler.model.kinds import Category, Trait
from compiler.plan.compiled import Compiled
from compiler.policy.hits import Hit, describe_lineage, fix_at, is_set, show

# ---------------------------------------------------------------------------- SEC


_CREDENTIAL_FLAG = re.compile(r"-{1,2}[a-z0-9-]*(password|passwd|pwd|secret|token|api-?key|access-?key)[a-z0-9-]*\Z", re.IGNORECASE)


def _strings(doc: Document, node: Any, pointer: str) -> Iterator[tuple[str, str, bool]]:
    """(pointer, text, is_key) for every string value and mapping key of a document."""
    if isinstance(node, dict):
        for key, value in node.items():
            child = f"{pointer}/{escape_pointer_token(str(key))}"
            yield child, str(key), True
            yield from _strings(doc, value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(doc, value, f"{pointer}/{index}")
            previous = node[index - 1] if index else None
            if isinstance(previous, str) and isinstance(value, str) and _CREDENTIAL_FLAG.match(previous):
                # a secret split over two list items: ["--password", "hunter2X"]
                yield f"{pointer}/{index}", f"{previous.lstrip('-')}={value}", False
    elif isinstance(node, str):
        yield pointer, node, False


def _safe_path(pointer: str) -> str:
    """components.x.env.NAME for a pointer; a token that itself looks like a secret is hidden."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    return ".".join("<redacted>" if find_secret(t) else t for t in tokens) or "(document root)"


def plaintext_credentials(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-001: every string (and key) of every file of the chain, as written."""
    env = compiled.env
    for doc in env.documents:  # raw files: also values a child overrides or removes
        for pointer, text, is_key in _strings(doc, doc.data, ""):
            kind = find_secret(text)
            if kind is None:
                continue
            parts = pointer.split("/")
            component = parts[2] if len(parts) > 2 and parts[1] == "components" and parts[2] in env.components else None
            where = "a key" if is_key else "the value"
            yield Hit(
                component,
                doc.locate(pointer, key=is_key),
                f"{where} at {_safe_path(pointer)} looks like a credential ({kind}) in plaintext; "
                'rotate it, store it in the secret manager and reference it as {secret: "<path>#<key>"}',
            )


def _public_stores(env: Environment) -> Iterator[tuple[str, str]]:
    for store in env.with_trait(Trait.BUCKET):
        if store.get("public"):
            yield store.name, f"{store.pointer}/public"


def sensitive_public_store(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-002: public bucket whose effective (lineage) class is pii or confidential."""
    env = compiled.env
    for name, pointer in _public_stores(env):
        lineage = compiled.graph.lineage[name]
        if CLASSIFICATION_RANK[lineage.effective] >= CLASSIFICATION_RANK["confidential"]:
            origin = "" if lineage.effective == lineage.own else f" (lineage: {describe_lineage(env, lineage)})"
            yield Hit(name, pointer, f"public store holds {lineage.effective} data{origin}")


def public_store(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-004: any other public bucket."""
    for name, pointer in _public_stores(compiled.env):
        if CLASSIFICATION_RANK[compiled.graph.lineage[name].effective] < CLASSIFICATION_RANK["confidential"]:
            yield Hit(
                name,
                pointer,
                f"store is public (classification {compiled.graph.lineage[name].effective}): anyone on the internet can read it",
            )


def _public_endpoints_from(compiled: Compiled, classification: str) -> Iterator[Hit]:
    env = compiled.env
    for serving in env.of_type("serving"):
        lineage = compiled.graph.lineage[serving.name]
        if serving.get("public") and lineage.effective == classification:
            yield Hit(
                serving.name,
                f"{serving.pointer}/public",
                f"public endpoint serves a model derived from {classification} data: {describe_lineage(env, lineage)}",
            )


def public_endpoint_pii_model(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-003."""
    return _public_endpoints_from(compiled, "pii")


def public_endpoint_confidential_model(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-006."""
    return _public_endpoints_from(compiled, "confidential")


_DIGEST = re.compile(r"@sha256:[a-f0-9]{64}\Z")


def image_not_pinned(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-005: every workload image (serving with a KServe runtime has none)."""
    for workload in compiled.env.of_category(Category.WORKLOAD):
        image = workload.get("image")
        if isinstance(image, str) and not _DIGEST.search(image):
            yield Hit(workload.name, f"{workload.pointer}/image", f'image "{show(image)}" is not pinned by digest (@sha256:...)')


_CREDENTIAL_WORDS = frozenset({"PASSWORD", "PASSWD", "PWD", "SECRET", "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "PASSPHRASE"})
# SECRET_KEY and CLIENT_SECRET need no pair: SECRET alone is a credential word
_CREDENTIAL_PAIRS = frozenset({("API", "KEY"), ("ACCESS", "KEY"), ("PRIVATE", "KEY"), ("AUTH", "KEY")})
_NOT_A_VALUE = frozenset(
    {"PATH", "FILE", "DIR", "NAME", "ID", "TYPE", "ENDPOINT", "URL", "HEADER", "LENGTH", "TTL", "EXPIRY", "REF", "ARN"}
)


def credential_name(name: str) -> bool:
    """DB_PASSWORD, HF_TOKEN, OPENAI_API_KEY: yes. TOKENIZER, TOKEN_FILE, SECRET_NAME: no."""
    words = name.upper().split("_")
    if words[-1] in _NOT_A_VALUE:
        return False
    return bool(_CREDENTIAL_WORDS & set(words)) or any(pair in _CREDENTIAL_PAIRS for pair in zip(words, words[1:], strict=False))


def credential_named_plaintext(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-007: `env` entries named like credentials with a plaintext value (SEC-001 misses)."""
    for workload in compiled.env.of_category(Category.WORKLOAD):
        for name, value in sorted((workload.get("env") or {}).items()):
            if isinstance(value, str) and value and credential_name(name) and find_secret(value) is None:
                pointer = f"{workload.pointer}/env/{escape_pointer_token(name)}"
                yield Hit(workload.name, pointer, f"{name} is named like a credential but has a plaintext value; use a secret reference")


def sensitive_store_unversioned(compiled: Compiled) -> Iterator[Hit]:
    """MLC-SEC-008: versioning off on a bucket holding pii or confidential data (by lineage)."""
    env = compiled.env
    for store in env.with_trait(Trait.BUCKET):
        lineage = compiled.graph.lineage[store.name]
        if store.get("versioning") is False and CLASSIFICATION_RANK[lineage.effective] >= CLASSIFICATION_RANK["confidential"]:
            origin = "" if lineage.effective == lineage.own else f" (lineage: {describe_lineage(env, lineage)})"
            yield Hit(store.name, f"{store.pointer}/versioning", f"versioning is off on a store holding {lineage.effective} data{origin}")


# ---------------------------------------------------------------------------- IAM


def _access(env: Environment) -> list[dict[str, Any]]:
    return [a for a in env.spec.get("access") or [] if isinstance(a, dict)]


def admin_to_everyone(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-001."""
    for index, entry in enumerate(_access(compiled.env)):
        if entry.get("group") == "*" and entry.get("role") == "admin":
            yield Hit(None, f"/access/{index}/role", 'admin is granted to "*" (every authenticated identity)')


def admin_to_every_group(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-002: two or more groups, all admin."""
    access = _access(compiled.env)
    if len(access) >= 2 and all(a.get("role") == "admin" for a in access):
        groups = ", ".join(sorted(str(a.get("group")) for a in access))
        yield Hit(None, "/access", f"every group in access is admin ({groups})", key=True)


def editor_to_everyone(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-003."""
    for index, entry in enumerate(_access(compiled.env)):
        if entry.get("group") == "*" and entry.get("role") == "editor":
            yield Hit(None, f"/access/{index}/role", 'editor is granted to "*" (every authenticated identity)')


def declared_access(env: Environment, component: Component) -> tuple[set[str], set[str]]:
    """(reads, writes) the spec declares, read from the kind's reference fields: reads / model
    are read; writes written; checkpoint_to and a tracking server's backend are both (written,
    and read back); `tracking: <server>` declares both on the server's artifact store(s)."""
    from compiler.analysis.graph import READ_KINDS, READ_WRITE_KINDS, WRITE_KINDS

    reads: set[str] = set()
    writes: set[str] = set()
    for ref in component.kind.references:
        targets = {target for target, _ in ref.targets(component)}
        if ref.edge in READ_KINDS or ref.edge in READ_WRITE_KINDS:
            reads |= targets
        if ref.edge in WRITE_KINDS:
            writes |= targets
        if ref.edge == "tracking":  # MLflow clients write (and read back) the server's artifacts
            for server in targets & set(env.components):
                _, stores = declared_access(env, env.components[server])
                logged = {s for s in stores if env.components[s].has(Trait.BUCKET)}
                reads |= logged
                writes |= logged
    return reads, writes


def grants_match_declarations(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-004: grants == graph data flow == what the spec declares, for every workload."""
    env, graph = compiled.env, compiled.graph
    workloads = {c.name for c in env.of_category(Category.WORKLOAD)}
    monitors = {m.name: m for m in compiled.monitors}
    feature_stores = {c.name for c in env.with_trait(Trait.FEATURE_STORE)}
    for name in sorted(set(compiled.grants) - workloads - set(monitors) - feature_stores):
        yield Hit(None, "/components", f'grants exist for "{name}", which is not a workload of this environment', key=True)
    for name in sorted(feature_stores):  # its materialisation: its lake (offline + registry) and itself (online)
        lake = str(env.components[name].spec["offline"])
        grant = compiled.grants.get(name)
        if grant is None or grant.reads != (lake,) or set(grant.writes) != {lake, name}:
            message = f'the grants of feature store "{name}" are not exactly: read "{lake}", write its registry and its online store'
            yield Hit(name, f"/components/{name}", message, key=True)
    for name, monitor in sorted(monitors.items()):  # a monitor workload reads its one store, nothing else
        grant = compiled.grants.get(name)
        if grant is None or grant.reads != (monitor.store,) or grant.writes:
            message = f'the grants of "{name}" are not exactly read access to "{monitor.store}"'
            yield Hit(monitor.monitoring, monitor.pointer, message, key=True)
    for name in sorted(workloads):
        declared_reads, declared_writes = declared_access(env, env.components[name])
        grant = compiled.grants.get(name)
        got_reads, got_writes = (set(grant.reads), set(grant.writes)) if grant else (set(), set())
        for label, got, declared, edges in (
            ("reads", got_reads, declared_reads, set(graph.reads(name))),
            ("writes", got_writes, declared_writes, set(graph.writes(name))),
        ):
            extra, missing = sorted((got | edges) - declared), sorted(declared - got)
            if extra:
                yield Hit(
                    name, f"/components/{name}", f"derived {label} access to {', '.join(extra)} is not declared by the spec", key=True
                )
            if missing:
                yield Hit(name, f"/components/{name}", f"declared {label} of {', '.join(missing)} has no derived grant", key=True)


def grants_without_wildcards(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-005: every granted name is a store of the environment (no '*', no pattern)."""
    stores = {c.name for c in compiled.env.components.values() if c.is_store}
    for name, grant in sorted(compiled.grants.items()):
        bad = sorted(s for s in grant.stores if s not in stores or "*" in s)
        if bad:
            component = name if name in compiled.env.components else None
            yield Hit(
                component,
                f"/components/{name}",
                f"derived grant names {', '.join(show(b) for b in bad)}, not a store of this environment",
                key=True,
            )


def duplicate_access_group(compiled: Compiled) -> Iterator[Hit]:
    """MLC-IAM-006."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(_access(compiled.env)):
        group = str(entry.get("group"))
        if group in seen:
            yield Hit(
                None,
                f"/access/{index}/group",
                f'group "{group}" is already listed (access[{seen[group]}]); it gets the union of both roles',
            )
        else:
            seen[group] = index


# ---------------------------------------------------------------------------- NET


def public_endpoint_unbounded(compiled: Compiled) -> Iterator[Hit]:
    """MLC-NET-001: public serving needs autoscaling and an explicit replicas.max."""
    env = compiled.env
    for serving in env.of_type("serving"):
        if not serving.get("public"):
            continue
        missing = []
        if not serving.get("autoscaling"):
            missing.append("autoscaling")
        if not is_set(env, f"{serving.pointer}/replicas/max"):
            missing.append("an explicit replicas.max")
        if missing:
            yield fix_at(
                serving.name,
                env,
                f"{serving.pointer}/{'autoscaling' if 'autoscaling' in missing else 'replicas/max'}",
                f"public endpoint without {' and '.join(missing)}",
            )


def public_endpoint_writes(compiled: Compiled) -> Iterator[Hit]:
    """MLC-NET-002."""
    for serving in compiled.env.of_type("serving"):
        if serving.get("public") and serving.get("writes"):
            yield Hit(serving.name, f"{serving.pointer}/writes", f"public endpoint can write to {', '.join(serving.get('writes'))}")
