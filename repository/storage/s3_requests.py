"""Requests to one S3 bucket, with botocore's failures translated into the storage errors.

The base of :class:`repository.storage.s3.S3Backend`: the client (made on first use), the key
prefix, and :meth:`S3Requests._call`, through which every request goes, so that an unreachable
endpoint, missing credentials, a refusal and a missing key each become the one typed error its
callers act on (queue the copy, report the setting, report the damage).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO, TypeVar

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

from preservation.fixity import BLOCK_SIZE, Digests, MultiHasher
from repository.storage.backend import check_key, check_prefix
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.s3_options import S3Options, credentials_method, make_client, validate_options

_T = TypeVar("_T")

_UNAVAILABLE_CODES = frozenset(
    {"ServiceUnavailable", "SlowDown", "InternalError", "RequestTimeout", "503", "500", "502", "504"}
)
_DENIED_CODES = frozenset(
    {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "AllAccessDisabled"}
)


class S3Requests:
    """One S3 location's bucket, key prefix and client, and the requests every part of the
    backend makes (get, head, delete), each through the error translation of :meth:`_call`."""

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

    @property
    def client(self) -> Any:
        """The boto3 client, made on first use: a profile missing from this process's credentials
        file (cron and systemd read another user's home) is then a ``storage.no_credentials``
        :class:`BackendUnavailable` at the first request, which an ingest queues, not a crash
        while the locations are opened."""
        if self._client is None:
            try:
                self._client = make_client(self.options)
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

    def open_read(self, key: str) -> BinaryIO:
        full = self._full(check_key(key, location=self.name))
        response = self._call(key, self.client.get_object, Bucket=self.bucket, Key=full)
        raw = _BodyReader(response["Body"], self, key)
        return io.BufferedReader(raw, buffer_size=BLOCK_SIZE)

    def delete(self, key: str) -> None:
        full = self._full(check_key(key, location=self.name))
        self._call(key, self.client.delete_object, Bucket=self.bucket, Key=full)

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

    def _full(self, key: str) -> str:
        return f"{self._root}/{key}" if self._root else key

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

    def __init__(self, body: Any, backend: S3Requests, key: str) -> None:
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


__all__ = ["S3Requests"]
