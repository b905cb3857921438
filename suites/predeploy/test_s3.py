"""`crownsafe-harness predeploy` with STORAGE_BACKEND=s3 against moto's server.

moto verifies no presigned signature, enforces no bucket ACL on unsigned listings and (with
its auth off, as it starts) checks no credentials, so those three checks must report the
emulator gap (skipped) here; everything else is asserted.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from crownsafe.config import Settings
from crownsafe.storage.s3 import S3StorageClient
from harness.predeploy.probes import PROBE_PREFIX
from harness.services.s3 import S3Service
from harness.services.s3_limited import LimitedS3Service

from .helpers import assert_no_secret, command_env, run_predeploy

BUCKET = "crownsafe-predeploy-test"


@pytest.fixture
def moto() -> Iterator[S3Service]:
    """A moto server of this test's own (the wrong-secret test turns its auth on)."""
    with S3Service() as service:
        client = S3StorageClient(
            BUCKET,
            endpoint_url=service.endpoint_url,
            access_key_id=service.access_key_id,
            secret_access_key=service.secret_access_key,
            settings=Settings(),
        )
        with client:
            client.create_container()
        yield service


def s3_env(moto: S3Service, key_id: str, secret: str) -> dict[str, str]:
    return command_env(
        {
            "STORAGE_BACKEND": "s3",
            "AZURE_BLOB_ENABLED": "false",
            "S3_BUCKET": BUCKET,
            "S3_ENDPOINT_URL": moto.endpoint_url,
            "AWS_REGION": moto.region,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
        }
    )


def test_s3_happy_path_reports_moto_gaps_as_skipped(moto: S3Service, tmp_path: Path) -> None:
    """On moto every check passes except the two moto cannot prove, skipped with the reason."""
    env = s3_env(moto, moto.access_key_id, moto.secret_access_key)
    run = run_predeploy(env, tmp_path, "--skip", "database.*")
    assert run.returncode == 0, run.stdout + run.stderr
    gap = run.check("sas.read-refuses-write")
    assert gap["status"] == "skipped"
    assert "moto does not verify presigned signatures" in gap["message"]
    assert run.status("storage.anonymous-list-refused") == "skipped"
    unchecked = run.check("storage.credentials-verified")
    assert unchecked["status"] == "skipped"
    assert "moto does not check credentials" in unchecked["message"]
    for check_id in (
        "storage.round-trip",
        "storage.streamed-round-trip",
        "sas.read-url",
        "sas.unsigned-url-refused",
    ):
        assert run.status(check_id) == "passed", run.check(check_id)
    assert run.status("storage.container-private") == "passed"
    with S3StorageClient(
        BUCKET,
        endpoint_url=moto.endpoint_url,
        access_key_id=moto.access_key_id,
        secret_access_key=moto.secret_access_key,
        settings=Settings(),
    ) as client:
        assert client.list_blobs(prefix=PROBE_PREFIX) == []
    assert_no_secret(run, [])


