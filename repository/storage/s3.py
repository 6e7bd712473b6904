"""The S3 backend: the :class:`~repository.storage.backend.Backend` contract on S3-compatible storage.

Only this module imports boto3 (issue 3). What an object store gives and what it does not shaped it:

* A PUT, and the completion of a multipart upload, is atomic: readers see the old object or the
  whole new one, never a part. So there are no temporary keys; a multipart upload that never
  completes is invisible (and is resumed by the next write of the same key).
* The server validates ``Content-MD5`` (on every PUT and every part) and the SigV4 payload hash,
  but Ceph 16 silently ignores the newer SHA-256 "flexible checksum" headers
  (../shared/docs/s3-test-server.md). So every request carries Content-MD5, the ETag the server
  returns is compared with the MD5 we computed (for multipart: the MD5 of the part MD5s, ``-N``),
  and, unless the location turns it off, the object is read back and hashed again before
  ``write_atomic`` returns. The SHA-256 and SHA-512 live in our own manifests.
* Expected digests are compared before the object becomes visible: a small object is buffered
  (at most one part) and checked before its PUT; a multipart upload is checked before it is
  completed, and aborted on a mismatch.
* Memory is bounded by one part (``part_size``), whatever the file size.
* There is no rename: ``move_prefix`` copies on the server, verifies each copy, and deletes the
  source keys afterwards.
"""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, TypeVar

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
)

from preservation.errors import ErrorKind
from preservation.fixity import BLOCK_SIZE, Digests, MultiHasher
from repository.storage.backend import (
    KeyStat,
    check_key,
    check_move,
    check_prefix,
    compare_digests,
    compare_readback,
    write_hasher,
)
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError

MIB = 1024 * 1024
MIN_PART_SIZE = 5 * MIB
"""S3's smallest part (all but the last)."""
MAX_COPY_SIZE = 5 * 1024 * MIB
"""Largest object one CopyObject request may copy; bigger ones are copied part by part."""
MAX_PARTS = 10_000
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")

_T = TypeVar("_T")

_UNAVAILABLE_CODES = frozenset(
    {"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout", "503", "500", "502", "504"}
)
_DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AllAccessDisabled"}
)


@dataclass(frozen=True)
class S3Options:
    """One S3 location's settings (``[[storage.locations]]`` with ``backend = "s3"``).

    Attributes:
        bucket: the bucket; it must exist unless ``create_bucket``.
        prefix: key folder inside the bucket that plays the role of the backend's root.
        endpoint: URL of the S3 service (None: AWS).
        region: signing region; Ceph ignores it, AWS needs it.
        profile: a profile of the credentials file; None: the environment's credentials
            (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``) or the default profile.
        credentials_file: a credentials file other than ``~/.aws/credentials``.
        addressing_style: ``path`` (works everywhere, needs no wildcard DNS) or ``virtual``.
        verify_tls: check the server's TLS certificate (on by default; off only for tests).
        ca_bundle: a CA bundle file for a private certificate authority.
        part_size: bytes per multipart part; also the largest object sent in one PUT.
        readback: read every written object back and hash it before the write counts.
        object_lock_mode: ``GOVERNANCE`` or ``COMPLIANCE`` retention (WORM) on objects under
            ``lock_prefix``; the bucket must have Object Lock enabled.
        object_lock_days: retention period from the time of writing.
        lock_prefix: key folder whose objects get the retention (the OCFL storage root; staging
            keys are deleted after publication and must not be locked).
        connect_timeout, read_timeout: seconds before a request counts as failed.
        max_attempts: tries per request (botocore's standard retry mode, with backoff).
        create_bucket: create the bucket when it does not exist (tests, first set-up).
        checksum_sha256: also send the SHA-256 "flexible checksum" headers (``x-amz-checksum-sha256``)
            on every PUT and part, for servers that check them (AWS, recent MinIO and Ceph). Off by
            default: Ceph 16 accepts and ignores them, so they prove nothing there; Content-MD5 and
            read-back are what every write relies on.
    """

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str = "us-east-1"
    profile: str | None = None
    credentials_file: str | None = None
    addressing_style: str = "path"
    verify_tls: bool = True
    ca_bundle: str | None = None
    part_size: int = 16 * MIB
    readback: bool = True
    object_lock_mode: str | None = None
    object_lock_days: int = 0
    lock_prefix: str = "ocfl-root"
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 4
    create_bucket: bool = False
    checksum_sha256: bool = False


