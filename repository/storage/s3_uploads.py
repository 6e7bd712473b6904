"""Writing to S3 with proof: single PUTs and resumable multipart uploads checked against the MD5
we computed (``Content-MD5``, ETags), server-side copies verified, Object Lock retention set.

The writing half of :class:`repository.storage.s3.S3Backend` (see that module for why writes
are shaped this way); apart from the requests it builds on (:mod:`repository.storage.s3_requests`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from preservation.fixity import BLOCK_SIZE, Digests, MultiHasher
from repository.storage.backend import compare_digests, compare_readback
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.s3_options import MAX_COPY_SIZE, MAX_PARTS
from repository.storage.s3_requests import S3Requests


class S3Uploads(S3Requests):
    """Puts, multipart uploads and server-side copies of one S3 location, each verified."""

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
                part, md5 = self._send_part(key, full, upload_id, number, block, done, part_sha256)
                parts.append(part)
                part_md5s.append(md5)
                number += 1
                block = read_part(source, self.options.part_size)
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

    def _send_part(
        self,
        key: str,
        full: str,
        upload_id: str,
        number: int,
        block: bytes,
        done: Mapping[int, tuple[int, str]],
        part_sha256: dict[int, str],
    ) -> tuple[dict[str, Any], bytes]:
        """Upload part ``number`` (unless the resumed upload already holds it with the same size
        and MD5) and check the server's ETag against its MD5; return the part's entry for
        CompleteMultipartUpload and its MD5 (the multipart ETag is the MD5 of the part MD5s)."""
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
                **self._sha256_args(hashlib.sha256(block).digest() if self.options.checksum_sha256 else b""),
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
        return part, md5

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


def read_part(source: BinaryIO, size: int) -> bytes:
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


__all__ = ["S3Uploads", "read_part"]
