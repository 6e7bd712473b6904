"""Which backend a storage location uses, chosen by name from config (style guide items 18, 21).

Adding a backend means one module and one ``register_backend`` line (contrast the Storage
Service's seven-file checklist). The registry is an explicit object; the module-level functions
use a default instance that knows the built-in backends, and tests can build their own.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from preservation.errors import ErrorKind
from repository.storage.backend import Backend
from repository.storage.errors import StorageError
from repository.storage.local import LocalBackend

BackendFactory = Callable[[str, Mapping[str, object]], Backend]
"""Builds a backend from the location name and its options (from config)."""

_KIND = re.compile(r"[a-z][a-z0-9_]*")


class BackendRegistry:
    """Backend kinds (``"local"``, later ``"s3"``) and their factories."""

    def __init__(self) -> None:
        self._factories: dict[str, BackendFactory] = {}

    def register(self, kind: str, factory: BackendFactory, *, replace: bool = False) -> None:
        """Add a backend kind; validated now, not when a location first uses it.

        Raises:
            ValueError: bad kind name, not callable, or already registered without ``replace``.
        """
        if not _KIND.fullmatch(kind):
            raise ValueError(f"backend kind {kind!r} must be lower-case letters, digits and '_'")
        if not callable(factory):
            raise ValueError(f"factory for backend kind {kind!r} is not callable")
        if kind in self._factories and not replace:
            raise ValueError(f"backend kind {kind!r} is already registered")
        self._factories[kind] = factory

    def kinds(self) -> list[str]:
        return sorted(self._factories)

    def create(self, kind: str, name: str, options: Mapping[str, object]) -> Backend:
        """Build the backend of one storage location.

        Raises:
            StorageError: ``storage.unknown_backend`` naming the kind (and the known ones), or
                ``storage.bad_option`` from the factory.
        """
        factory = self._factories.get(kind)
        if factory is None:
            raise StorageError(
                f"unknown storage backend {kind!r} for location {name!r} (known: {', '.join(self.kinds())})",
                code="storage.unknown_backend",
                location=name,
                params={"backend": kind, "known": self.kinds()},
            )
        return factory(name, options)


def local_factory(name: str, options: Mapping[str, object]) -> Backend:
    """``local``: option ``path`` (the root folder, required), ``create`` (bool, default False)."""
    unknown = sorted(set(options) - {"path", "create"})
    if unknown:
        raise _bad_option(name, unknown[0], "unknown option for a local backend")
    path = options.get("path")
    if not isinstance(path, str | Path) or str(path) == "":
        raise _bad_option(name, "path", "a local backend needs a non-empty 'path'")
    create = options.get("create", False)
    if not isinstance(create, bool):
        raise _bad_option(name, "create", "must be true or false")
    return LocalBackend(Path(path), name, create=create)


def s3_factory(name: str, options: Mapping[str, object]) -> Backend:
    """``s3``: the fields of :class:`repository.storage.s3_options.S3Options` (``bucket`` required).

    boto3 is imported here, on first use, so that a catalog with only local locations never
    loads it (and only the storage package ever imports it).
    """
    from repository.storage.s3 import S3Backend
    from repository.storage.s3_options import S3Options

    known = {f.name: f for f in dataclasses.fields(S3Options)}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise _bad_option(name, unknown[0], "unknown option for an S3 backend")
    if not isinstance(options.get("bucket"), str) or not options.get("bucket"):
        raise _bad_option(name, "bucket", "an S3 location needs a bucket")
    return S3Backend(name, S3Options(**options))  # type: ignore[arg-type]


def _bad_option(location: str, option: str, reason: str) -> StorageError:
    return StorageError(
        f"storage location {location!r}: option {option!r}: {reason}",
        code="storage.bad_option",
        kind=ErrorKind.USAGE,
        location=location,
        params={"option": option, "reason": reason},
    )


def default_registry() -> BackendRegistry:
    """A registry with the built-in backends."""
    registry = BackendRegistry()
    registry.register("local", local_factory)
    registry.register("s3", s3_factory)
    return registry


_DEFAULT = default_registry()


def register_backend(kind: str, factory: BackendFactory, *, replace: bool = False) -> None:
    """Register a backend kind in the default registry (see :meth:`BackendRegistry.register`)."""
    _DEFAULT.register(kind, factory, replace=replace)


def create_backend(kind: str, name: str, options: Mapping[str, object]) -> Backend:
    """Build a backend from the default registry (see :meth:`BackendRegistry.create`)."""
    return _DEFAULT.create(kind, name, options)
