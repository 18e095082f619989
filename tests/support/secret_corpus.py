"""Realistic credential formats (fake values, assembled at import so that no literal token
sits in the repository for scanners to trip on) and realistic NON-secrets.

Used by tests/core/test_secrets.py: every credential must be detected by
compiler.secrets_scan.find_secret and rejected in every spec field; no non-secret may be
detected (they appear in valid specs and in compiled output).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random

_rng = random.Random(1234)
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _rand(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_rng.choice(alphabet) for _ in range(n))


def _b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


_PEM_BODY = "\n".join(base64.b64encode(bytes(_rng.randrange(256) for _ in range(48))).decode() for _ in range(4))
_JWT = ".".join(
    [_b64url({"alg": "HS256", "typ": "JWT"}), _b64url({"sub": "1234567890", "name": "svc", "iat": 1516239022}), _rand(43, _ALNUM + "-_")]
)
_AWS_SECRET = _rand(40, _ALNUM + "/+")
_HEX32 = hashlib.md5(b"mlc").hexdigest()

# name -> credential text (the whole value a user might paste)
CREDENTIALS: dict[str, str] = {
    "aws-access-key-id": "AKIA" + _rand(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    "aws-temporary-key-id": "ASIA" + _rand(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
    "aws-secret-key-alone": _AWS_SECRET,
    "aws-secret-key-assignment": "aws_secret_access_key=" + _AWS_SECRET,
    "aws-cli-credentials": (
        f"[default]\naws_access_key_id = AKIA{_rand(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567')}\naws_secret_access_key = {_AWS_SECRET}\n"
    ),
    "rsa-private-key": f"-----BEGIN RSA PRIVATE KEY-----\n{_PEM_BODY}\n-----END RSA PRIVATE KEY-----\n",
    "pkcs8-private-key": f"-----BEGIN PRIVATE KEY-----\n{_PEM_BODY}\n-----END PRIVATE KEY-----",
    "encrypted-private-key": f"-----BEGIN ENCRYPTED PRIVATE KEY-----\n{_PEM_BODY}\n-----END ENCRYPTED PRIVATE KEY-----",
    "ec-private-key": f"-----BEGIN EC PRIVATE KEY-----\n{_PEM_BODY}\n-----END EC PRIVATE KEY-----",
    "openssh-private-key": f"-----BEGIN OPENSSH PRIVATE KEY-----\n{_PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----",
    "pgp-private-key": f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{_PEM_BODY}\n-----END PGP PRIVATE KEY BLOCK-----",
    "pem-body-only": _PEM_BODY,  # the key block pasted without its header lines
    "github-classic-token": "ghp_" + _rand(36),
    "github-oauth-token": "gho_" + _rand(36),
    "github-app-token": "ghs_" + _rand(36),
    "github-fine-grained-pat": "github_pat_" + _rand(22) + "_" + _rand(59),
    "gitlab-pat": "glpat-" + _rand(20, _ALNUM + "-_"),
    "slack-bot-token": "xoxb-" + "-".join([_rand(12, "0123456789"), _rand(13, "0123456789"), _rand(24)]),
    "slack-user-token": "xoxp-"
    + "-".join([_rand(12, "0123456789"), _rand(12, "0123456789"), _rand(13, "0123456789"), _rand(32, "0123456789abcdef")]),
    "slack-webhook": "https://hooks.slack.com/services/T"
    + _rand(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + "/B"
    + _rand(8, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
    + "/"
    + _rand(24),
    "google-api-key": "AIza" + _rand(35, _ALNUM + "-_"),
    "gcp-service-account-json": json.dumps(
        {
            "type": "service_account",
            "project_id": "p",
            "private_key_id": _rand(40, "0123456789abcdef"),
            "private_key": f"-----BEGIN PRIVATE KEY-----\n{_PEM_BODY}\n-----END PRIVATE KEY-----\n",
            "client_email": "x@p.iam.gserviceaccount.com",
        }
    ),
    "jwt": _JWT,
    "bearer-header": "Authorization: Bearer " + _JWT,
    "stripe-secret-live": "sk_live_" + _rand(24),
    "stripe-secret-test": "sk_test_" + _rand(24),
    "stripe-restricted": "rk_live_" + _rand(24),
    "openai-key": "sk-proj-" + _rand(48, _ALNUM + "-_"),
    "anthropic-key": "sk-ant-api03-" + _rand(93, _ALNUM + "-_") + "AA",
    "huggingface-token": "hf_" + _rand(34),
    "npm-token": "npm_" + _rand(36),
    "sendgrid-key": "SG." + _rand(22, _ALNUM + "-_") + "." + _rand(43, _ALNUM + "-_"),
    "twilio-api-key": "SK" + _rand(32, "0123456789abcdef"),
    "mailgun-key": "key-" + _rand(32, "0123456789abcdef"),
    "azure-storage-connection": "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
    + base64.b64encode(bytes(_rng.randrange(256) for _ in range(64))).decode()
    + ";EndpointSuffix=core.windows.net",
    "azure-sas-token": "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig="
    + _rand(43, _ALNUM + "%")
    + "%3D",
    "postgres-url": "postgres://etl_user:" + "Tr0ub4dor" + "&3@db.internal:5432/warehouse",
    "postgresql-url-simple-password": "postgresql://app:hunter22@10.0.0.5/app",
    "mysql-url": "mysql://root:" + "s3cr3t-pw" + "@mysql.example.com:3306/db",
    "mongodb-srv-url": "mongodb+srv://svc:" + _rand(16) + "@cluster0.ab1cd.mongodb.net/prod?retryWrites=true",
    "redis-url-password-only": "redis://:" + _rand(20) + "@cache.internal:6379/0",
    "amqp-url": "amqp://worker:" + _rand(12) + "@rabbit:5672/vhost",
    "https-basic-auth-url": "https://deploy:" + "ghp_" + _rand(36) + "@github.com/acme/repo.git",
    "jdbc-password-param": "jdbc:postgresql://db:5432/app?user=app&password=" + "Pa55w0rd-x1",
    "ado-net-connection": "Server=tcp:db.database.windows.net,1433;Database=app;User ID=sa;Password=" + "Sup3rS3cret!" + ";Encrypt=true",
    "password-assignment": "DB_PASSWORD=" + "c0rrect-h0rse",
    "password-yaml-style": "password: " + "Zq9#long-enough",
    "high-entropy-base64": base64.b64encode(bytes(_rng.randrange(256) for _ in range(30))).decode(),
    "high-entropy-alnum": _rand(32),
    "high-entropy-urlsafe": _rand(40, _ALNUM + "-_"),
    "datadog-api-key-assignment": "DD_API_KEY=" + _HEX32,
    "telegram-bot-token": _rand(10, "0123456789") + ":AA" + _rand(33, _ALNUM + "-_"),
    "discord-bot-token": "MT" + _rand(24) + "." + _rand(6, _ALNUM + "-_") + "." + _rand(38, _ALNUM + "-_"),
}

# realistic values that are NOT credentials: they occur in specs and in compiled output
NOT_SECRETS: dict[str, str] = {
    "image-digest": "registry.example.com/ml/etl:1.4.2@sha256:" + hashlib.sha256(b"a").hexdigest(),
    "bare-digest": "sha256:" + hashlib.sha256(b"b").hexdigest(),
    "sha512-digest": "sha512:" + hashlib.sha512(b"c").hexdigest(),
    "git-commit-sha": hashlib.sha1(b"commit").hexdigest(),
    "uuid": "3f2b8c1e-9a4d-4e6f-8b7a-1c2d3e4f5a6b",
    "aws-managed-policy": "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "aws-managed-policy-name": "AmazonEKSWorkerNodePolicy, AmazonEC2ContainerRegistryReadOnly and AmazonEKS_CNI_Policy",
    "java-class": "com.example.pipeline.FeatureEngineeringMainApplication2",
    "camel-case-identifier": "BatchScoringJobConfigurationV2Loader",
    "s3-uri": "s3://ml-prod-models-eu-west-1/ranker/v12/checkpoint-000123/model.safetensors",
    "spark-main": "local:///opt/app/jobs/feature_etl_incremental_v3.py",
    "kube-name": "feature-etl-driver-svc-7f9c6d5b4-x2k9p",
    "prometheus-expr": 'histogram_quantile(0.99, sum(rate(revision_request_latencies_bucket{namespace_name="ml-prod"}[5m])) by (le))',
    "secret-reference": "ml/etl/warehouse#token",
    "gitops-repo": "https://git.example.com/ml/platform.git",
    "ssh-repo": "git@github.com:acme/ml-platform.git",
    "url-without-password": "postgres://db.internal:5432/warehouse",
    "url-with-user-only": "https://user@git.example.com/x.git",
    "password-placeholder": "password: ${DB_PASSWORD}",
    "password-prose": "the token: rotated monthly by the platform team",
    "waiver-reason": "mirror of open data; reviewed by security on 2026-01-12",
    "cron": "30 1 * * 1-5",
    "base64-of-plain-words": "aGVsbG8gd29ybGQ=",
    "kms-arn": "arn:aws:kms:eu-west-1:123456789012:alias/mlc-prod-raw-events",
    "gcp-resource": "projects/ml-research-4711/locations/europe-west4/keyRings/mlc-research-gcp",
    "torchrun": "--nproc-per-node=8 --rdzv-backend=c10d --rdzv-endpoint=$(MASTER_ADDR):29500",
    "env-name": "MODEL_URI_PREFIX",
    "long-word": "internationalization-localization",
    "dashboard-json-key": "datasource_prometheus_uid",
    "hex-color-and-ids": "ff00aa 0x7fffffff 0123456789",
}
