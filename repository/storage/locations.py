"""Storage locations from the settings: each a named backend holding an OCFL storage root.

A location is configuration (``[[storage.locations]]``: name, role, backend, required) turned into
objects once, at the entry point. Relative local paths are relative to the data folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repository.settings import Settings, StorageLocation
from repository.storage.backend import Backend
from repository.storage.ocfl import OcflStore
from repository.storage.registry import create_backend


@dataclass(frozen=True)
class Location:
    name: str
    role: str
    required: bool
    backend: Backend
    store: OcflStore
    config: StorageLocation

    def describe(self) -> str:
        """Where the OCFL storage root is, for people (a folder, or later bucket/prefix)."""
        root = getattr(self.backend, "root", None)
        if isinstance(root, Path):
            return str(root / "ocfl-root")
        url = getattr(self.backend, "url", None)
        if isinstance(url, str):
            return f"{url}/ocfl-root"
        return f"{self.config.backend}:{self.name}"


def open_locations(settings: Settings, *, initialize: bool = False) -> list[Location]:
    """Build every configured location; with ``initialize`` create its storage root if needed."""
    out: list[Location] = []
    for loc in settings.storage.locations:
        backend = create_backend(loc.backend, loc.name, backend_options(settings, loc, initialize=initialize))
        store = OcflStore(backend)
        if initialize:
            store.initialize()
        out.append(Location(loc.name, loc.role, loc.required, backend, store, loc))
    return out


def open_location(settings: Settings, name: str) -> Location:
    """One configured location, its local root folder created if needed (``kholuu init``)."""
    (loc,) = [loc for loc in settings.storage.locations if loc.name == name]
    backend = create_backend(loc.backend, loc.name, backend_options(settings, loc, initialize=True))
    return Location(loc.name, loc.role, loc.required, backend, OcflStore(backend), loc)


def backend_options(
    settings: Settings, loc: StorageLocation, *, initialize: bool = False
) -> dict[str, object]:
    """The backend factory's options for a configured location (empty text means unset)."""
    if loc.backend == "local":
        path = settings.path(loc.path or f"storage/{loc.name}")
        return {"path": str(path), "create": initialize or path.is_dir()}
    if loc.backend == "s3":
        options: dict[str, object] = {
            "bucket": loc.bucket,
            "prefix": loc.prefix,
            "endpoint": loc.endpoint or None,
            "region": loc.region,
            "profile": loc.profile or None,
            "credentials_file": loc.credentials_file or None,
            "addressing_style": loc.addressing_style,
            "verify_tls": loc.verify_tls,
            "ca_bundle": loc.ca_bundle or None,
            "part_size": loc.part_size_mb * 1024 * 1024,
            "readback": loc.readback,
            "object_lock_mode": loc.object_lock_mode or None,
            "object_lock_days": loc.object_lock_days,
            "connect_timeout": loc.connect_timeout,
            "read_timeout": loc.read_timeout,
            "max_attempts": loc.max_attempts,
            "create_bucket": loc.create_bucket and initialize,
            "checksum_sha256": loc.checksum_sha256,
        }
        return options
    return {}
