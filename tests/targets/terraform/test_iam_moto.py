"""IAM proven by real clients: every workload of every AWS example environment, with the
role and policy out/<env>/terraform declares, against moto in server mode with IAM enforced.

Declared edges come from out/<env>/plan.json (`iam.<workload>.access`), resources and
policies from out/<env>/terraform (tests/support/aws_moto.py translates them; nothing is re-derived
from the spec). For each edge the workload does what its libraries do:
  reads       Delta lake: `deltalake.DeltaTable` (lists and reads `_delta_log/`, reads the
              Parquet files); other stores: `pyarrow.parquet.read_table` over S3 (list + get);
              KMS Decrypt; a cataloged lake: Glue GetDatabase/GetTables/GetTable
  writes      Delta lake: `deltalake.write_deltalake` twice (create, then append: reads the
              log before it commits); other stores: existence check (list), pyarrow Parquet
              write, a boto3 multipart upload, read-before-write; delete where declared;
              KMS GenerateDataKey; a cataloged lake: Glue CreateTable/UpdateTable/GetTable
  model       download by prefix (ListObjectsV2 under model.path, GetObject each), KMS Decrypt
  checkpoint  save (multipart upload under its prefix), restore (list + get), rotate (delete)
  streams     consume: DescribeStreamSummary, ListShards, GetShardIterator, GetRecords, KMS
              Decrypt; produce: PutRecord(s), KMS GenerateDataKey (Kinesis)
  feature     a reader: `reads` of its offline lake (as above); writing it (online push) has no
  stores      IAM part (Redis AUTH); its materialisation: `reads` of the lake and read/write/
              delete of its registry prefix feast/<name>/
Every undeclared access is denied: another workload's store, objects outside a model or
checkpoint path (the training checkpoints from serving), delete where not declared.

Not enforced by moto (see tests/support/aws_moto.py) and checked statically instead: resource scoping
of Glue and KMS statements and the s3:prefix condition (tests/targets/terraform/test_terraform.py, exact
statements per edge), the trust policy conditions (test_trust_policy_admits_only_the_workload
_service_account), rds-db:connect (moto has no IAM database authentication).
"""

from __future__ import annotations

import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

boto3 = pytest.importorskip("boto3", reason="boto3 is a test extra (pip install -e '.[test]')")
pytest.importorskip("moto.server", reason="moto[server] is a test extra (pip install -e '.[test]')")
pa = pytest.importorskip("pyarrow", reason="pyarrow is a test extra")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is a test extra")
pafs = pytest.importorskip("pyarrow.fs", reason="pyarrow is a test extra")
deltalake = pytest.importorskip("deltalake", reason="deltalake is a test extra")

from botocore.exceptions import ClientError  # noqa: E402

from tests.support.aws_moto import MotoServer, Translator, load_tree  # noqa: E402

REPO = Path(__file__).resolve().parent.parent.parent.parent
AWS_ENVS = sorted(
    p.parent.name for p in (REPO / "out").glob("*/plan.json") if json.loads(p.read_text(encoding="utf-8"))["provider"] == "aws"
)
TABLE = pa.table({"id": [1, 2, 3], "score": [0.1, 0.5, 0.9]})
PART = 5 * 1024 * 1024  # S3's minimum multipart part size


def parquet_bytes() -> bytes:
    sink = io.BytesIO()
    pq.write_table(TABLE, sink)
    return sink.getvalue()


def tf_name(store: str) -> str:
    return store.replace("-", "_")


