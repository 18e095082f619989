"""The identifier and path heuristics of compiler/core/secrets_scan.py's entropy check, pinned
at their edges: what `_made_of_words` accepts as an identifier, what counts as a path or an
Azure name, and the exact class and entropy thresholds.

The mutation run stopped at 79.5% on this module: every surviving mutant was in these
heuristics, which the corpus tests (tests/core/test_secrets.py) only meet far from their edges.
Each case below names what it guards; together they kill every non-equivalent mutant of
_made_of_words and _high_entropy_token (docs/mutation-report.md lists the equivalent ones).
"""

from __future__ import annotations

import pytest

from compiler.core.secrets_scan import find_secret, redact, scrub, shannon_entropy

HIGH = "high-entropy string"

NOT_SECRETS = {
    # a lower-case path segment is skipped (`continue`); the CamelCase one is made of words
    # (split on "/" first: as one part its lower-case piece "ranker" would not be a word)
    "ranker/BatchScoringConfigV2Loader": "lower-case part, then CamelCase words",
    # exactly 60% lower-case letters is enough (`< 0.6`, not `<=`)
    "Job1HTTP1Read12ScoringJumps12Scoring1ABCDE12": "exactly 60% lower-case",
    # three-letter capitalised words (`len(piece) >= 3`): Fox, Job
    "Read1Jumps12Fox1Lazy1Over12JobABCDE12": "three-letter words",
    # an acronym of five capitals is a word (`<= 5`): NVSMI, ABCDE
    "ModelServerNVSMIReaderConfigV2": "five-capital acronym",
    "BatchABCDEScoringJobConfigLoader1": "five-capital acronym, mid-word",
    # a two-digit number is a word (`<= 2`), and "-", "_" separate words
    "BatchScoringJobConfig-Model_V12Loader": "two-digit number and separators",
    # Azure VM sizes and flexible-server SKUs
    "Standard_NC24ads_A100_v4": "Azure VM size",
    "GP_Standard_D4ds_v5": "Azure database SKU",
    # an Azure resource id: a path of names, whatever its last segment looks like
    "/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/ml-prod/providers/"
    "Microsoft.Storage/storageAccounts/mlprodData2024Xyz": "Azure resource id",
    # an Azure Blob URL is scanned like s3://<bucket>/<path>: its host's dots do not cut the path
    # short ("net/train/..." has two slashes); a random-spec run drew this model path (seed 2)
    "https://ste1traina0434d1.blob.core.windows.net/train/qb01i3mbujMyCbQ": "Azure Blob URL with a model path",
    # three slashes make a path, even with a random-looking last segment (`count("/") > 2`,
    # the slashes counted inside the token once only slashes are stripped from its ends)
    "models/v1/eval/T3QpqXeR9CZBJqIC2IDaz1vkqF": "path of four segments",
    "XX///T3QpqXeR9CZBJqIC2IDaz1vkqF": "path whose first segment is XX",
    # upper case and digits only: two classes, never flagged by entropy alone (`classes == 3`)
    "K3J9X2M7Q8W4E1R5T6Y0U9I8O7P6A5S4": "two character classes",
    # 28 characters: the threshold is 4.0 bits from 28 on (`len < 28`); this one has log2(14)
    "aB3dE5gH7jK9mNaB3dE5gH7jK9mN": "28 characters below 4.0 bits",
}

SECRETS = {
    # "+" or "=" is base64, never an identifier, even when the pieces are words
    "BatchScoring+ModelServer+ReadOnly42": "words joined by +",
    "BatchScoring=ModelServer=ReadOnly42": "words joined by =",
    # 24 random characters: the short-token threshold (3.8 bits) applies
    "PIa84yRnBUbHoWC8FJowoRoW": "24 random characters",
    # a lower-case start is a piece, not a word: a random token does not pass as camelCase
    "qwZmXtr8PvLkn3BhYdws5WcJf": "random, lower-case runs",
    # fewer than 60% lower-case letters: not an identifier, whatever its pieces
    "ABCDE16JumpsABCDE33ServerNOPQ21Registry": "mostly capitals",
    # a six-capital run and a three-digit number are not words
    "ServerScoringQuick1ABCDEFDogx9": "six-capital run",
    "Model123Config123Jumps123Amazon1ModelScoring1": "three-digit numbers",
    # two slashes do not make a path, and only Azure's storage hosts are read as a bucket
    "https://example.net/train/qb01i3mbujMyCbQ": "the same path under another host",
    "A16/7PglOU3shVv/79BG16QmtsL": "random with two slashes",
    # exactly 4.0 bits over 32 characters (16 symbols twice each): the threshold is inclusive
    "aB3dE5gH7jK9mN1paB3dE5gH7jK9mN1p": "exactly 4.0 bits",
}


