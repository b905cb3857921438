"""Unit tests of the S3 client's pure logic: error mapping, presign rules, part planning,
URLs, redaction and client configuration. No server: nothing here sends a request."""

from __future__ import annotations

import math
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
    ResponseStreamingError,
)

from crownsafe.config import SecretStr, Settings, load_settings
from crownsafe.correlation import CORRELATION_HEADER_S3, correlation_scope
from crownsafe.errors import (
    BlobConflictError,
    BlobNotFoundError,
    InvalidBlobNameError,
    InvalidMetadataError,
    StorageAuthError,
    StorageConfigError,
    StorageError,
    StorageThrottledError,
    StorageUnavailableError,
)
from crownsafe.storage.base import StorageClient
from crownsafe.storage.s3._client import S3StorageClient, add_correlation_header
from crownsafe.storage.s3._errors import classify_s3_error, map_s3_error
from crownsafe.storage.s3._parts import MAX_PARTS, MIN_PART_SIZE, plan_part_size
from crownsafe.storage.s3._presign import (
    MAX_PRESIGN_SECONDS,
    object_url,
    presign_expiry_seconds,
    presign_method,
)

MiB = 1024 * 1024
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def client_error(
    status: int,
    code: str,
    message: str = "msg",
    headers: dict[str, str] | None = None,
    request_id: str | None = "REQ1",
) -> ClientError:
    meta: dict[str, Any] = {"HTTPStatusCode": status, "HTTPHeaders": headers or {}}
    if request_id:
        meta["RequestId"] = request_id
        meta["HostId"] = "HOST1"
    response: Any = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": meta}
    return ClientError(response, "GetObject")


def mapped(exc: BaseException, operation: str = "download_blob") -> StorageError:
    return map_s3_error(exc, operation=operation, blob_name="a/b.png", bucket="bkt")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (404, "NoSuchKey", BlobNotFoundError),
        (404, "404", BlobNotFoundError),
        (404, "NoSuchBucket", BlobNotFoundError),
        (404, "NoSuchUpload", BlobNotFoundError),
        (412, "PreconditionFailed", BlobConflictError),
        (409, "ConditionalRequestConflict", BlobConflictError),
        (409, "BucketAlreadyExists", BlobConflictError),
        (403, "AccessDenied", StorageAuthError),
        (403, "SignatureDoesNotMatch", StorageAuthError),
        (403, "InvalidAccessKeyId", StorageAuthError),
        (400, "ExpiredToken", StorageAuthError),
        (403, "403", StorageAuthError),
        (503, "SlowDown", StorageThrottledError),
        (429, "TooManyRequests", StorageThrottledError),
        (503, "ServiceUnavailable", StorageUnavailableError),
        (500, "InternalError", StorageUnavailableError),
        (502, "502", StorageUnavailableError),
        (408, "408", StorageUnavailableError),
        (400, "RequestTimeout", StorageUnavailableError),
        (301, "PermanentRedirect", StorageConfigError),
        (400, "AuthorizationHeaderMalformed", StorageConfigError),
        (400, "KeyTooLongError", InvalidBlobNameError),
        (400, "MetadataTooLarge", InvalidMetadataError),
    ],
)
def test_client_errors_map_to_typed_errors(status: int, code: str, expected: type) -> None:
    error = mapped(client_error(status, code))
    assert type(error) is expected
    assert (error.backend, error.operation, error.blob_name) == ("s3", "download_blob", "a/b.png")
    assert error.status == status
    assert error.request_id == "REQ1"
    assert error.error_code == (None if code.isdigit() else code)


def test_unknown_client_error_is_plain_storage_error() -> None:
    error = mapped(client_error(400, "InvalidArgument", "bad range"))
    assert type(error) is StorageError
    assert "bad range" in str(error) and "InvalidArgument" in str(error)


def test_no_such_bucket_names_the_bucket_and_how_to_fix() -> None:
    error = mapped(client_error(404, "NoSuchBucket"))
    assert "bucket 'bkt' does not exist" in str(error)
    assert "create_container" in str(error) and "S3_BUCKET" in str(error)


def test_head_404_has_no_code_and_says_object_or_bucket() -> None:
    error = mapped(client_error(404, "404", "Not Found"), "head_object")
    assert isinstance(error, BlobNotFoundError)
    assert error.error_code is None
    assert "or the bucket does not exist" in str(error)


def test_upload_conflict_says_use_overwrite() -> None:
    error = mapped(client_error(412, "PreconditionFailed"), "upload_file")
    assert isinstance(error, BlobConflictError)
    assert "overwrite=True" in str(error)


