"""Exceptions of archival storage.

One base, :class:`StorageError`, for everything ``repository.storage`` raises (style guide item 12).
Every error carries a stable ``code`` (its key in the message catalogs), the ``key`` it is about and
the ``location`` (backend name), so the CLI and web layers can say which copy of what failed
without parsing English text.

The three subclasses exist because callers must act differently on them (style guide item 15):

* :class:`NotFound`: the key is absent. For an audit that can mean a damaged object.
* :class:`IntegrityError`: bytes differ from what they should be (read-back or expected digest).
  The write was not made visible; for a read it means damage.
* :class:`BackendUnavailable`: the storage itself cannot be reached (unmounted disk, I/O error,
  network). That says nothing about the objects: never report it as damage, never repair on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from preservation.errors import ErrorKind, KholuuError


class StorageError(KholuuError):
    """Base of all errors raised by ``repository.storage``.

    Args:
        message: English text for logs; user-facing text comes from the catalogs by ``code``.
        code: stable identifier, e.g. ``"storage.unsafe_key"``.
        key: the key (or prefix, or logical path) the problem is about, if any.
        location: the name of the backend (storage location), if known.
        kind: what to tell the user; a failure unless the class or the raise site says otherwise.
        params: values the catalog text interpolates.
    """

    code = "storage.error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        kind: ErrorKind | None = None,
        key: str | None = None,
        location: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message, code=code, kind=kind, params=params)
        self.key = key
        self.path = key  # what the CLI's JSON error names
        self.location = location
        if key is not None:
            self.params.setdefault("key", key)
        if location is not None:
            self.params.setdefault("location", location)

    def __str__(self) -> str:
        where = [part for part in (self.location, self.key) if part]
        if where and not all(part in self.message for part in where):
            return f"{self.message} ({': '.join(where)})"
        return self.message


class NotFound(StorageError):
    """The key (or object, or logical path) does not exist."""

    code = "storage.not_found"
    kind = ErrorKind.NOT_FOUND


class IntegrityError(StorageError):
    """Stored bytes do not match their digest: after a write (read-back), against an expected
    digest, or against an OCFL inventory. Nothing was made visible by the failed write."""

    code = "storage.integrity"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        key: str | None = None,
        location: str | None = None,
        algorithm: str | None = None,
        expected: str | None = None,
        found: str | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        merged: dict[str, Any] = dict(params or {})
        for name, value in (("algorithm", algorithm), ("expected", expected), ("found", found)):
            if value is not None:
                merged.setdefault(name, value)
        super().__init__(message, code=code, key=key, location=location, params=merged)
        self.algorithm = algorithm
        self.expected = expected
        self.found = found


class BackendUnavailable(StorageError):
    """The storage cannot be reached (root missing or not mounted, I/O error, network failure).

    A check that meets this has the outcome "could not check", never "failed" (style guide item 15).
    """

    code = "storage.unavailable"
    kind = ErrorKind.UNAVAILABLE