@pytest.mark.parametrize("text", sorted(NOT_SECRETS), ids=[NOT_SECRETS[t] for t in sorted(NOT_SECRETS)])
def test_identifiers_paths_and_azure_names_are_not_secrets(text: str) -> None:
    assert find_secret(text) is None
    assert scrub(text) == text


@pytest.mark.parametrize("text", sorted(SECRETS), ids=[SECRETS[t] for t in sorted(SECRETS)])
def test_random_looking_tokens_are_secrets(text: str) -> None:
    assert find_secret(text) == HIGH
    scrubbed = scrub(f"run {text} now")
    assert "<redacted>" in scrubbed and scrubbed.startswith("run ") and scrubbed.endswith(" now") and find_secret(scrubbed) is None


def test_the_threshold_cases_sit_exactly_on_their_edges() -> None:
    """The entropy cases above are what their comments say (so they stay edge cases)."""
    assert shannon_entropy("aB3dE5gH7jK9mN1paB3dE5gH7jK9mN1p") == 4.0
    assert 3.8 < shannon_entropy("aB3dE5gH7jK9mNaB3dE5gH7jK9mN") < 4.0
    assert len("aB3dE5gH7jK9mNaB3dE5gH7jK9mN") == 28 and len("PIa84yRnBUbHoWC8FJowoRoW") == 24
    letters = [c for c in "Job1HTTP1Read12ScoringJumps12Scoring1ABCDE12" if c.isalpha()]
    assert sum(c.islower() for c in letters) == 0.6 * len(letters)


def test_the_length_floor_is_eight_characters() -> None:
    """Guards find_secret's `len(text) < 8`: eight characters are scanned (an empty user and a
    three-character password in a URL is a connection string with a password)."""
    assert find_secret("://:pwd@") == "connection string with password"
    assert find_secret("s3://:pwd@") == "connection string with password"


def test_redact_replaces_a_credential_whole_and_keeps_anything_else() -> None:
    """Guards redact's placeholder (error messages show it instead of the value)."""
    assert redact("://:pwd@") == "<redacted: looks like a credential>"
    assert redact("ranker/BatchScoringConfigV2Loader") == "ranker/BatchScoringConfigV2Loader"


def test_a_pem_block_is_scrubbed_whole() -> None:
    """Guards _PEM_BLOCK: the header, the base64 body (whose lines alone may not look like
    secrets) and the footer become one placeholder; the text around it stays."""
    body = "MIIEowIBAAKCAQEAwJxn\nabcdefghijklmnop\n"
    text = f"key: -----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\nafter"
    assert scrub(text) == "key: <redacted>\nafter"
    assert scrub("key: -----BEGIN PRIVATE KEY-----\nMIIEowIBAAKCAQEAwJxn") == "key: <redacted>"  # cut off: to the end


def test_a_credential_that_shows_only_once_another_is_replaced_redacts_the_whole_text() -> None:
    """Guards scrub's last check (`find_secret(out) is None` else redact): an access key id
    glued to a secret-key assignment has no word boundary, so it matches only after the
    assignment became a placeholder; the text is then redacted whole, never returned."""
    from tests.support.secret_corpus import CREDENTIALS

    glued = CREDENTIALS["aws-access-key-id"] + CREDENTIALS["aws-secret-key-assignment"]
    assert scrub(glued) == "<redacted: looks like a credential>"
