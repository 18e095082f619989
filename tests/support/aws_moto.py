"""A local AWS (moto in server mode, IAM enforced) built from the Terraform mlc emitted.

`MotoServer` starts `python -m moto.server` on a free localhost port with
`INITIAL_NO_AUTH_ACTION_COUNT=3`: moto's switch for IAM enforcement. The first three requests
are unauthenticated (they create an admin user, its policy and its access key); from then on
every request must be SigV4-signed by a known key and is authorised against the caller's
IAM policies. No network beyond localhost is used.

`Translator` reads the emitted `terraform/*.tf.json` of one environment and creates exactly
the declared S3 buckets (encryption, versioning, policy), KMS keys and aliases, Glue
databases, IAM roles (trust policy) and inline role policies, resolving `${...}` references
the way Terraform would. It never looks at the spec: what moto enforces is what was emitted.

What moto enforces and what it does not (moto 5.x, moto/iam/access_control.py,
moto/core/authorization.py), so tests know what to check statically instead:
  * S3: action and resource (arn:aws:s3:::bucket[/key]) are both enforced.
  * Glue, KMS and Kinesis: moto authorises them against resource "*", so a statement scoped
    to a database/table/key/stream ARN would never match. The translator loads such statements with
    Resource "*" (`MOTO_STAR_SERVICES`): moto then enforces their actions; the resources are
    checked statically (tests/targets/terraform/test_terraform.py and tests/targets/kubernetes/test_streaming.py, exact statements
    per edge).
  * Conditions in identity policies are not evaluated (no request context is passed):
    the `s3:prefix` condition on ListBucket and the trust policy's `sub`/`aud` conditions are
    checked statically.
  * Bucket policies are evaluated; their TLS-only Deny is left out because this server
    speaks plain HTTP (`tls_only`). Key policies are not evaluated.
  * S3 does not call KMS for SSE-KMS objects; the key grants are exercised by calling KMS
    directly (GenerateDataKey for writers, Decrypt for readers), as S3 does for the caller.
  * AssumeRoleWithWebIdentity does not verify the token: the trust policy is checked
    statically; the test only uses the role's credentials.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.aws_policy import render_policy_document

MOTO_ACCOUNT = "123456789012"  # moto's default account id
OIDC_ISSUER = "oidc.eks.{region}.amazonaws.com/id/MLCTEST"
MOTO_STAR_SERVICES = ("glue:", "kinesis:", "kms:")
_INTERP = re.compile(r"(?<!\$)\$\{([^}]*)\}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    """`python -m moto.server` on 127.0.0.1:<free port>, IAM enforced after 3 requests."""

    def __init__(self, region: str = "eu-west-1"):
        self.region = region
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.admin: Any = None

    def start(self) -> MotoServer:
        import boto3

        env = {**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "3", "AWS_DEFAULT_REGION": self.region}
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "MOTO_ACCOUNT_ID"):
            env.pop(key, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        anonymous = boto3.client(
            "iam", endpoint_url=self.url, region_name=self.region, aws_access_key_id="anonymous", aws_secret_access_key="anonymous"
        )
        anonymous.create_user(UserName="mlc-test-admin")  # unauthenticated request 1 of 3
        everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        anonymous.put_user_policy(UserName="mlc-test-admin", PolicyName="all", PolicyDocument=json.dumps(everything))  # 2
        key = anonymous.create_access_key(UserName="mlc-test-admin")["AccessKey"]  # 3: enforcement starts now
        self.admin = boto3.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], region_name=self.region
        )
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def client(self, service: str, session: Any = None, region: str | None = None) -> Any:
        from botocore.config import Config

        return (session or self.admin).client(
            service,
            endpoint_url=self.url,
            region_name=region or self.region,
            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}),
        )

    def assume_web_identity(self, role_arn: str, session_name: str) -> dict[str, str]:
        """sts:AssumeRoleWithWebIdentity, as the pod's SDK does with its projected token.

        Under IAM enforcement moto wants every request signed, and botocore never signs this
        operation, so the request is signed here with the admin key (moto accepts any token)."""
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        body = urllib.parse.urlencode(
            {
                "Action": "AssumeRoleWithWebIdentity",
                "Version": "2011-06-15",
                "RoleArn": role_arn,
                "RoleSessionName": session_name,
                "WebIdentityToken": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.",
            }
        )
        request = AWSRequest(method="POST", url=self.url + "/", data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
        SigV4Auth(self.admin.get_credentials(), "sts", self.region).add_auth(request)
        prepared = request.prepare()
        req = urllib.request.Request(prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST")
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310 - localhost only
            root = ET.fromstring(response.read())
        ns = {"s": "https://sts.amazonaws.com/doc/2011-06-15/"}
        return {k: root.find(f".//s:{k}", ns).text or "" for k in ("AccessKeyId", "SecretAccessKey", "SessionToken")}  # type: ignore[union-attr]


def load_tree(terraform_dir: Path) -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(terraform_dir.glob("*.tf.json"))}


def blocks(files: dict[str, dict[str, Any]], kind: str, rtype: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for doc in files.values():
        out.update((doc.get(kind) or {}).get(rtype) or {})
    return out


@dataclass
class Translator:
    """Creates the declared AWS resources of one environment in moto."""

    server: MotoServer
    files: dict[str, dict[str, Any]]
    values: dict[str, str] = field(default_factory=dict)  # "aws_s3_bucket.x.arn" -> value
    role_arns: dict[str, str] = field(default_factory=dict)  # terraform role name -> ARN
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # terraform role name -> loaded policy

    @property
    def region(self) -> str:
        return str(self.files["main.tf.json"]["provider"]["aws"]["region"])

    def resolve(self, value: Any) -> Any:
        """Evaluate `${...}` references (to what was created) and unescape `$${`."""
        if isinstance(value, dict):
            return {self.resolve(k): self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, str):
            return value

        def one(m: re.Match[str]) -> str:
            expr = m[1]
            if expr.startswith("data.aws_iam_policy_document.") and expr.endswith(".json"):
                name = expr.split(".")[2]
                return json.dumps(self.resolve(render_policy_document(blocks(self.files, "data", "aws_iam_policy_document")[name])))
            if expr not in self.values:
                raise KeyError(f"unresolved reference ${{{expr}}}")
            return self.values[expr]

        return _INTERP.sub(one, value).replace("$${", "${").replace("%%{", "%{")

    def apply(self) -> Translator:
        region = self.region
        issuer = OIDC_ISSUER.format(region=region)
        self.values.update(
            {
                "local.oidc_issuer": issuer,
                "data.aws_iam_openid_connect_provider.cluster.arn": f"arn:aws:iam::{MOTO_ACCOUNT}:oidc-provider/{issuer}",
                "data.aws_caller_identity.current.account_id": MOTO_ACCOUNT,
                # an edge fleet's own OIDC issuer is an input of the module (trust conditions are
                # not enforced by moto: tests/e2e/test_lifecycle.py checks them statically)
                "var.edge_oidc_issuer": "oidc.edge.example.com",
                "var.edge_oidc_provider_arn": f"arn:aws:iam::{MOTO_ACCOUNT}:oidc-provider/oidc.edge.example.com",
            }
        )
        kms, s3, glue, iam = (self.server.client(s, region=region) for s in ("kms", "s3", "glue", "iam"))
        for name, body in sorted(blocks(self.files, "resource", "aws_kms_key").items()):
            meta = kms.create_key(Description=self.resolve(body["description"]))["KeyMetadata"]
            self.values.update({f"aws_kms_key.{name}.arn": meta["Arn"], f"aws_kms_key.{name}.id": meta["KeyId"]})
            self.values[f"aws_kms_key.{name}.key_id"] = meta["KeyId"]
        for _name, body in sorted(blocks(self.files, "resource", "aws_kms_alias").items()):
            kms.create_alias(AliasName=self.resolve(body["name"]), TargetKeyId=self.resolve(body["target_key_id"]))
        for name, body in sorted(blocks(self.files, "resource", "aws_s3_bucket").items()):
            bucket = self.resolve(body["bucket"])
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
            self.values.update(
                {f"aws_s3_bucket.{name}.{a}": v for a, v in (("id", bucket), ("bucket", bucket), ("arn", f"arn:aws:s3:::{bucket}"))}
            )
        for _name, body in sorted(blocks(self.files, "resource", "aws_s3_bucket_server_side_encryption_configuration").items()):
            rule = self.resolve(body["rule"][0])
            default = rule["apply_server_side_encryption_by_default"]
            sse = {"SSEAlgorithm": default["sse_algorithm"]}
            if "kms_master_key_id" in default:
                sse["KMSMasterKeyID"] = default["kms_master_key_id"]
            s3.put_bucket_encryption(
                Bucket=self.resolve(body["bucket"]),
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": sse, "BucketKeyEnabled": bool(rule.get("bucket_key_enabled"))}]
                },
            )
        for _name, body in sorted(blocks(self.files, "resource", "aws_s3_bucket_versioning").items()):
            status = body["versioning_configuration"]["status"]
            s3.put_bucket_versioning(Bucket=self.resolve(body["bucket"]), VersioningConfiguration={"Status": status})
        for _name, body in sorted(blocks(self.files, "resource", "aws_s3_bucket_policy").items()):
            policy = json.loads(self.resolve(body["policy"]))
            policy["Statement"] = [st for st in policy["Statement"] if not tls_only(st)]
            if policy["Statement"]:
                s3.put_bucket_policy(Bucket=self.resolve(body["bucket"]), Policy=json.dumps(policy))
        for name, body in sorted(blocks(self.files, "resource", "aws_glue_catalog_database").items()):
            db = self.resolve(body["name"])
            glue.create_database(
                DatabaseInput={
                    "Name": db,
                    "LocationUri": self.resolve(body["location_uri"]),
                    "Parameters": self.resolve(body["parameters"]),
                }
            )
            self.values.update({f"aws_glue_catalog_database.{name}.name": db})
            self.values[f"aws_glue_catalog_database.{name}.arn"] = f"arn:aws:glue:{region}:{MOTO_ACCOUNT}:database/{db}"
        kinesis = self.server.client("kinesis", region=region)
        for name, body in sorted(blocks(self.files, "resource", "aws_kinesis_stream").items()):
            stream = self.resolve(body["name"])
            kinesis.create_stream(StreamName=stream, ShardCount=int(body["shard_count"]))
            arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
            self.values.update({f"aws_kinesis_stream.{name}.name": stream, f"aws_kinesis_stream.{name}.arn": arn})
        for name in blocks(self.files, "resource", "aws_db_instance"):
            self.values[f"aws_db_instance.{name}.resource_id"] = f"db-{name.upper()}"  # not created: rds-db:connect is checked statically
        for name, body in sorted(blocks(self.files, "resource", "aws_iam_role").items()):
            role = iam.create_role(
                RoleName=self.resolve(body["name"]),
                AssumeRolePolicyDocument=self.resolve(body["assume_role_policy"]),
                MaxSessionDuration=int(body.get("max_session_duration", 3600)),
            )["Role"]
            self.role_arns[name] = role["Arn"]
            self.values.update({f"aws_iam_role.{name}.name": role["RoleName"], f"aws_iam_role.{name}.arn": role["Arn"]})
        for name, body in sorted(blocks(self.files, "resource", "aws_iam_role_policy").items()):
            self.policies[name] = moto_loadable(json.loads(self.resolve(body["policy"])))
            self.put_policy(name)
        return self

    def put_policy(self, role: str, policy: dict[str, Any] | None = None) -> None:
        body = blocks(self.files, "resource", "aws_iam_role_policy")[role]
        self.server.client("iam").put_role_policy(
            RoleName=self.values[f"aws_iam_role.{role}.name"],
            PolicyName=self.resolve(body["name"]),
            PolicyDocument=json.dumps(policy if policy is not None else self.policies[role]),
        )


def tls_only(statement: dict[str, Any]) -> bool:
    """The bucket policies' deny of plain-HTTP requests: moto evaluates it, and this test
    server speaks plain HTTP on localhost, so it is left out here (test_terraform checks it
    on every bucket)."""
    return statement.get("Effect") == "Deny" and statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}


def moto_loadable(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy as moto can enforce it: Glue/KMS statements get Resource "*" (see the
    module docstring); everything else is unchanged."""
    out = json.loads(json.dumps(policy))
    for st in out["Statement"]:
        actions = [st["Action"]] if isinstance(st["Action"], str) else st["Action"]
        if all(a.startswith(MOTO_STAR_SERVICES) for a in actions):
            st["Resource"] = "*"
    return out