def test_request_id_falls_back_to_header_and_host_id_is_kept() -> None:
    exc = client_error(500, "InternalError", headers={"x-amz-request-id": "HDR"}, request_id=None)
    assert mapped(exc).request_id == "HDR"
    head: Any = client_error(404, "404", headers={"x-amzn-requestid": "AMZN"}, request_id=None)
    head.response["ResponseMetadata"]["RequestId"] = ""  # botocore on a body-less error
    assert mapped(head, "head_object").request_id == "AMZN"
    assert "host_id=HOST1" in str(mapped(client_error(500, "InternalError")))


def test_slowdown_carries_retry_after_seconds() -> None:
    error = mapped(client_error(503, "SlowDown", headers={"Retry-After": "7"}))
    assert isinstance(error, StorageThrottledError)
    assert error.retry_after == 7.0


def test_bodyless_503_is_throttling_a_503_saying_service_unavailable_an_outage() -> None:
    throttled = mapped(client_error(503, "503", headers={"retry-after": "2"}), "head_object")
    assert isinstance(throttled, StorageThrottledError) and throttled.retry_after == 2.0
    bare = mapped(client_error(503, "503"), "head_object")
    assert isinstance(bare, StorageThrottledError) and bare.retry_after is None
    assert type(mapped(client_error(503, "ServiceUnavailable"))) is StorageUnavailableError
    with_retry = mapped(client_error(503, "ServiceUnavailable", headers={"Retry-After": "1"}))
    assert isinstance(with_retry, StorageThrottledError) and with_retry.retry_after == 1.0


@pytest.mark.parametrize(
    "exc",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1/bkt/k"),
        ConnectTimeoutError(endpoint_url="http://127.0.0.1:1/bkt/k"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1/bkt/k"),
        ConnectionClosedError(endpoint_url="http://127.0.0.1:1/bkt/k"),
        ResponseStreamingError(error="connection reset"),
        IncompleteReadError(actual_bytes=1, expected_bytes=2),
        ConnectionResetError("reset by peer"),
        TimeoutError("timed out"),
    ],
)
def test_transport_failures_are_unavailable(exc: BaseException) -> None:
    error = mapped(exc)
    assert type(error) is StorageUnavailableError
    assert error.backend == "s3" and "S3_ENDPOINT_URL" in str(error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (NoCredentialsError(), StorageAuthError),
        (
            PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
            StorageAuthError,
        ),
        (NoRegionError(), StorageConfigError),
        (ParamValidationError(report="Invalid bucket name"), StorageError),
    ],
)
def test_other_sdk_errors(exc: BaseException, expected: type) -> None:
    assert type(mapped(exc)) is expected


def test_mapping_keeps_storage_errors_as_they_are() -> None:
    original = BlobNotFoundError("gone", backend="s3")
    assert mapped(original) is original


def test_messages_never_carry_signatures_credentials_or_the_secret() -> None:
    url = (
        "http://h/bkt/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F2026"
        "&X-Amz-Signature=deadbeefcafe"
    )
    auth = "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x, Signature=abc123"
    errors = [
        map_s3_error(
            client_error(403, "SignatureDoesNotMatch", f"{auth} {SECRET} {url}"),
            operation="download_blob",
            secrets=(SECRET,),
        ),
        map_s3_error(EndpointConnectionError(endpoint_url=url), operation="x", secrets=(SECRET,)),
    ]
    for error in errors:
        text = str(error) + repr(error.log_fields())
        for secret in (SECRET, "deadbeefcafe", "AKIDEXAMPLE", "abc123"):
            assert secret not in text


def test_classify_prefers_the_service_code_over_the_status() -> None:
    assert classify_s3_error(503, "SlowDown") is StorageThrottledError
    assert classify_s3_error(400, "RequestTimeout") is StorageUnavailableError
    assert classify_s3_error(None, None) is StorageError


@pytest.mark.parametrize(
    ("permission", "method"), [("r", "get_object"), ("w", "put_object"), ("d", "delete_object")]
)
def test_presign_method_one_per_permission(permission: str, method: str) -> None:
    assert presign_method(permission) == method


@pytest.mark.parametrize("permission", ["rw", "rwd", "rcw", "racwd", "x", ""])
def test_combined_permissions_are_refused_with_the_reason(permission: str) -> None:
    with pytest.raises(ValueError, match="bound to one HTTP method"):
        presign_method(permission)