@dataclass
class World:
    """One environment in moto: its translation, plan, and what the admin seeded."""

    name: str
    translator: Translator
    plan: dict[str, Any]
    ciphertexts: dict[str, bytes]

    @property
    def components(self) -> dict[str, dict[str, Any]]:
        return {c["name"]: c for c in self.plan["components"]}

    def bucket(self, store: str) -> str:
        return self.translator.values[f"aws_s3_bucket.{tf_name(store)}.bucket"]

    def key_arn(self, store: str) -> str:
        return self.translator.values[f"aws_kms_key.{tf_name(store)}.arn"]

    def glue_db(self, store: str) -> str | None:
        return self.translator.values.get(f"aws_glue_catalog_database.{tf_name(store)}.name")

    def is_delta(self, store: str) -> bool:
        spec = self.components[store]["spec"]
        return self.components[store]["type"] == "data_lake" and spec.get("format") == "delta"

    def buckets(self) -> list[str]:
        return sorted(c["name"] for c in self.plan["components"] if c["type"] in ("object_store", "data_lake"))

    def streams(self) -> list[str]:
        return sorted(c["name"] for c in self.plan["components"] if c["type"] == "stream")

    def stream_name(self, store: str) -> str:
        return self.translator.values[f"aws_kinesis_stream.{tf_name(store)}.name"]

    def effective(self, access: dict[str, Any]) -> dict[str, Any] | None:
        """The edge as the cloud sees it: reading a feature store is reading its offline lake
        (catalog read when the lake has one); writing it is Redis AUTH, nothing in IAM."""
        component = self.components[access["store"]]
        if component["type"] != "feature_store":
            return access
        if access["write"]:
            return None
        lake = component["spec"]["offline"]
        catalog = "read" if self.glue_db(lake) else ""
        return {"store": lake, "edge": "reads", "prefix": "", "read": True, "write": False, "delete": False, "catalog": catalog}

    def access(self, workload: str) -> list[dict[str, Any]]:
        return self.plan["iam"][workload]["access"]