def validate_options(name: str, options: S3Options) -> None:
    """Refuse settings that cannot work, naming the option (before any request is made)."""
    problems: list[tuple[str, str]] = []
    if not options.bucket:
        problems.append(("bucket", "an S3 location needs a bucket"))
    if options.part_size < MIN_PART_SIZE:
        problems.append(("part_size", f"must be at least {MIN_PART_SIZE} bytes (S3's smallest part)"))
    if options.addressing_style not in ("path", "virtual", "auto"):
        problems.append(("addressing_style", "must be path, virtual or auto"))
    if options.object_lock_mode is not None and options.object_lock_mode not in LOCK_MODES:
        problems.append(("object_lock_mode", "must be GOVERNANCE or COMPLIANCE"))
    if options.object_lock_mode is not None and options.object_lock_days <= 0:
        problems.append(("object_lock_days", "a retention mode needs a positive number of days"))
    if options.prefix:
        try:
            check_prefix(options.prefix, location=name)
        except StorageError:
            problems.append(("prefix", "not a safe key folder"))
    if problems:
        option, reason = problems[0]
        raise StorageError(
            f"storage location {name!r}: option {option!r}: {reason}",
            code="storage.bad_option",
            kind=ErrorKind.USAGE,
            location=name,
            params={"option": option, "reason": reason},
        )


