"""Verifying the checksums that came with a submission against the bytes we received.

SHA-256 and SHA-512 were computed when the files entered quarantine; MD5 and SHA-1 (older bags and
METS) are computed here, all missing algorithms of one file in one streamed pass. Every check is
returned, matched or not, because each is a PREMIS ``fixity check`` event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from preservation.errors import InvalidPackageError
from preservation.fixity import MultiHasher, iter_blocks
from preservation.names import nfc
from preservation.package import Submission, SuppliedChecksum


@dataclass(frozen=True)
class SuppliedCheck:
    checksum: SuppliedChecksum
    found: str
    ok: bool


def verify_supplied(submission: Submission) -> list[SuppliedCheck]:
    payload = {f.uuid: f for f in submission.payload}
    meta = {m.name.text: m for m in submission.metadata} | {m.name.normalized: m for m in submission.metadata}
    wanted: dict[Path, set[str]] = defaultdict(set)
    known: dict[Path, dict[str, str]] = {}
    targets: list[tuple[SuppliedChecksum, Path]] = []
    for s in submission.supplied:
        target = payload.get(s.file_uuid) if s.file_uuid else meta.get(s.path) or meta.get(nfc(s.path))
        if target is None:
            continue
        known[target.path] = dict(target.digests.values)
        if s.algorithm not in known[target.path]:
            wanted[target.path].add(s.algorithm)
        targets.append((s, target.path))
    for path, algorithms in wanted.items():
        hasher = MultiHasher(sorted(algorithms))
        with path.open("rb") as fh:
            for block in iter_blocks(fh):
                hasher.update(block)
        known[path].update(hasher.result().values)
    return [
        SuppliedCheck(
            checksum=s, found=known[path][s.algorithm], ok=known[path][s.algorithm] == s.value.lower()
        )
        for s, path in targets
    ]


def raise_on_mismatch(checks: Sequence[SuppliedCheck]) -> None:
    """Raises:
    InvalidPackageError: ``fixity.supplied_mismatch`` listing every mismatching file."""
    bad = [c for c in checks if not c.ok]
    if not bad:
        return
    mismatches = [
        {
            "code": "fixity.supplied_mismatch",
            "path": c.checksum.path,
            "algorithm": c.checksum.algorithm,
            "expected": c.checksum.value,
            "found": c.found,
            "source": c.checksum.source,
            "message": f"{c.checksum.path}: {c.checksum.algorithm} {c.found} differs from {c.checksum.value} "
            f"given in {c.checksum.source}",
        }
        for c in bad
    ]
    raise InvalidPackageError(
        f"{len(bad)} file(s) differ from the checksums supplied with the submission: "
        + ", ".join(m["path"] for m in mismatches),
        code="fixity.supplied_mismatch",
        path=mismatches[0]["path"],
        # the text names the first file; every file is in ``mismatches`` (one error record each)
        params={
            **{k: mismatches[0][k] for k in ("algorithm", "expected", "found", "source")},
            "mismatches": mismatches,
            "count": len(bad),
        },
    )