class Workload:
    """A workload's clients, with the credentials of its role (assumed via web identity)."""

    def __init__(self, server: MotoServer, world: World, name: str):
        self.server, self.world, self.name = server, world, name
        arn = world.translator.role_arns[tf_name(name)]
        creds = server.assume_web_identity(arn, f"{world.name}-{name}"[:64])
        self.session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            region_name=server.region,
        )
        region = world.translator.region
        self.s3, self.kms, self.glue = (server.client(s, self.session, region) for s in ("s3", "kms", "glue"))
        self.kinesis = server.client("kinesis", self.session, region)
        self.storage_options = {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_REGION": region,
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
            "AWS_ALLOW_HTTP": "true",
            "AWS_S3_ALLOW_UNSAFE_RENAME": "true",  # no DynamoDB lock in this test; one writer at a time
        }
        self.fs = pafs.S3FileSystem(
            access_key=creds["AccessKeyId"],
            secret_key=creds["SecretAccessKey"],
            session_token=creds["SessionToken"],
            endpoint_override=server.url,
            region=region,
            scheme="http",
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=1),
        )

    # --- what the libraries do, per edge ----------------------------------------------
    def multipart(self, bucket: str, key: str) -> None:
        upload = self.s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        parts = []
        for number, size in ((1, PART), (2, 1024)):
            etag = self.s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=b"x" * size)["ETag"]
            parts.append({"PartNumber": number, "ETag": etag})
        self.s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)
        self.s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})

    def read(self, access: dict[str, Any]) -> None:
        store, w = access["store"], self.world
        bucket = w.bucket(store)
        under = f"{access['prefix']}/" if access["prefix"] else ""  # a path-scoped read (monitor datasets)
        if w.is_delta(store):
            got = deltalake.DeltaTable(f"s3://{bucket}/{under}seed-table", storage_options=self.storage_options).to_pyarrow_table()
        else:
            got = pq.read_table(f"{bucket}/{under}seed", filesystem=self.fs)
        assert got.num_rows == TABLE.num_rows
        self.kms.decrypt(CiphertextBlob=w.ciphertexts[store], KeyId=w.key_arn(store))
        if access["catalog"]:
            db = w.glue_db(store)
            self.glue.get_database(Name=db)
            self.glue.get_tables(DatabaseName=db)
            self.glue.get_table(DatabaseName=db, Name="seed")

    def write(self, access: dict[str, Any]) -> None:
        store, w = access["store"], self.world
        bucket, out = w.bucket(store), f"out-{self.name}"
        if w.is_delta(store):
            uri = f"s3://{bucket}/{out}"
            deltalake.write_deltalake(uri, TABLE, storage_options=self.storage_options, mode="overwrite")
            deltalake.write_deltalake(uri, TABLE, storage_options=self.storage_options, mode="append")
        else:
            self.s3.list_objects_v2(Bucket=bucket, Prefix=f"{out}/")  # existence check before writing
            pq.write_table(TABLE, f"{bucket}/{out}/part-0.parquet", filesystem=self.fs)
            self.multipart(bucket, f"{out}/blob.bin")
            self.s3.head_object(Bucket=bucket, Key=f"{out}/part-0.parquet")  # read-before-write
        self.kms.generate_data_key(KeyId=w.key_arn(store), KeySpec="AES_256")
        if access["delete"]:
            self.s3.put_object(Bucket=bucket, Key=f"{out}/tmp", Body=b"t")
            self.s3.delete_object(Bucket=bucket, Key=f"{out}/tmp")
        if access["catalog"] == "write":
            db, table = w.glue_db(store), f"out_{self.name.replace('-', '_')}"
            location = {"StorageDescriptor": {"Location": f"s3://{bucket}/{out}"}}
            try:
                self.glue.delete_table(DatabaseName=db, Name=table)  # left by an earlier run of this edge: must be denied
                raise AssertionError("glue:DeleteTable is not granted and must be denied")
            except ClientError as e:
                assert is_access_denied(e), e
            try:
                self.glue.create_table(DatabaseName=db, TableInput={"Name": table, **location})
            except ClientError as e:
                if e.response["Error"]["Code"] != "AlreadyExistsException":
                    raise
            self.glue.update_table(DatabaseName=db, TableInput={"Name": table, "Parameters": {"writer": self.name}, **location})
            self.glue.get_table(DatabaseName=db, Name=table)

    def model(self, access: dict[str, Any]) -> None:
        store, w = access["store"], self.world
        bucket, prefix = w.bucket(store), access["prefix"]
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/" if prefix else "")
        keys = [o["Key"] for o in listed.get("Contents", [])]
        assert keys, f"nothing under {prefix!r}"
        for key in keys:
            if not prefix or key.startswith(f"{prefix}/"):
                self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        self.kms.decrypt(CiphertextBlob=w.ciphertexts[store], KeyId=w.key_arn(store))

    def checkpoint(self, access: dict[str, Any]) -> None:
        store, w = access["store"], self.world
        bucket, prefix = w.bucket(store), access["prefix"]
        self.multipart(bucket, f"{prefix}/step-1.ckpt")  # save
        listed = self.s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/")  # restore: newest
        assert {o["Key"] for o in listed["Contents"]} >= {f"{prefix}/step-0.ckpt", f"{prefix}/step-1.ckpt"}
        self.s3.get_object(Bucket=bucket, Key=f"{prefix}/step-0.ckpt")["Body"].read()
        self.s3.delete_object(Bucket=bucket, Key=f"{prefix}/step-1.ckpt")  # rotate
        self.kms.generate_data_key(KeyId=w.key_arn(store), KeySpec="AES_256")
        self.kms.decrypt(CiphertextBlob=w.ciphertexts[store], KeyId=w.key_arn(store))

    def stream(self, access: dict[str, Any]) -> None:
        store, w = access["store"], self.world
        name = w.stream_name(store)
        if access["write"]:  # produce
            self.kinesis.describe_stream_summary(StreamName=name)
            self.kinesis.put_record(StreamName=name, Data=b"event", PartitionKey="k")
            self.kinesis.put_records(StreamName=name, Records=[{"Data": b"event", "PartitionKey": "k"}])
            self.kms.generate_data_key(KeyId=w.key_arn(store), KeySpec="AES_256")
        else:  # consume (a polling consumer)
            self.kinesis.describe_stream_summary(StreamName=name)
            (shard, *_) = self.kinesis.list_shards(StreamName=name)["Shards"]
            iterator = self.kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")
            self.kinesis.get_records(ShardIterator=iterator["ShardIterator"])
            self.kms.decrypt(CiphertextBlob=w.ciphertexts[store], KeyId=w.key_arn(store))

    def exercise(self, access: dict[str, Any]) -> None:
        if self.world.components[access["store"]]["type"] == "database":
            return  # rds-db:connect: no IAM database authentication in moto (checked statically)
        if self.world.components[access["store"]]["type"] == "stream":
            return self.stream(access)
        effective = self.world.effective(access)
        if effective is None:
            return  # a feature store's online write: Redis AUTH over the network, no IAM
        access = effective
        # a tracking server's backend store and an MLflow client's logged artifacts: written and read back
        edges = {"reads": self.read, "writes": self.write, "model": self.model, "checkpoint": self.checkpoint}
        edges.update(backend=self.write, logs=self.write, offline=self.read, registry=self.checkpoint)
        edges[access["edge"]](access)


