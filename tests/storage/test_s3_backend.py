"""The S3 backend on a real S3 server (Ceph RGW on loopback): the backend contract, plus what only
S3 shows: multipart uploads with Content-MD5 on every part, an upload cut off by a crash that
stays invisible and is resumed, transfer corruption caught by the server, an unreachable
endpoint reported as unavailable (never as damage), wrong credentials, and Object Lock."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest

from repository.storage.errors import BackendUnavailable, IntegrityError, StorageError
from repository.storage.s3 import S3Backend
from repository.storage.s3_options import MIB, S3Options
from tests import s3 as s3test
from tests.storage.backend_contract import BackendContract, payload, put, read


@pytest.fixture(scope="module")
def client() -> Any:
    return s3test.client()


@pytest.fixture
def bucket(client: Any) -> Iterator[str]:
    name = s3test.new_bucket(client)
    yield name
    s3test.empty_and_delete(client, name)


def make_backend(bucket: str, **options: Any) -> S3Backend:
    opts = {"prefix": "loc", "endpoint": s3test.require_s3(), "part_size": 5 * MIB, **options}
    return S3Backend("s3test", S3Options(bucket=bucket, **opts))


@pytest.fixture
def backend(bucket: str) -> S3Backend:
    return make_backend(bucket)


@pytest.fixture
def record_moves(backend: S3Backend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every server-side copy ``move_prefix`` makes, as the destination key, in order."""
    steps: list[str] = []
    real = backend._copy

    def recording(src: str, dst: str) -> None:
        real(src, dst)
        steps.append(dst)

    monkeypatch.setattr(backend, "_copy", recording)
    return steps


class TestS3BackendContract(BackendContract):
    """The shared contract, on a bucket prefix of the real server."""


def test_keys_live_under_the_location_prefix(backend: S3Backend, client: Any, bucket: str) -> None:
    put(backend, "ocfl-root/0=ocfl_1.1", b"ocfl_1.1\n")
    listed = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert listed == ["loc/ocfl-root/0=ocfl_1.1"]


