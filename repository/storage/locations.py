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
        return f"{self.config.backend}:{self.name}"


def open_locations(settings: Settings, *, initialize: bool = False) -> list[Location]:
    """Build every configured location; with ``initialize`` create its storage root if needed."""
    out: list[Location] = []
    for loc in settings.storage.locations:
        options: dict[str, object] = {}
        if loc.backend == "local":
            options["path"] = str(settings.path(loc.path or f"storage/{loc.name}"))
            options["create"] = initialize or settings.path(loc.path or f"storage/{loc.name}").is_dir()
        backend = create_backend(loc.backend, loc.name, options)
        store = OcflStore(backend)
        if initialize:
            store.initialize()
        out.append(Location(loc.name, loc.role, loc.required, backend, store, loc))
    return out