def seed(server: MotoServer, world: World) -> None:
    """What already exists before the workloads run: data, models, a checkpoint, a Glue table."""
    region = world.translator.region
    s3, kms, glue = (server.client(s, region=region) for s in ("s3", "kms", "glue"))
    admin = server.admin.get_credentials()
    options = {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": admin.access_key,
        "AWS_SECRET_ACCESS_KEY": admin.secret_key,
        "AWS_ALLOW_HTTP": "true",
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
    }
    for store in world.buckets():
        bucket = world.bucket(store)
        s3.put_object(Bucket=bucket, Key="seed/part-0.parquet", Body=parquet_bytes())
        if world.is_delta(store):
            deltalake.write_deltalake(f"s3://{bucket}/seed-table", TABLE, storage_options=options)
        world.ciphertexts[store] = kms.encrypt(KeyId=world.key_arn(store), Plaintext=b"data key")["CiphertextBlob"]
        if world.glue_db(store):
            glue.create_table(DatabaseName=world.glue_db(store), TableInput={"Name": "seed"})
    for stream in world.streams():
        world.ciphertexts[stream] = kms.encrypt(KeyId=world.key_arn(stream), Plaintext=b"data key")["CiphertextBlob"]
    seeded: set[tuple[str, str]] = set()
    for workload in world.plan["iam"]:
        for access in world.access(workload):
            if access["edge"] == "model" and access["prefix"]:
                for name in ("model.bin", "config.json"):
                    s3.put_object(Bucket=world.bucket(access["store"]), Key=f"{access['prefix']}/{name}", Body=b"m")
            elif access["edge"] in ("checkpoint", "registry"):  # a checkpoint / a registry to read back
                s3.put_object(Bucket=world.bucket(access["store"]), Key=f"{access['prefix']}/step-0.ckpt", Body=b"c")
            elif access["edge"] == "reads" and access["prefix"] and (access["store"], access["prefix"]) not in seeded:
                seeded.add((access["store"], access["prefix"]))  # a dataset under a path (monitor workloads)
                bucket, under = world.bucket(access["store"]), access["prefix"]
                s3.put_object(Bucket=bucket, Key=f"{under}/seed/part-0.parquet", Body=parquet_bytes())
                if world.is_delta(access["store"]):
                    deltalake.write_deltalake(f"s3://{bucket}/{under}/seed-table", TABLE, storage_options=options)


@pytest.fixture(scope="module")
def moto_aws():
    server = MotoServer().start()
    try:
        worlds = {}
        for name in AWS_ENVS:
            plan = json.loads((REPO / "out" / name / "plan.json").read_text(encoding="utf-8"))
            world = World(name, Translator(server, load_tree(REPO / "out" / name / "terraform")).apply(), plan, {})
            seed(server, world)
            worlds[name] = world
        yield server, worlds
    finally:
        server.stop()


def is_access_denied(e: ClientError) -> bool:
    """S3 says AccessDenied; moto answers JSON services (Glue, KMS) with an XML 403 whose
    code botocore cannot parse, so the message decides there."""
    return e.response["Error"]["Code"] in ("AccessDenied", "AccessDeniedException") or (
        e.response["ResponseMetadata"]["HTTPStatusCode"] == 403 and "<Code>AccessDenied</Code>" in str(e)
    )


