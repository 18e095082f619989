"""The kind find_secret names (it appears in MLC-SEC-001 messages: "looks like a credential
(GitHub token)"): one sample per known format of compiler/core/secrets_scan.py.

The mutation run found the names unchecked (every test only asked "is it a secret?"), so a
renamed or reordered format went unnoticed. Samples come from tests/support/secret_corpus.py."""

from __future__ import annotations

import pytest

from compiler.core.secrets_scan import find_secret
from tests.support.secret_corpus import CREDENTIALS

KINDS = {
    "aws-access-key-id": "AWS access key id",
    "aws-secret-key-assignment": "AWS secret access key",
    "rsa-private-key": "private key",
    "github-classic-token": "GitHub token",
    "gitlab-pat": "GitLab token",
    "slack-bot-token": "Slack token",
    "slack-webhook": "Slack webhook",
    "google-api-key": "Google API key",
    "stripe-secret-live": "Stripe key",
    "anthropic-key": "Anthropic key",
    "openai-key": "OpenAI key",
    "huggingface-token": "Hugging Face token",
    "jwt": "JSON Web Token",
    "azure-storage-connection": "Azure storage key",
    "postgres-url": "connection string with password",
    "password-yaml-style": "password assignment",
    "npm-token": "npm token",
    "sendgrid-key": "SendGrid key",
    "twilio-api-key": "Twilio API key",
    "mailgun-key": "Mailgun key",
    "high-entropy-alnum": "high-entropy string",
}


@pytest.mark.parametrize("sample", sorted(KINDS))
def test_each_format_is_named(sample: str) -> None:
    assert find_secret(CREDENTIALS[sample]) == KINDS[sample]


def test_a_service_account_marker_is_named() -> None:
    assert find_secret('{"type": "service_account", "project_id": "p"}') == "GCP service account key"
