"""Detection of credential-looking strings: known key formats plus high-entropy tokens.

Used by the policy rule on plaintext credentials, by error messages (which must never
echo a secret) and by the test that scans every compiled tree.
"""

from __future__ import annotations

import math
import re
from collections import Counter

# (name, pattern): well-known credential formats
KNOWN_FORMATS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("AWS access key id", r"\b(AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
        ("AWS secret access key", r"(?i)aws.{0,20}?['\"=: ]{1,8}[A-Za-z0-9/+]{40}\b"),
        ("private key", r"-----BEGIN ([A-Z]+ )?PRIVATE KEY( BLOCK)?-----"),
        ("GitHub token", r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36,255}\b|\bgithub_pat_[A-Za-z0-9_]{22,255}\b"),
        ("GitLab token", r"\bglpat-[A-Za-z0-9_-]{20,}\b"),
        ("Slack token", r"\bxox[baprs]-[A-Za-z0-9-]{10,}\b"),
        ("Slack webhook", r"hooks\.slack\.com/services/T[A-Za-z0-9_]+/B[A-Za-z0-9_]+/[A-Za-z0-9_]+"),
        ("Google API key", r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("GCP service account key", r"\"type\": ?\"service_account\"|private_key_id"),
        ("Stripe key", r"\b(sk|rk)_(live|test)_[0-9A-Za-z]{16,}\b"),
        ("Anthropic key", r"\bsk-ant-[a-z0-9]{2,8}-[A-Za-z0-9_-]{20,}"),
        ("OpenAI key", r"\bsk-(proj-)?[A-Za-z0-9_-]{20,}\b"),
        ("Hugging Face token", r"\bhf_[A-Za-z0-9]{30,}\b"),
        ("JSON Web Token", r"\beyJ[A-Za-z0-9_-]{8,256}\.eyJ[A-Za-z0-9_-]{8,4096}\.[A-Za-z0-9_-]{8}"),
        ("Azure storage key", r"AccountKey=[A-Za-z0-9+/=]{40,}"),
        # bounded parts (an unbounded `[a-z][a-z0-9+.-]*` scheme made the search quadratic:
        # 16k characters of "a-a-..." took 0.7 s, 1 MB half an hour);
        # the user may be empty (redis://:password@host)
        ("connection string with password", r"(?i)(?:\b[a-z][a-z0-9+.-]{0,30})?://[^\s:/@]{0,256}:[^\s@/]{3,256}@"),
        # the value must hold a digit, a capital or a symbol: "token: rotated monthly" is prose;
        # a reference or placeholder ({...}, $VAR, <path>, also quoted: "<path>#<key>") is not a value
        (
            "password assignment",
            r"\b(?i:password|passwd|pwd|secret|token|(?:api|access)[_-]?key)[ \t]{0,8}[=:][ \t]{0,8}(?=\S{0,256}[0-9A-Z!#%^&*+=@])"
            r"(?![\"']?[{$<])[^\s{$<]\S{5}",
        ),
        ("npm token", r"\bnpm_[A-Za-z0-9]{36}\b"),
        ("SendGrid key", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
        # hex-only keys: too regular for the entropy check, so only with their known prefix
        ("Twilio API key", r"\bSK[0-9a-f]{32}\b"),
        ("Mailgun key", r"\bkey-[0-9a-f]{32}\b"),
    )
)

_TOKEN = re.compile(r"[A-Za-z0-9+/_=-]{24,}")
_HEX_DIGEST = re.compile(r"\A(sha256:)?[a-f0-9]{64}\Z")
# pieces of identifiers made of capitalised words, acronyms and small numbers
# (AmazonEC2ContainerRegistryReadOnly, BatchScoringJobConfigurationV2Loader): mixed case and
# digits, but a random token almost never splits this way. A passphrase written in CamelCase
# is missed too; only its assignment is caught. (A tokenizer, not one alternation under `+`:
# that form backtracked exponentially on "ABC12ABC12...".)
_CAMEL_PIECE = re.compile(r"[A-Z][a-z]+|[A-Z]+(?![a-z])|[0-9]+|[a-z]+|[-_]")


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    total = len(text)
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def _made_of_words(token: str) -> bool:
    """Every /-separated part is lower-case or CamelCase words (mostly lower-case letters)."""
    if "+" in token or "=" in token:
        return False  # base64, never an identifier
    for part in token.split("/"):
        if not part or part.islower():
            continue
        letters = [c for c in part if c.isalpha()]
        if sum(c.islower() for c in letters) < 0.6 * len(letters):
            return False
        for piece in _CAMEL_PIECE.findall(part):
            word = piece[0].isupper() and piece[1:].islower() and len(piece) >= 3
            if not (word or piece in "-_" or piece.isupper() and len(piece) <= 5 or piece.isdigit() and len(piece) <= 2):
                return False
    return True


# Azure VM sizes and flexible-server SKUs (Standard_NC24ads_A100_v4, GP_Standard_D4ds_v5):
# mixed case and digits by design, and never a credential
_AZURE_SIZE = re.compile(r"(?:[A-Z]{1,2}_)?(?:Standard|Basic)_[A-Z][A-Za-z0-9]{0,20}(?:_[A-Za-z0-9]{1,12}){0,3}\Z")


# an Azure resource id (/subscriptions/<guid>/resourceGroups/<rg>/providers/...): a path of names
_AZURE_RESOURCE_ID = re.compile(r"/subscriptions/[0-9a-fA-F-]{36}(/[A-Za-z0-9._()-]+)*\Z")


# an Azure Blob / Data Lake endpoint: its host is split into tokens at the dots, which would leave
# "net/<container>/<path>" (two slashes, not a path); scanned like s3://<bucket>/<path> instead
_AZURE_STORAGE_HOST = re.compile(r"//([a-z0-9]{3,24})\.(?:blob|dfs)\.core\.windows\.net(?=/)")


def _high_entropy_token(text: str) -> bool:
    if _AZURE_RESOURCE_ID.match(text):
        return False
    for token in _TOKEN.findall(_AZURE_STORAGE_HOST.sub(r"//\1", text)):
        if _HEX_DIGEST.match(token) or "/" in token.strip("/") and token.count("/") > 2 or _made_of_words(token):
            continue  # image digests, paths and CamelCase identifiers are not secrets
        if _AZURE_SIZE.match(token):
            continue
        classes = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
        # a random 24-character token is below 4.0 bits 6% of the time (its maximum is 4.58)
        if classes == 3 and shannon_entropy(token) >= (3.8 if len(token) < 28 else 4.0):
            return True
    return False


def find_secret(text: str) -> str | None:
    """The name of the credential format `text` looks like, or None."""
    if len(text) < 8:
        return None
    for name, pattern in KNOWN_FORMATS:
        if pattern.search(text):
            return name
    if _high_entropy_token(text):
        return "high-entropy string"
    return None


def redact(text: str) -> str:
    """`text`, unless it looks like a credential: then a placeholder that does not echo it."""
    return "<redacted: looks like a credential>" if find_secret(text) else text


PLACEHOLDER = "<redacted>"
# a PEM block is redacted whole: its base64 body alone may not look like a secret
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY( BLOCK)?-----.*?(-----END [A-Z ]*-----|\Z)", re.DOTALL)


def scrub(text: str) -> str:
    """`text` with every credential-looking part replaced by a placeholder, the rest kept.

    For messages that must quote user text (a KCL policy's message, a path) without ever
    echoing a secret. Falls back to `redact` if anything secret-looking survives.
    """
    if find_secret(text) is None:
        return text
    out = _PEM_BLOCK.sub(PLACEHOLDER, text)
    for _name, pattern in KNOWN_FORMATS:
        out = pattern.sub(PLACEHOLDER, out)
    out = _TOKEN.sub(lambda m: PLACEHOLDER if _high_entropy_token(m.group()) else m.group(), out)
    return out if find_secret(out) is None else redact(out)