def denied(call, *args: Any, **kwargs: Any) -> None:
    try:
        result = call(*args, **kwargs)
    except ClientError as e:
        assert is_access_denied(e), e
        return
    except OSError as e:  # deltalake / pyarrow wrap the S3 error
        assert re.search(r"ACCESS_DENIED|AccessDenied|lacked the necessary privileges|Forbidden", str(e)), e
        return
    raise AssertionError(f"{getattr(call, '__name__', call)} was allowed: {result!r:.200}")


def workloads_of(name: str) -> list[str]:
    plan = json.loads((REPO / "out" / name / "plan.json").read_text(encoding="utf-8"))
    return sorted(plan["iam"])


CASES = [(env, w) for env in AWS_ENVS for w in workloads_of(env)]


def test_every_aws_example_workload_is_covered():
    assert AWS_ENVS == ["dev", "fraud", "lab", "prod", "staging"]
    # 4 workloads in dev and staging, 5 in prod (ranker-fallback), 9 in lab (a Ray job, a plain
    # job, an on_failure job, an MLflow server, an edge fleet), 4 in fraud (a Flink job, a
    # feature store's materialisation, serving and training), plus 9 monitor workloads (drift
    # detectors and data-quality checks, read-only identities of their own)
    assert len(CASES) == 35
    monitors = {"ranker-monitoring-dq-features", "ranker-monitoring-ranker-drift", "ranker-monitoring-ranker-fallback-drift"}
    lab = {"embed-notes", "mlflow", "notify-failure", "ranker-edge", "train-notes"}
    fraud = {"fraud-features", "fraud-scorer", "fraud-train", "txn-features"}
    assert {w for _, w in CASES} == {"batch-score", "feature-etl", "ranker", "ranker-fallback", "train-ranker"} | monitors | lab | fraud


@pytest.mark.parametrize(("env", "workload"), CASES, ids=[f"{e}-{w}" for e, w in CASES])
def test_declared_edges_succeed_and_undeclared_access_is_denied(moto_aws, env, workload):
    server, worlds = moto_aws
    world = worlds[env]
    me = Workload(server, world, workload)
    for access in world.access(workload):
        me.exercise(access)
    # what each edge means for buckets (a feature store's reader reads its offline lake)
    accesses = [e for a in world.access(workload) if (e := world.effective(a)) is not None]
    touched: dict[str, list[dict[str, Any]]] = {}
    for access in accesses:
        touched.setdefault(access["store"], []).append(access)
    checked = 0
    for store in world.buckets():
        bucket, mine = world.bucket(store), touched.get(store, [])
        if not mine:  # another workload's store: nothing at all
            denied(me.s3.get_object, Bucket=bucket, Key="seed/part-0.parquet")
            denied(me.s3.put_object, Bucket=bucket, Key=f"out-{workload}/x", Body=b"x")
            denied(me.s3.delete_object, Bucket=bucket, Key="seed/part-0.parquet")
            if not any(a["write"] for a in accesses):  # moto checks KMS actions, not key ARNs (see aws_moto)
                denied(me.kms.generate_data_key, KeyId=world.key_arn(store), KeySpec="AES_256")
            if world.is_delta(store):
                denied(deltalake.write_deltalake, f"s3://{bucket}/intruder", TABLE, storage_options=me.storage_options)
            checked += 1
            continue
        if all(a["prefix"] for a in mine):  # only paths: the rest of the store stays closed
            denied(me.s3.get_object, Bucket=bucket, Key="seed/part-0.parquet")
            denied(me.s3.put_object, Bucket=bucket, Key="outside/x", Body=b"x")
            for other, other_accesses in world.plan["iam"].items():
                for a in other_accesses["access"]:
                    if other != workload and a["store"] == store and a["edge"] == "checkpoint":
                        denied(me.s3.get_object, Bucket=bucket, Key=f"{a['prefix']}/step-0.ckpt")  # serving never sees checkpoints
            checked += 1
        if not any(a["delete"] and not a["prefix"] for a in mine):  # no delete outside its own prefix
            denied(me.s3.delete_object, Bucket=bucket, Key="seed/part-0.parquet")
            checked += 1
        if world.glue_db(store) and not any(a["catalog"] == "write" for a in mine):
            denied(me.glue.create_table, DatabaseName=world.glue_db(store), TableInput={"Name": f"intruder_{workload.replace('-', '_')}"})
            checked += 1
    if not any(world.components[a["store"]]["type"] == "stream" for a in world.access(workload)):
        for stream in world.streams():  # no stream edge: no Kinesis at all (moto checks actions, not stream ARNs)
            denied(me.kinesis.put_record, StreamName=world.stream_name(stream), Data=b"x", PartitionKey="k")
            denied(me.kinesis.list_shards, StreamName=world.stream_name(stream))
            checked += 1
    assert checked > 0