def test_create_only_permission_is_refused() -> None:
    with pytest.raises(ValueError, match="also overwrite"):
        presign_method("c")


def test_presign_expiry_limits() -> None:
    assert presign_expiry_seconds(1) == 3600
    assert presign_expiry_seconds(0.5) == 1800
    assert presign_expiry_seconds(168) == MAX_PRESIGN_SECONDS == 604800
    assert presign_expiry_seconds(1e-9) == 1
    with pytest.raises(ValueError, match="7 days"):
        presign_expiry_seconds(168.01)
    for bad in (0, -1, math.nan, math.inf):
        with pytest.raises(ValueError):
            presign_expiry_seconds(bad)


def test_plan_part_size_keeps_the_configured_size_when_it_fits() -> None:
    assert plan_part_size(None, 8 * MiB) == 8 * MiB
    assert plan_part_size(0, 8 * MiB) == 8 * MiB
    assert plan_part_size(8 * MiB * MAX_PARTS, 8 * MiB) == 8 * MiB


def test_plan_part_size_grows_for_huge_objects() -> None:
    size = 100 * 1024**3
    part = plan_part_size(size, 8 * MiB)
    assert part % MiB == 0 and part > 8 * MiB
    assert math.ceil(size / part) <= MAX_PARTS
    assert math.ceil(size / (part - MiB)) > MAX_PARTS


def test_plan_part_size_refuses_impossible_sizes() -> None:
    with pytest.raises(ValueError, match="5 MiB"):
        plan_part_size(None, MIN_PART_SIZE - 1)
    with pytest.raises(ValueError, match="5 TiB"):
        plan_part_size(5 * 1024**4 + 1, 8 * MiB)


def test_object_url_path_style_and_virtual_hosted() -> None:
    key = "a b/#?%+é.png"
    assert object_url("bkt", key, region="us-east-1", endpoint_url="http://127.0.0.1:9000/") == (
        "http://127.0.0.1:9000/bkt/a%20b/%23%3F%25%2B%C3%A9.png"
    )
    assert object_url("bkt", "x/y~z", region="eu-west-1", endpoint_url=None) == (
        "https://bkt.s3.eu-west-1.amazonaws.com/x/y~z"
    )


# the client, built without any request


def make_client(**kwargs: Any) -> S3StorageClient:
    args: dict[str, Any] = {
        "endpoint_url": "http://127.0.0.1:9",
        "region": "us-east-1",
        "access_key_id": "AKIDTEST",
        "secret_access_key": SECRET,
    }
    args.update(kwargs)
    return S3StorageClient("unit-bucket", **args)


def test_client_config_turns_sdk_retries_off_and_signs_v4() -> None:
    with make_client(timeout=7.0, max_concurrency=8) as client:
        config: Any = client._client.meta.config
        assert config.signature_version == "s3v4"
        assert config.retries == {"total_max_attempts": 1, "mode": "standard"}
        assert (config.connect_timeout, config.read_timeout) == (7.0, 7.0)
        # STORAGE_MAX_CONNECTIONS' default, but never fewer than one upload's parallel parts
        assert config.max_pool_connections == max(Settings().storage_max_connections, 8)
        assert config.s3 == {"addressing_style": "path"}
        assert isinstance(client, StorageClient)
        assert (client.backend, client.container_name) == ("s3", "unit-bucket")


def test_repr_has_no_secret_and_no_userinfo() -> None:
    client = make_client(endpoint_url="http://user:pw@127.0.0.1:9")
    assert SECRET not in repr(client) and "pw" not in repr(client)
    assert "127.0.0.1:9" in repr(client)


