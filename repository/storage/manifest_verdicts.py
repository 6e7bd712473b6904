"""Which METS and PREMIS files, byte for byte, were already found to agree with the catalog.

Comparing an AIP's own manifests with the catalog (:mod:`repository.storage.copy_check`) is a pure
function of two things: the bytes of the METS or PREMIS file and the catalog rows of the version.
The bytes are re-read and hashed by every audit anyway; parsing a manifest of thousands of files
again on every audit, when neither its digest nor the catalog changed, cost more than reading the
files it describes (issue 14). So an agreement is remembered under a key made of both (the file's
SHA-512 as this audit verified it, and a digest of the catalog rows), and the next audit that finds
the same key skips the parse. A disagreement is never remembered: it is found again, and reported
again, every time. Losing the folder costs one parse per manifest, nothing else.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

RULES = "1"
"""Changes when the comparison itself changes, so that older agreements no longer count."""


class ManifestVerdicts:
    """Agreements kept as empty files named by their key, in ``folder`` (none kept if None)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @staticmethod
    def catalog_digest(rows: Iterable[tuple[str, str, str, int]]) -> str:
        """One digest of the catalog rows (path, SHA-256, SHA-512, size) a manifest is compared with."""
        digest = hashlib.sha256()
        for path, sha256, sha512, size in sorted(rows):
            digest.update(f"{path}\0{sha256}\0{sha512}\0{size}\n".encode())
        return digest.hexdigest()

    @staticmethod
    def key(kind: str, path: str, sha512: str, catalog: str) -> str:
        """The key of one manifest (``kind`` mets or premis, its logical path, its bytes' SHA-512)
        compared with one catalog state."""
        return hashlib.sha256(f"{RULES}\0{kind}\0{path}\0{sha512}\0{catalog}".encode()).hexdigest()

    def agreed(self, key: str) -> bool:
        return self.folder is not None and self._file(key).exists()

    def remember(self, key: str) -> None:
        """Keep an agreement; a folder that cannot be written only means the next audit parses."""
        if self.folder is None:
            return
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(target, os.O_WRONLY | os.O_CREAT, 0o644))
        except OSError:
            pass

    def _file(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / key


__all__ = ["ManifestVerdicts"]