def _actions(st: dict[str, Any]) -> set[str]:
    return {st["Action"]} if isinstance(st["Action"], str) else set(st["Action"])


def _resources(st: dict[str, Any]) -> list[str]:
    return [st["Resource"]] if isinstance(st["Resource"], str) else list(st["Resource"])


def subsumed(removed: dict[str, Any], rest: list[dict[str, Any]]) -> bool:
    """Whether the remaining statements still allow everything `removed` allowed: then no
    client can notice its removal. Two cases: an edge whose grant another edge of the same
    workload includes (a job that writes a whole store and checkpoints into it), and two moto
    limits (aws_moto): KMS/Glue statements are authorised against resource "*", and the
    s3:prefix condition of a path-scoped List statement is ignored. Both are checked
    statically (tests/targets/terraform/test_terraform.py: exact statements per edge)."""
    import fnmatch

    for action in _actions(removed):
        for resource in _resources(removed):
            if not any(action in _actions(st) and any(fnmatch.fnmatchcase(resource, pattern) for pattern in _resources(st)) for st in rest):
                return False
    return True


# prod: statements whose removal a client sees, and those it cannot (exact, so a change shows);
# 25 of the workloads' and 3 x 3 of the monitor workloads' (list, objects, key of one path-scoped read)
MUTATIONS, SUBSUMED = 34, 8
_PART = re.compile(r"(List|Objects|Key|Catalog|Connect)$")


def statement_groups(policy: dict[str, Any]) -> list[list[int]]:
    """Statement indexes grouped by edge: consecutive statements with the same Sid base."""
    groups: list[list[int]] = []
    last = None
    for i, st in enumerate(policy["Statement"]):
        base = _PART.sub("", st["Sid"])
        if base != last:
            groups.append([])
            last = base
        groups[-1].append(i)
    return groups


@pytest.mark.parametrize("env", ["prod"])
def test_removing_any_one_statement_breaks_exactly_its_edge(moto_aws, env):
    """Mutation test of the emitted policies: drop one statement, the edge it belongs to
    fails with AccessDenied (so no statement is superfluous and each is exercised)."""
    server, worlds = moto_aws
    world = worlds[env]
    mutations = skipped = 0
    for workload in sorted(world.plan["iam"]):
        role = tf_name(workload)
        if role not in world.translator.policies:
            continue
        policy = world.translator.policies[role]
        accesses = world.access(workload)
        groups = statement_groups(policy)
        assert len(groups) == len(accesses), workload
        try:
            for group, access in zip(groups, accesses, strict=True):
                if world.components[access["store"]]["type"] == "database":
                    continue
                for index in group:
                    rest = [st for i, st in enumerate(policy["Statement"]) if i != index]
                    if subsumed(policy["Statement"][index], rest):
                        skipped += 1
                        continue
                    mutated = {**policy, "Statement": rest}
                    world.translator.put_policy(role, mutated)
                    me = Workload(server, world, workload)
                    try:
                        denied(me.exercise, access)
                    except AssertionError as e:
                        raise AssertionError(
                            f"{workload}: without {policy['Statement'][index]['Sid']} the edge {access} still works"
                        ) from e
                    mutations += 1
        finally:
            world.translator.put_policy(role)
    assert (mutations, skipped) == (MUTATIONS, SUBSUMED)
