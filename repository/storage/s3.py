"""The S3 backend: the :class:`~repository.storage.backend.Backend` contract on S3-compatible storage.

Only the ``s3*`` modules import boto3 (issue 3). What an object store gives and what it does not shaped it:

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

The settings and the client are in :mod:`repository.storage.s3_options`, the requests and their
error translation in :mod:`repository.storage.s3_requests`, the verified uploads and copies in
:mod:`repository.storage.s3_uploads`; this module is the backend contract itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC
from typing import BinaryIO

from preservation.fixity import Digests
from repository.storage.backend import KeyStat, check_key, check_move, check_prefix, write_hasher
from repository.storage.errors import NotFound, StorageError
from repository.storage.s3_uploads import S3Uploads, read_part


class S3Backend(S3Uploads):
    """A storage location in an S3 bucket (below an optional key prefix)."""

    def __repr__(self) -> str:
        return f"S3Backend({self.name!r}, {self.url!r})"

    # -- reading ---------------------------------------------------------------------------

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
        first = read_part(source, self.options.part_size)
        if len(first) < self.options.part_size:
            written = self._put_small(key, full, first, hasher, expected)
        else:
            written = self._put_multipart(key, full, first, source, hasher, expected)
        if self.options.readback:
            self._withdrawn_on_failure(key, self._read_back, key, written)
        return written

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


__all__ = ["S3Backend"]