def test_large_object_goes_up_in_parts_each_checked_by_md5(
    backend: S3Backend, client: Any, bucket: str
) -> None:
    content = payload(11 * MIB + 3)  # 3 parts of 5 MiB, 5 MiB, 1 MiB + 3
    sent: list[dict[str, Any]] = []
    real = backend.client.upload_part

    def spy(**kwargs: Any) -> Any:
        sent.append({k: v for k, v in kwargs.items() if k != "Body"})
        return real(**kwargs)

    backend.client.upload_part = spy
    digests = put(backend, "big.bin", content)
    assert digests["sha256"] == hashlib.sha256(content).hexdigest()
    assert [p["PartNumber"] for p in sent] == [1, 2, 3]
    assert all(p["ContentMD5"] for p in sent)
    head = client.head_object(Bucket=bucket, Key="loc/big.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert read(backend, "big.bin") == content
    assert (backend.server_checksum("big.bin") or "").startswith("s3-multipart-etag:")
    assert backend.incomplete_uploads() == []


def test_small_object_carries_content_md5_and_etag_is_checked(backend: S3Backend) -> None:
    put(backend, "small.txt", b"Bi\xc3\xaan b\xe1\xba\xa3n giao nh\xe1\xba\xadn")
    assert (
        backend.server_checksum("small.txt")
        == "md5:" + hashlib.md5(b"Bi\xc3\xaan b\xe1\xba\xa3n giao nh\xe1\xba\xadn").hexdigest()
    )


def test_bytes_corrupted_in_transit_are_refused_by_the_server(backend: S3Backend) -> None:
    """A body changed after Content-MD5 was computed (a flipped bit on the wire): the server
    answers BadDigest and nothing becomes visible."""

    def corrupt(request: Any, **_: Any) -> None:
        body = request.body
        data = body.getvalue() if hasattr(body, "getvalue") else bytes(body)
        request.data = bytes([data[0] ^ 1]) + data[1:]

    backend.client.meta.events.register("before-sign.s3.PutObject", corrupt)
    with pytest.raises(IntegrityError) as caught:
        put(backend, "flipped.txt", b"original bytes")
    assert caught.value.code == "storage.transfer_corrupted"
    assert backend.stat("flipped.txt") is None


CRASH_SCRIPT = textwrap.dedent(
    """
    import io, os, sys, time
    from repository.storage.s3 import S3Backend
    from repository.storage.s3_options import MIB, S3Options
    from tests.storage.backend_contract import payload

    class Slow(io.RawIOBase):
        def __init__(self, data):
            self.data, self.pos = data, 0
        def readable(self):
            return True
        def readinto(self, buf):
            if self.pos >= 10 * MIB:  # two parts are up: tell the parent, then hang until killed
                print("READY", flush=True)
                time.sleep(600)
            n = min(len(buf), len(self.data) - self.pos)
            buf[:n] = self.data[self.pos:self.pos + n]
            self.pos += n
            return n

    options = S3Options(bucket=sys.argv[1], prefix="loc", endpoint=sys.argv[2], part_size=5 * MIB)
    backend = S3Backend("s3test", options)
    backend.write_atomic("crash/big.bin", io.BufferedReader(Slow(payload(17 * MIB))))
    """
)


def test_crash_mid_multipart_leaves_no_object_and_the_retry_resumes(backend: S3Backend, bucket: str) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", CRASH_SCRIPT, bucket, s3test.require_s3()],
        stdout=subprocess.PIPE,
        cwd=s3test.ROOT,
        env={**os.environ, "PYTHONPATH": str(s3test.ROOT)},
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    line = b""
    while time.monotonic() < deadline and b"READY" not in line:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
    assert b"READY" in line, "the writer never got two parts up"
    time.sleep(1.0)  # let the second part's request finish
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()

    assert backend.stat("crash/big.bin") is None  # nothing visible
    assert list(backend.iter_keys("")) == []
    assert backend.incomplete_uploads() == ["crash/big.bin"]

    uploaded: list[int] = []
    real = backend.client.upload_part

    def spy(**kwargs: Any) -> Any:
        uploaded.append(kwargs["PartNumber"])
        return real(**kwargs)

    backend.client.upload_part = spy
    content = payload(17 * MIB)
    digests = backend.write_atomic("crash/big.bin", io.BytesIO(content))
    assert digests["sha256"] == hashlib.sha256(content).hexdigest()
    assert 1 not in uploaded and 2 not in uploaded  # the parts the crashed writer sent were reused
    assert uploaded == [3, 4]
    assert read(backend, "crash/big.bin") == content
    assert backend.incomplete_uploads() == []


def test_an_unreachable_endpoint_is_unavailable_not_missing(bucket: str) -> None:
    dead = make_backend(bucket, endpoint="http://127.0.0.1:9", connect_timeout=1.0, max_attempts=1)
    for call in (lambda: dead.stat("x"), lambda: put(dead, "x", b"x"), lambda: list(dead.iter_keys(""))):
        with pytest.raises(BackendUnavailable) as caught:
            call()
        assert caught.value.code == "storage.unavailable"
        assert caught.value.location == "s3test"


def test_wrong_credentials_are_named(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    wrong = make_backend(bucket)
    with pytest.raises(StorageError) as caught:
        wrong.check()
    assert caught.value.code in ("storage.access_denied", "storage.no_bucket")
    with pytest.raises(StorageError) as caught:
        put(wrong, "x", b"x")
    assert caught.value.code == "storage.access_denied"


def test_missing_bucket_is_named(client: Any) -> None:
    gone = make_backend("t-never-created-0000")
    with pytest.raises(StorageError) as caught:
        put(gone, "x", b"x")
    assert caught.value.code == "storage.no_bucket"


def test_object_lock_retention_on_published_keys_only(client: Any) -> None:
    bucket = s3test.new_bucket(client, object_lock=True)
    locked = make_backend(bucket, object_lock_mode="GOVERNANCE", object_lock_days=1)
    put(locked, "deposit/job/a.txt", b"staged")
    locked.move_prefix("deposit/job", "ocfl-root/obj")
    head = client.head_object(Bucket=bucket, Key="loc/ocfl-root/obj/a.txt")
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert head["ObjectLockRetainUntilDate"].timestamp() > time.time() + 23 * 3600
    versions = client.list_object_versions(Bucket=bucket, Prefix="loc/ocfl-root/")["Versions"]
    with pytest.raises(Exception, match="AccessDenied"):
        client.delete_object(Bucket=bucket, Key=versions[0]["Key"], VersionId=versions[0]["VersionId"])
    staged = client.list_object_versions(Bucket=bucket, Prefix="loc/deposit/")
    assert all(
        "ObjectLockMode" not in client.head_object(Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"])
        for v in staged.get("Versions", [])
    )
    # GOVERNANCE lets an administrator clean the throwaway bucket
    for page in client.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for v in page.get("Versions", []) + page.get("DeleteMarkers", []):
            client.delete_object(
                Bucket=bucket, Key=v["Key"], VersionId=v["VersionId"], BypassGovernanceRetention=True
            )
    client.delete_bucket(Bucket=bucket)


def test_bad_options_are_refused_before_any_request() -> None:
    for options, option in (
        ({"bucket": ""}, "bucket"),
        ({"bucket": "b", "part_size": MIB}, "part_size"),
        ({"bucket": "b", "object_lock_mode": "FOREVER", "object_lock_days": 1}, "object_lock_mode"),
        ({"bucket": "b", "object_lock_mode": "COMPLIANCE"}, "object_lock_days"),
        ({"bucket": "b", "prefix": "../x"}, "prefix"),
    ):
        with pytest.raises(StorageError) as caught:
            S3Backend("bad", S3Options(**options), client=object())
        assert caught.value.code == "storage.bad_option"
        assert caught.value.params["option"] == option


def test_sha256_checksum_headers_when_asked(bucket: str) -> None:
    """With ``checksum_sha256`` every PUT and part also carries x-amz-checksum-sha256 (Ceph 16
    accepts and ignores it; AWS checks it); the writes still verify by MD5 and read-back."""
    backend = make_backend(bucket, checksum_sha256=True)
    sent: list[str] = []

    def spy(request: Any, **_: Any) -> None:
        value = request.headers.get("x-amz-checksum-sha256", b"")
        sent.append(value.decode() if isinstance(value, bytes) else str(value))

    backend.client.meta.events.register("before-send.s3.PutObject", spy)
    backend.client.meta.events.register("before-send.s3.UploadPart", spy)
    small, big = b"nh\xe1\xbb\x8f", payload(6 * MIB)
    put(backend, "small", small)
    put(backend, "big", big)
    assert read(backend, "small") == small and read(backend, "big") == big
    expected = [
        hashlib.sha256(small).digest(),
        hashlib.sha256(big[: 5 * MIB]).digest(),
        hashlib.sha256(big[5 * MIB :]).digest(),
    ]
    assert sent == [base64.b64encode(d).decode() for d in expected]


def test_credentials_from_a_profile_in_a_credentials_file(
    bucket: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[archive]\naws_access_key_id = {os.environ['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {os.environ['AWS_SECRET_ACCESS_KEY']}\n"
    )
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with_profile = make_backend(bucket, profile="archive", credentials_file=str(creds))
    put(with_profile, "x.txt", b"x")
    assert read(with_profile, "x.txt") == b"x"
    without = make_backend(bucket)
    with pytest.raises(StorageError) as caught:
        without.stat("x.txt")
    assert caught.value.code == "storage.no_credentials"