def _turn_on_auth(moto: S3Service, *, allow_s3: bool = False) -> tuple[str, str]:
    """An IAM user's key pair (allowed every S3 action with `allow_s3`), then moto's
    signature checks on (they start off)."""
    iam = boto3.client(
        "iam",
        endpoint_url=moto.endpoint_url,
        region_name=moto.region,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    )
    iam.create_user(UserName="predeploy")
    if allow_s3:
        policy = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
        }
        iam.put_user_policy(
            UserName="predeploy", PolicyName="s3", PolicyDocument=json.dumps(policy)
        )
    key = iam.create_access_key(UserName="predeploy")["AccessKey"]
    iam.close()
    request = urllib.request.Request(
        f"{moto.endpoint_url}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
    return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


def test_s3_wrong_secret_fails_storage_reachable(moto: S3Service, tmp_path: Path) -> None:
    """A wrong secret access key is storage.reachable failing (403), the secret not shown."""
    key_id, real_secret = _turn_on_auth(moto)
    wrong_secret = "w" * 40
    run = run_predeploy(s3_env(moto, key_id, wrong_secret), tmp_path, "--skip", "database.*")
    assert run.returncode == 1, run.stdout
    assert run.failed_ids() == ["storage.reachable"]
    message = run.check("storage.reachable")["message"]
    assert "SignatureDoesNotMatch" in message and "403" in message
    assert_no_secret(run, [wrong_secret, real_secret])


def test_s3_wrong_credentials_on_moto_are_reported_as_unverifiable(
    moto: S3Service, tmp_path: Path
) -> None:
    """moto (auth off) answers any key pair: predeploy cannot tell wrong credentials, and
    says so (storage.credentials-verified skipped with moto's gap), instead of passing
    silently; the wrong secret is not shown."""
    wrong_id, wrong_secret = "AKIAWRONGWRONGWRONG0", "x" * 40
    run = run_predeploy(s3_env(moto, wrong_id, wrong_secret), tmp_path, "--skip", "database.*")
    assert run.returncode == 0, run.stdout + run.stderr
    gap = run.check("storage.credentials-verified")
    assert gap["status"] == "skipped", gap
    assert "moto does not check credentials" in gap["message"]
    assert "AWS_ACCESS_KEY_ID" in gap["message"]
    assert "accepted the credentials" not in run.check("storage.reachable")["message"]
    assert "SKIP    storage.credentials-verified" in run.stdout
    assert_no_secret(run, [wrong_secret])


def test_s3_credentials_verified_where_the_service_checks_them(
    moto: S3Service, tmp_path: Path
) -> None:
    """moto with its auth on refuses a made-up key pair: the configured pair's answer then
    proves it, and the check passes."""
    key_id, secret = _turn_on_auth(moto, allow_s3=True)
    run = run_predeploy(s3_env(moto, key_id, secret), tmp_path, "--skip", "database.*")
    assert run.status("storage.reachable") == "passed", run.check("storage.reachable")
    checked = run.check("storage.credentials-verified")
    assert checked["status"] == "passed", checked
    assert "refused" in checked["message"]
    assert_no_secret(run, [secret])


def test_s3_public_acl_fails_container_private(moto: S3Service, tmp_path: Path) -> None:
    """A bucket ACL granting READ to AllUsers is storage.container-private failing."""
    sdk = boto3.client(
        "s3",
        endpoint_url=moto.endpoint_url,
        region_name=moto.region,
        aws_access_key_id=moto.access_key_id,
        aws_secret_access_key=moto.secret_access_key,
    )
    sdk.put_bucket_acl(Bucket=BUCKET, ACL="public-read")
    sdk.close()
    env = s3_env(moto, moto.access_key_id, moto.secret_access_key)
    run = run_predeploy(env, tmp_path, "--skip", "database.*")
    assert run.returncode == 1
    # moto serves the probe to an unsigned GET once the bucket ACL is public-read.
    assert run.failed_ids() == ["storage.container-private", "sas.unsigned-url-refused"]
    assert "the ACL grants READ to AllUsers" in run.check("storage.container-private")["message"]


@pytest.mark.parametrize("checksums", [None, "when_required"], ids=["default", "when-required"])
def test_a_service_storing_aws_chunked_framing_fails_the_streamed_check(
    moto: S3Service, tmp_path: Path, checksums: str | None
) -> None:
    """An S3-compatible service that stores botocore's aws-chunked framing as data: the
    bytes round trip passes, the streamed one fails and names the setting that fixes it;
    with S3_REQUEST_CHECKSUMS=when_required both pass and no probe is left."""
    with LimitedS3Service(upstream=moto) as limited:
        env = {**s3_env(moto, moto.access_key_id, moto.secret_access_key)}
        env["S3_ENDPOINT_URL"] = limited.endpoint_url
        if checksums:
            env["S3_REQUEST_CHECKSUMS"] = checksums
        run = run_predeploy(env, tmp_path, "--skip", "database.*", "--skip", "sas.*")
    assert run.status("storage.round-trip") == "passed", run.check("storage.round-trip")
    streamed = run.check("storage.streamed-round-trip")
    if checksums is None:
        assert run.returncode == 1, run.stdout + run.stderr
        assert streamed["status"] == "failed", streamed
        assert "S3_REQUEST_CHECKSUMS=when_required" in str(streamed), streamed
    else:
        assert streamed["status"] == "passed", streamed
    with S3StorageClient(
        BUCKET,
        endpoint_url=moto.endpoint_url,
        access_key_id=moto.access_key_id,
        secret_access_key=moto.secret_access_key,
        settings=Settings(),
    ) as client:
        assert client.list_blobs(prefix=PROBE_PREFIX) == []