def test_settings_fill_what_is_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    env = {
        "S3_BUCKET": "from-env",
        "AWS_REGION": "eu-central-1",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "AKIDENV",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    client = S3StorageClient()
    assert (client.container_name, client.region) == ("from-env", "eu-central-1")
    assert client.endpoint_url == "http://127.0.0.1:9"
    explicit = S3StorageClient("explicit", settings=load_settings(env), region="us-west-2")
    assert (explicit.container_name, explicit.region) == ("explicit", "us-west-2")


def test_secret_may_be_a_secretstr() -> None:
    client = make_client(secret_access_key=SecretStr(SECRET))
    raw: Any = client._client
    assert raw._request_signer._credentials.secret_key == SECRET


def test_half_configured_credentials_are_a_config_error() -> None:
    with pytest.raises(StorageConfigError, match="AWS_SECRET_ACCESS_KEY"):
        make_client(secret_access_key="")


def test_bad_endpoint_and_bucket_are_refused() -> None:
    with pytest.raises(StorageConfigError, match="S3_ENDPOINT_URL"):
        make_client(endpoint_url="127.0.0.1:9000")
    with pytest.raises(InvalidBlobNameError):
        S3StorageClient(
            "Bad_Bucket",
            endpoint_url="http://127.0.0.1:9",
            region="us-east-1",
            access_key_id="a",
            secret_access_key="b",
        )
    with pytest.raises(ValueError):
        make_client(part_size=MiB)


def test_correlation_header_only_inside_a_scope() -> None:
    class Request:
        headers: dict[str, str]

    request = Request()
    request.headers = {}
    add_correlation_header(request)
    assert CORRELATION_HEADER_S3 not in request.headers
    with correlation_scope("cid-42"):
        add_correlation_header(request)
    assert request.headers[CORRELATION_HEADER_S3] == "cid-42"
    request.headers = {}
    with correlation_scope("bad\r\nInjected: 1"):
        add_correlation_header(request)
    assert request.headers == {}


def test_presigned_url_is_sigv4_with_the_expiry_and_no_correlation_header() -> None:
    client = make_client()
    with correlation_scope("cid-presign"):
        url = client.generate_sas_url("x/y z.png", expiry_hours=2, permission="r")
    assert url.startswith("http://127.0.0.1:9/unit-bucket/x/y%20z.png?")
    assert "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url and "X-Amz-Expires=7200" in url
    assert "X-Amz-SignedHeaders=host&" in url and "correlation" not in url


def test_invalid_input_fails_before_any_request() -> None:
    client = make_client()
    sent: list[object] = []
    client._client.meta.events.register("before-send.s3", lambda **kw: sent.append(kw))
    with pytest.raises(InvalidBlobNameError):
        client.upload_file("a//b", b"x")
    with pytest.raises(InvalidMetadataError):
        client.upload_file("a/b", b"x", metadata={"my-key": "v"})
    with pytest.raises(ValueError, match="one HTTP method"):
        client.generate_sas_url("a/b", permission="rw")
    with pytest.raises(ValueError, match="7 days"):
        client.generate_sas_url("a/b", expiry_hours=200)
    with pytest.raises(InvalidBlobNameError):
        client.delete_blob("bad/")
    with pytest.raises(ValueError):
        client.list_blobs(max_results=-1)
    assert client.list_blobs(max_results=0) == []
    assert sent == []


def test_get_blob_url_uses_path_style_on_an_endpoint_else_aws() -> None:
    assert make_client().get_blob_url("p/q r") == "http://127.0.0.1:9/unit-bucket/p/q%20r"
    aws = S3StorageClient(
        "unit-bucket", region="eu-west-1", access_key_id="a", secret_access_key="b", endpoint_url=""
    )
    assert aws.get_blob_url("p/q") == "https://unit-bucket.s3.eu-west-1.amazonaws.com/p/q"


def test_cut_off_or_unparsable_responses_are_unavailable() -> None:
    from botocore.parsers import ResponseParserError, RestXMLParser

    client = make_client()
    parser: Any = RestXMLParser()
    empty: dict[str, int] = {}
    cut_date = "Sat, 28 Nov 2026 12:00:"
    with pytest.raises(StorageUnavailableError, match="truncated") as raised, client._sdk("h", "k"):
        parser._handle_timestamp(None, cut_date)
    assert raised.value.operation == "h"
    with pytest.raises(StorageUnavailableError, match="ContentLength"), client._sdk("h", "k"):
        empty["ContentLength"]
    with pytest.raises(StorageUnavailableError), client._sdk("list_blobs"):
        raise ResponseParserError("bad xml")


def test_our_own_value_errors_pass_through_unmapped() -> None:
    client = make_client()
    with pytest.raises(ValueError, match="mine"), client._sdk("upload_file", "k"):
        raise ValueError("mine")


def test_legacy_key_reads_are_opt_in_and_writes_keep_the_common_rule() -> None:
    """read_legacy_keys lets reads through with S3's own key rule; uploads never."""
    client = make_client(read_legacy_keys=True)
    sent: list[object] = []
    client._client.meta.events.register("before-send.s3", lambda **kw: sent.append(kw))
    with pytest.raises(InvalidBlobNameError):
        client.upload_file("exports/2024/", b"x")
    assert sent == []
    with pytest.raises(StorageUnavailableError):
        client.head_object("exports/2024/")  # passed validation and reached the closed port
    assert len(sent) == 1