class S3Backend:
    """A storage location in an S3 bucket (below an optional key prefix)."""

    def __init__(self, name: str, options: S3Options, *, client: Any | None = None) -> None:
        validate_options(name, options)
        self.name = name
        self.options = options
        self.bucket = options.bucket
        self._root = check_prefix(options.prefix, location=name) if options.prefix else ""
        self._client = client
        self._lock_prefix = self._full(options.lock_prefix) + "/" if options.lock_prefix else ""
        if options.create_bucket:
            self._ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Backend({self.name!r}, {self.url!r})"

    @property
    def client(self) -> Any:
        """The boto3 client, made on first use: a profile missing from this process's credentials
        file (cron and systemd read another user's home) is then a ``storage.no_credentials``
        :class:`BackendUnavailable` at the first request, which an ingest queues, not a crash
        while the locations are opened."""
        if self._client is None:
            try:
                self._client = _make_client(self.options)
            except ProfileNotFound as exc:
                raise self._no_credentials(exc) from exc
        return self._client

    def credentials_method(self) -> str | None:
        """Where botocore finds this location's credentials in this process, as botocore names it
        (``env``, ``shared-credentials-file``, ``config-file``, ``iam-role``...), or None: none."""
        return credentials_method(self.options)

    def _no_credentials(self, exc: Exception) -> BackendUnavailable:
        """No credentials in this process: not damage, not a bad setting (they may be in the shell
        that ran ``storage add``), so a BackendUnavailable: an ingest queues the copy."""
        where = (
            f"profile {self.options.profile!r}"
            if self.options.profile
            else "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
        if self.options.credentials_file:
            where += f" in {self.options.credentials_file}"
        return BackendUnavailable(
            f"no S3 credentials for {self.name} in this process (looked for {where}: {exc}); a shell "
            "without AWS_* variables (cron, systemd) needs a profile / credentials_file in the location",
            code="storage.no_credentials",
            location=self.name,
            params={"reason": str(exc), "source": where},
        )

    @property
    def url(self) -> str:
        """Where the backend's root is, for people: ``s3://bucket/prefix`` at the endpoint."""
        where = f"s3://{self.bucket}/{self._root}".rstrip("/")
        return f"{where} ({self.options.endpoint})" if self.options.endpoint else where

    # -- reading ---------------------------------------------------------------------------

    def open_read(self, key: str) -> BinaryIO:
        full = self._full(check_key(key, location=self.name))
        response = self._call(key, self.client.get_object, Bucket=self.bucket, Key=full)
        raw = _BodyReader(response["Body"], self, key)
        return io.BufferedReader(raw, buffer_size=BLOCK_SIZE)

    def stat(self, key: str) -> KeyStat | None:
        full = self._full(check_key(key, location=self.name))
        head = self._head(key, full)
        if head is None:
            return None
        modified = head["LastModified"]
        return KeyStat(key=key, size=int(head["ContentLength"]), modified=modified.astimezone(UTC))

    def iter_keys(self, prefix: str) -> Iterator[str]:
        prefix = check_prefix(prefix, location=self.name)
        folder = self._full(prefix) + "/" if prefix else (self._root + "/" if self._root else "")
        strip = len(self._root) + 1 if self._root else 0
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(prefix, lambda: iter(paginator.paginate(Bucket=self.bucket, Prefix=folder)))
        while True:
            page = self._call(prefix, next, pages, None)
            if page is None:
                return
            for item in page.get("Contents", []):
                yield str(item["Key"])[strip:]

    def server_checksum(self, key: str) -> str | None:
        """``md5:<hex>`` from the ETag of an object written in one PUT; the multipart ETag (an MD5
        of part MD5s) is labelled ``s3-multipart-etag``."""
        full = self._full(check_key(key, location=self.name))
        head = self._head(key, full)
        if head is None:
            raise NotFound(f"no such key {key}", key=key, location=self.name)
        etag = str(head["ETag"]).strip('"')
        return f"s3-multipart-etag:{etag}" if "-" in etag else f"md5:{etag}"

    def check(self) -> None:
        """Make one request to prove the bucket answers with these credentials."""
        self._call("", self.client.head_bucket, Bucket=self.bucket)

    def incomplete_uploads(self) -> list[str]:
        """Keys of multipart uploads begun and never completed or aborted (a crash, a network drop).
        They are invisible; the next write of the same key resumes one."""
        strip = len(self._root) + 1 if self._root else 0
        folder = self._root + "/" if self._root else ""
        out: list[str] = []
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in self._call("", lambda: list(paginator.paginate(Bucket=self.bucket, Prefix=folder))):
            out.extend(str(u["Key"])[strip:] for u in page.get("Uploads", []))
        return out

    # -- writing ---------------------------------------------------------------------------

    def write_atomic(
        self, key: str, source: BinaryIO, *, expected: Mapping[str, str] | None = None
    ) -> Digests:
        full = self._full(check_key(key, location=self.name))
        hasher = write_hasher(expected, key=key, location=self.name)
        first = _read_part(source, self.options.part_size)
        if len(first) < self.options.part_size:
            written = self._put_small(key, full, first, hasher, expected)
        else:
            written = self._put_multipart(key, full, first, source, hasher, expected)
        if self.options.readback:
            self._withdrawn_on_failure(key, self._read_back, key, written)
        return written

    def _withdrawn_on_failure(self, key: str, check: Any, *args: Any) -> None:
        """Run a check of an object that is already visible; if it fails, remove the object (on a
        versioned bucket the previous version stays) so that no unverified bytes stay under ``key``."""
        try:
            check(*args)
        except IntegrityError:
            try:
                self.delete(key)
            except StorageError:
                pass  # the IntegrityError is what the caller must see
            raise

    def delete(self, key: str) -> None:
        full = self._full(check_key(key, location=self.name))
        self._call(key, self.client.delete_object, Bucket=self.bucket, Key=full)

    def delete_prefix(self, prefix: str) -> int:
        prefix = check_prefix(prefix, location=self.name, allow_root=False)
        keys = list(self.iter_keys(prefix))
        for start in range(0, len(keys), 1000):
            batch = [{"Key": self._full(k)} for k in keys[start : start + 1000]]
            response = self._call(
                prefix,
                self.client.delete_objects,
                Bucket=self.bucket,
                Delete={"Objects": batch, "Quiet": True},
            )
            errors = response.get("Errors") or []
            if errors:
                first = errors[0]
                raise StorageError(
                    f"could not delete {first.get('Key')}: {first.get('Code')} {first.get('Message')}",
                    code="storage.delete_failed",
                    key=str(first.get("Key", prefix)),
                    location=self.name,
                    params={"reason": str(first.get("Code"))},
                )
        return len(keys)

    def move_prefix(self, src: str, dst: str, *, last: Sequence[str] = ()) -> None:
        src, dst = check_move(src, dst, location=self.name)
        keys = list(self.iter_keys(src))
        if not keys:
            raise NotFound(f"nothing to move under {src}", key=src, location=self.name)
        relative = [k[len(src) + 1 :] for k in keys]
        missing = [name for name in last if name not in relative]
        if missing:
            raise NotFound(
                f"{src}/{missing[0]} does not exist", key=f"{src}/{missing[0]}", location=self.name
            )
        existing = set(self.iter_keys(dst))
        for rel in relative:
            if rel not in last and f"{dst}/{rel}" in existing:
                raise StorageError(
                    f"{dst}/{rel} already exists",
                    code="storage.exists",
                    key=f"{dst}/{rel}",
                    location=self.name,
                )
        order = [r for r in relative if r not in last] + list(last)
        for rel in order:
            self._copy(f"{src}/{rel}", f"{dst}/{rel}")
        self.delete_prefix(src)

    # -- internals -------------------------------------------------------------------------

    def _full(self, key: str) -> str:
        return f"{self._root}/{key}" if self._root else key

    def _lock_args(self, full: str) -> dict[str, Any]:
        if not self.options.object_lock_mode or not full.startswith(self._lock_prefix):
            return {}
        until = datetime.now(UTC) + timedelta(days=self.options.object_lock_days)
        return {"ObjectLockMode": self.options.object_lock_mode, "ObjectLockRetainUntilDate": until}

    def _sha256_args(self, digest: bytes) -> dict[str, str]:
        return {"ChecksumSHA256": _b64(digest)} if self.options.checksum_sha256 and digest else {}

    def _retain(self, key: str, full: str) -> None:
        """Set the location's Object Lock retention on a key just written or copied. Done as its
        own request because servers differ in whether they honour lock headers on CopyObject
        and CreateMultipartUpload (Ceph 16 ignores them on a copy)."""
        args = self._lock_args(full)
        if not args:
            return
        self._call(
            key,
            self.client.put_object_retention,
            Bucket=self.bucket,
            Key=full,
            Retention={"Mode": args["ObjectLockMode"], "RetainUntilDate": args["ObjectLockRetainUntilDate"]},
        )

    def _put_small(
        self,
        key: str,
        full: str,
        data: bytes,
        hasher: MultiHasher,
        expected: Mapping[str, str] | None,
    ) -> Digests:
        hasher.update(data)
        written = hasher.result()
        if expected:
            compare_digests(written, expected, key=key, location=self.name)
        response = self._call(
            key,
            self.client.put_object,
            Bucket=self.bucket,
            Key=full,
            Body=data,
            ContentLength=len(data),
            ContentMD5=_b64(bytes.fromhex(written["md5"])),
            **self._sha256_args(bytes.fromhex(written["sha256"])),
            **self._lock_args(full),
        )
        self._withdrawn_on_failure(
            key, self._check_etag, key, full, str(response.get("ETag", "")), written["md5"]
        )
        self._retain(key, full)
        return written

    def _put_multipart(
        self,
        key: str,
        full: str,
        first: bytes,
        source: BinaryIO,
        hasher: MultiHasher,
        expected: Mapping[str, str] | None,
    ) -> Digests:
        upload_id, done, part_sha256 = self._resumable_upload(key, full)
        parts: list[dict[str, Any]] = []
        part_md5s: list[bytes] = []
        try:
            block = first
            number = 1
            while block:
                if number > MAX_PARTS:
                    raise StorageError(
                        f"{key} needs more than {MAX_PARTS} parts of {self.options.part_size} bytes",
                        code="storage.too_large",
                        key=key,
                        location=self.name,
                        params={"part_size": self.options.part_size},
                    )
                hasher.update(block)
                md5 = hashlib.md5(block).digest()
                etag = f'"{md5.hex()}"'
                if done.get(number) != (len(block), etag):  # a part of an earlier try is reused only if equal
                    response = self._call(
                        key,
                        self.client.upload_part,
                        Bucket=self.bucket,
                        Key=full,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=block,
                        ContentLength=len(block),
                        ContentMD5=_b64(md5),
                        **self._sha256_args(
                            hashlib.sha256(block).digest() if self.options.checksum_sha256 else b""
                        ),
                    )
                    etag = str(response["ETag"])
                    if response.get("ChecksumSHA256"):
                        part_sha256[number] = str(response["ChecksumSHA256"])
                    if etag.strip('"') != md5.hex():
                        raise IntegrityError(
                            f"part {number} of {key}: server ETag {etag} is not its MD5 {md5.hex()}",
                            code="storage.transfer_corrupted",
                            key=key,
                            location=self.name,
                            algorithm="md5",
                            expected=md5.hex(),
                            found=etag.strip('"'),
                        )
                part: dict[str, Any] = {"PartNumber": number, "ETag": etag}
                if number in part_sha256:
                    part["ChecksumSHA256"] = part_sha256[number]
                parts.append(part)
                part_md5s.append(md5)
                number += 1
                block = _read_part(source, self.options.part_size)
            written = hasher.result()
            if expected:
                compare_digests(written, expected, key=key, location=self.name)
            response = self._call(
                key,
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=full,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BackendUnavailable:
            raise  # the upload stays, invisible, and the next write of this key resumes it
        except BaseException:
            self._abort(full, upload_id)
            raise
        want = f"{hashlib.md5(b''.join(part_md5s)).hexdigest()}-{len(parts)}"
        etag = str(response.get("ETag") or "")
        if not etag.strip('"'):  # Ceph 16 answers CompleteMultipartUpload with an empty ETag
            head = self._head(key, full)
            etag = str(head.get("ETag", "")) if head else ""
        self._withdrawn_on_failure(key, self._check_etag, key, full, etag, want)
        self._retain(key, full)
        return written

    def _resumable_upload(
        self, key: str, full: str
    ) -> tuple[str, dict[int, tuple[int, str]], dict[int, str]]:
        """The upload id to use for ``full``, the parts it already holds (number -> size, ETag) and
        their SHA-256 checksums where the server keeps them.

        An upload left by a crashed or cut-off earlier write of the same key is resumed: its parts
        are reused where size and MD5 match what we send now. Older duplicates are aborted.
        """
        response = self._call(key, self.client.list_multipart_uploads, Bucket=self.bucket, Prefix=full)
        uploads = sorted(
            (u for u in response.get("Uploads", []) if u["Key"] == full), key=lambda u: u["Initiated"]
        )
        for stale in uploads[:-1]:
            self._abort(full, str(stale["UploadId"]))
        if uploads:
            upload_id = str(uploads[-1]["UploadId"])
            done: dict[int, tuple[int, str]] = {}
            checksums: dict[int, str] = {}
            paginator = self.client.get_paginator("list_parts")
            pages = self._call(
                key, lambda: list(paginator.paginate(Bucket=self.bucket, Key=full, UploadId=upload_id))
            )
            for page in pages:
                for part in page.get("Parts", []):
                    done[int(part["PartNumber"])] = (int(part["Size"]), str(part["ETag"]))
                    if part.get("ChecksumSHA256"):
                        checksums[int(part["PartNumber"])] = str(part["ChecksumSHA256"])
            return upload_id, done, checksums
        created = self._call(
            key,
            self.client.create_multipart_upload,
            Bucket=self.bucket,
            Key=full,
            **({"ChecksumAlgorithm": "SHA256"} if self.options.checksum_sha256 else {}),
            **self._lock_args(full),
        )
        return str(created["UploadId"]), {}, {}

    def _abort(self, full: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
        except (BotoCoreError, ClientError):
            pass  # an upload we cannot abort stays invisible; `kholuu storage check` lists it

    def _check_etag(self, key: str, full: str, etag: str, want: str) -> None:
        if etag.strip('"') != want:
            raise IntegrityError(
                f"server ETag of {key} is {etag.strip(chr(34))}, sent bytes give {want}",
                code="storage.transfer_corrupted",
                key=key,
                location=self.name,
                algorithm="md5",
                expected=want,
                found=etag.strip('"'),
            )

    def _read_back(self, key: str, written: Digests) -> None:
        compare_readback(self._digest_of(key, tuple(written.values)), written, key=key, location=self.name)

    def _copy(self, src: str, dst: str) -> None:
        """Server-side copy of one key, verified: the copy's ETag must equal the source's, or the
        copy is read back and compared with the source byte digest by byte digest."""
        src_full, dst_full = self._full(src), self._full(dst)
        head = self._head(src, src_full)
        if head is None:
            raise NotFound(f"{src} vanished during a move", key=src, location=self.name)
        size = int(head["ContentLength"])
        if size <= MAX_COPY_SIZE:
            response = self._call(
                dst,
                self.client.copy_object,
                Bucket=self.bucket,
                Key=dst_full,
                CopySource={"Bucket": self.bucket, "Key": src_full},
                MetadataDirective="COPY",
                **self._lock_args(dst_full),
            )
            new_etag = str(response.get("CopyObjectResult", {}).get("ETag", ""))
        else:
            new_etag = self._copy_multipart(dst, src_full, dst_full, size)
        self._retain(dst, dst_full)
        if new_etag.strip('"') == str(head["ETag"]).strip('"') and "-" not in new_etag:
            return
        want = self._digest_of(src, ("sha256",))
        got = self._digest_of(dst, ("sha256",))
        if got.size != want.size or got["sha256"] != want["sha256"]:
            self.delete(dst)
            raise IntegrityError(
                f"server copy of {src} to {dst} differs (sha256 {got['sha256']}, source {want['sha256']})",
                code="storage.readback_mismatch",
                key=dst,
                location=self.name,
                algorithm="sha256",
                expected=want["sha256"],
                found=got["sha256"],
            )

    def _copy_multipart(self, dst: str, src_full: str, dst_full: str, size: int) -> str:
        part = max(self.options.part_size, -(-size // MAX_PARTS))
        created = self._call(
            dst,
            self.client.create_multipart_upload,
            Bucket=self.bucket,
            Key=dst_full,
            **self._lock_args(dst_full),
        )
        upload_id = str(created["UploadId"])
        parts = []
        try:
            for number, start in enumerate(range(0, size, part), start=1):
                end = min(size, start + part) - 1
                response = self._call(
                    dst,
                    self.client.upload_part_copy,
                    Bucket=self.bucket,
                    Key=dst_full,
                    UploadId=upload_id,
                    PartNumber=number,
                    CopySource={"Bucket": self.bucket, "Key": src_full},
                    CopySourceRange=f"bytes={start}-{end}",
                )
                parts.append({"PartNumber": number, "ETag": response["CopyPartResult"]["ETag"]})
            response = self._call(
                dst,
                self.client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=dst_full,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            self._abort(dst_full, upload_id)
            raise
        return str(response.get("ETag", ""))

    def _digest_of(self, key: str, algorithms: Sequence[str]) -> Digests:
        hasher = MultiHasher(algorithms)
        with self.open_read(key) as fh:
            while block := fh.read(BLOCK_SIZE):
                hasher.update(block)
        return hasher.result()

    def _head(self, key: str, full: str) -> dict[str, Any] | None:
        try:
            return dict(self._call(key, self.client.head_object, Bucket=self.bucket, Key=full))
        except NotFound:
            return None

    def _ensure_bucket(self) -> None:
        try:
            self._call("", self.client.head_bucket, Bucket=self.bucket)
        except NotFound:
            args: dict[str, Any] = {"Bucket": self.bucket}
            if self.options.object_lock_mode:
                args["ObjectLockEnabledForBucket"] = True
            self._call("", self.client.create_bucket, **args)

    def _call(self, key: str, func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """Run one request, translating botocore's failures into our three kinds of error."""
        try:
            return func(*args, **kwargs)
        except (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError) as exc:
            raise BackendUnavailable(
                f"S3 endpoint of {self.name} cannot be reached: {exc}",
                key=key or None,
                location=self.name,
                params={"reason": str(exc)},
            ) from exc
        except NoCredentialsError as exc:
            raise self._no_credentials(exc) from exc
        except ClientError as exc:
            raise self._client_error(exc, key) from exc
        except BotoCoreError as exc:
            raise BackendUnavailable(
                f"S3 request to {self.name} failed: {exc}",
                key=key or None,
                location=self.name,
                params={"reason": str(exc)},
            ) from exc

    def _client_error(self, exc: ClientError, key: str) -> StorageError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        message = str(error.get("Message", "")) or code
        if code in ("NoSuchKey", "404", "NotFound", "NoSuchBucket") or status == 404:
            if code == "NoSuchBucket" or (not key and status == 404):
                return NotFound(
                    f"bucket {self.bucket} does not exist at {self.name}",
                    code="storage.no_bucket",
                    location=self.name,
                    params={"bucket": self.bucket},
                )
            return NotFound(f"no such key {key}", key=key, location=self.name)
        if code == "BadDigest":
            return IntegrityError(
                f"the server received other bytes than were sent for {key} (Content-MD5 mismatch)",
                code="storage.transfer_corrupted",
                key=key,
                location=self.name,
                algorithm="md5",
            )
        if code in _DENIED_CODES or status == 403:
            return StorageError(
                f"S3 refused access to {key or self.bucket} at {self.name}: {message}",
                code="storage.access_denied",
                key=key or None,
                location=self.name,
                params={"reason": message},
            )
        if code in _UNAVAILABLE_CODES or status >= 500:
            return BackendUnavailable(
                f"S3 at {self.name} is unavailable: {message}",
                key=key or None,
                location=self.name,
                params={"reason": message},
            )
        return StorageError(
            f"S3 error at {self.name} for {key or self.bucket}: {code} {message}",
            code="storage.s3_error",
            key=key or None,
            location=self.name,
            params={"reason": f"{code} {message}"},
        )


class _BodyReader(io.RawIOBase):
    """A GET response body as a raw stream whose network failures are BackendUnavailable."""

    def __init__(self, body: Any, backend: S3Backend, key: str) -> None:
        self._body = body
        self._backend = backend
        self._key = key

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._backend._call(self._key, self._body.read, len(view))
        view[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


def _core_session(options: S3Options) -> botocore.session.Session:
    core = botocore.session.Session(profile=options.profile)
    if options.credentials_file:
        core.set_config_variable("credentials_file", options.credentials_file)
    return core


def credentials_method(options: S3Options) -> str | None:
    """Where botocore would find credentials for ``options`` in this process (its provider's
    ``method``), or None when it finds none (or the profile is missing). Makes no request."""
    try:
        found = _core_session(options).get_credentials()
    except (ProfileNotFound, BotoCoreError):
        return None
    return str(found.method) if found is not None else None


def _make_client(options: S3Options) -> Any:
    core = _core_session(options)
    session = boto3.Session(botocore_session=core, region_name=options.region)
    config = Config(
        s3={"addressing_style": options.addressing_style},
        # Ceph 16 and other older servers break on the aws-chunked uploads that newer boto3 sends
        # by default over HTTPS (s3-test-server.md pitfall 8); Content-MD5 is what we rely on.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
        connect_timeout=options.connect_timeout,
        read_timeout=options.read_timeout,
        retries={"max_attempts": options.max_attempts, "mode": "standard"},
        tcp_keepalive=True,
    )
    verify: bool | str = options.ca_bundle or options.verify_tls
    return session.client("s3", endpoint_url=options.endpoint, config=config, verify=verify)


def _read_part(source: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes of ``source`` (less only at its end); the caller's errors propagate."""
    chunks: list[bytes] = []
    remaining = size
    while remaining > 0:
        block = source.read(min(remaining, BLOCK_SIZE))
        if not block:
            break
        chunks.append(block)
        remaining -= len(block)
    return b"".join(chunks)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")
