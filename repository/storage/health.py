"""Is a storage location usable right now? What ``kholuu storage check`` reports.

A check answers what an operator asks before trusting a location with permanent records: can it
be reached with these settings, is its root the OCFL 1.1 root we laid out, can we write, read
back and delete (a small probe in the staging area, never in the OCFL root), and is there debris
from interrupted work (objects without a root inventory, staging folders, unfinished multipart
uploads on S3). It reads no AIP content: auditing objects is the fixity audit's job.
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from repository.storage.backend import join_key
from repository.storage.errors import StorageError
from repository.storage.locations import Location
from repository.storage.ocfl import DEPOSIT_PREFIX

PROBE_BYTES = 64 * 1024


@dataclass
class LocationHealth:
    name: str
    role: str
    backend: str
    required: bool
    root: str
    ok: bool = True
    reachable: bool = True
    objects: int | None = None
    probe_ms: float | None = None
    problems: list[dict[str, Any]] = field(default_factory=list)
    debris: dict[str, list[str]] = field(default_factory=dict)
    credentials: dict[str, str | None] | None = None
    """S3: ``found`` (where this process finds credentials, None: nowhere) and ``recorded``
    (where ``storage add`` found them); None for a backend without credentials."""

    def problem(self, code: str, message: str, params: Mapping[str, Any] | None = None) -> None:
        """Record a problem with the values its catalog text needs (the CLI renders it)."""
        self.ok = False
        values = {
            k: v if isinstance(v, int | float | bool) or v is None else str(v)
            for k, v in (params or {}).items()
        }
        self.problems.append({"code": code, "message": message, "params": values})

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "backend": self.backend,
            "required": self.required,
            "root": self.root,
            "ok": self.ok,
            "reachable": self.reachable,
            "objects": self.objects,
            "probe_ms": self.probe_ms,
            "problems": self.problems,
            "debris": self.debris,
            "credentials": self.credentials,
        }


def check_location(location: Location, *, count_objects: bool = True) -> LocationHealth:
    """Reachability, root, a write/read/delete probe, and debris; never raises for a bad location."""
    health = LocationHealth(
        name=location.name,
        role=location.role,
        backend=location.config.backend,
        required=location.required,
        root=location.describe(),
    )
    backend = location.backend
    method = getattr(backend, "credentials_method", None)
    if callable(method):
        health.credentials = {"found": method(), "recorded": location.config.credentials_source or None}
    try:
        check = getattr(backend, "check", None)
        if callable(check):
            check()
        location.store.initialize()  # idempotent: creates an empty root, verifies an existing one
    except StorageError as exc:
        health.reachable = exc.code != "storage.unavailable"
        health.problem(exc.code, str(exc), exc.params)
        return health
    probe_key = join_key(DEPOSIT_PREFIX, f"probe-{uuid.uuid4().hex}")
    data = os.urandom(PROBE_BYTES)
    started = time.monotonic()
    try:
        backend.write_atomic(probe_key, io.BytesIO(data))
        with backend.open_read(probe_key) as fh:
            if fh.read() != data:
                health.problem("storage.probe_mismatch", f"the probe read back from {location.name} differs")
        backend.delete(probe_key)
        if backend.stat(probe_key) is not None:
            health.problem(
                "storage.probe_not_deleted", f"the probe could not be deleted from {location.name}"
            )
        health.probe_ms = round((time.monotonic() - started) * 1000, 1)
    except StorageError as exc:
        health.problem(exc.code, f"write/read/delete probe failed: {exc}", exc.params)
        return health
    try:
        health.debris = storage_debris(location)
        if count_objects:
            health.objects = sum(1 for _ in location.store.list_objects())
    except StorageError as exc:
        health.problem(exc.code, str(exc), exc.params)
    return health


def storage_debris(location: Location) -> dict[str, list[str]]:
    """What interrupted work left in a location, by kind (only kinds with something in them):
    ``objects_without_inventory`` (object folders never published), ``staging`` (deposit folders,
    named by the job or ``sync-…`` replication that made them) and ``unfinished_uploads`` (S3).

    Raises:
        StorageError: the location cannot be listed.
    """
    backend = location.backend
    debris: dict[str, list[str]] = {}
    incomplete = location.store.incomplete_objects()
    if incomplete:
        debris["objects_without_inventory"] = incomplete
    deposits = sorted({k.split("/")[1] for k in backend.iter_keys(DEPOSIT_PREFIX) if "/" in k})
    if deposits:
        debris["staging"] = deposits
    uploads = getattr(backend, "incomplete_uploads", None)
    if callable(uploads):
        unfinished = list(uploads())
        if unfinished:
            debris["unfinished_uploads"] = unfinished
    return debris
