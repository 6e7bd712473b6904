"""The real S3 server of the test suite: Ceph RADOS Gateway on loopback (scripts/s3-start).

``scripts/test`` starts it before pytest and exports its endpoint and credentials; this module
reads them. Where the server could not be installed or started, ``scripts/test`` exports
``KHOLUU_S3_SKIP_REASON`` and the S3 tests skip with that reason printed (``-ra``). Running
pytest by hand without the server skips them the same way, naming the command that starts it.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
S3_START = ROOT / "scripts" / "s3-start"
S3_STOP = ROOT / "scripts" / "s3-stop"


def s3_problem() -> str | None:
    """Why the S3 tests cannot run, or None."""
    if os.environ.get("S3_ENDPOINT_URL"):
        return None
    return os.environ.get("KHOLUU_S3_SKIP_REASON") or (
        'no S3 server: run the suite with scripts/test, or eval "$(scripts/s3-start)" first'
    )


def require_s3() -> str:
    problem = s3_problem()
    if problem:
        pytest.skip(reason=f"S3 test server unavailable: {problem}")
    return os.environ["S3_ENDPOINT_URL"]


def client() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=require_s3(),
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def new_bucket(s3: Any, *, object_lock: bool = False) -> str:
    """A fresh bucket (object-locked buckets cannot be emptied, so every test gets its own)."""
    name = f"t-{uuid.uuid4().hex[:16]}"
    if object_lock:
        s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    else:
        s3.create_bucket(Bucket=name)
    return name


def empty_and_delete(s3: Any, bucket: str) -> None:
    """Remove every version, delete marker and unfinished upload, then the bucket; locked
    objects make this fail, which is fine for a throwaway test bucket."""
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        for upload in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
        s3.delete_bucket(Bucket=bucket)
    except Exception:  # cleanup of a throwaway bucket must not hide the test's own result
        pass


def location_toml(
    name: str, bucket: str, *, required: bool = True, role: str = "replica", extra: str = ""
) -> str:
    """A ``[[storage.locations]]`` entry for the test server (credentials come from the environment)."""
    return (
        f'[[storage.locations]]\nname = "{name}"\nrole = "{role}"\nbackend = "s3"\n'
        f'endpoint = "{require_s3()}"\nbucket = "{bucket}"\nprefix = "kholuu"\n'
        f"required = {'true' if required else 'false'}\ncreate_bucket = true\n"
        f"connect_timeout = 2.0\nread_timeout = 20.0\nmax_attempts = 2\n{extra}"
    )


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    env["S3_DIR"] = os.environ.get("KHOLUU_TEST_S3_DIR", "/tmp/kholuu-s3")
    env["SKIP_APT"] = "1"
    return env


_held: IO[str] | None = None


@contextmanager
def gateway_shared() -> Iterator[None]:
    """Hold the gateway shared (``flock``) while a test uses it. Tests on parallel workers share
    one S3 server, and :func:`stop_gateway` takes it down: it waits for this lock alone first."""
    global _held
    path = Path(_script_env()["S3_DIR"] + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        _held = handle
        try:
            yield
        finally:
            _held = None  # closing the file releases the lock


def stop_gateway() -> None:
    """Stop radosgw only (monitor and OSD keep the data): S3 is 'down'. Waits until no S3 test of
    another worker is running, and keeps them waiting until :func:`start_gateway`."""
    if _held is not None:
        fcntl.flock(_held, fcntl.LOCK_EX)
    subprocess.run(
        [str(S3_STOP), "--rgw-only"], check=True, capture_output=True, timeout=60, env=_script_env()
    )


def start_gateway() -> None:
    """Start radosgw again on the same data; other workers' S3 tests may go on. Tried twice: on a
    loaded machine the first start can miss its readiness wait."""
    for attempt in (1, 2):
        started = subprocess.run(
            [str(S3_START)], capture_output=True, text=True, timeout=120, env=_script_env()
        )
        if started.returncode == 0:
            break
        if attempt == 2:
            raise subprocess.CalledProcessError(started.returncode, S3_START, started.stdout, started.stderr)
        time.sleep(2)
    if _held is not None:
        fcntl.flock(_held, fcntl.LOCK_SH)
