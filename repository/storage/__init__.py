"""Archival Storage (OAIS): AIPs as OCFL 1.1 objects over a small byte-level backend interface.

* :mod:`.backend`: the :class:`Backend` protocol (keys, atomic verified writes, prefix moves).
* :mod:`.local`: :class:`LocalBackend`, a folder on a local or mounted file system.
* :mod:`.registry`: backends chosen by kind name from config (``"local"``; ``"s3"`` later).
* :mod:`.ocfl`: :class:`OcflStore`, an OCFL storage root (extension 0003) + private deposit area.
* :mod:`.errors`: :class:`StorageError` and its subclasses.

Only this package may import boto3 (style guide item 18; enforced by tests/test_boundaries.py).
"""

from __future__ import annotations

from repository.storage.backend import Backend, KeyStat
from repository.storage.errors import BackendUnavailable, IntegrityError, NotFound, StorageError
from repository.storage.local import LocalBackend
from repository.storage.ocfl import DEPOSIT_PREFIX, ROOT_PREFIX, OcflStore, PutResult, VersionInfo
from repository.storage.registry import BackendRegistry, create_backend, register_backend

__all__ = [
    "DEPOSIT_PREFIX",
    "ROOT_PREFIX",
    "Backend",
    "BackendRegistry",
    "BackendUnavailable",
    "IntegrityError",
    "KeyStat",
    "LocalBackend",
    "NotFound",
    "OcflStore",
    "PutResult",
    "StorageError",
    "VersionInfo",
    "create_backend",
    "register_backend",
]
