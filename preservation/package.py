"""The typed records a submission becomes as it moves through ingest.

``source path`` --quarantine/unpack--> :class:`ReceivedTree` --read--> :class:`Submission`.
The later steps (digests, identification, characterization) add results keyed by
:attr:`PayloadFile.uuid`; the AIP builder takes the submission and those results.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from preservation.findings import Finding
from preservation.fixity import Digests
from preservation.names import FileName


class Container(StrEnum):
    """How the submission arrived."""

    DIRECTORY = "directory"
    ZIP = "zip"
    TAR = "tar"
    TAR_GZ = "tar.gz"


class PackageKind(StrEnum):
    """What the submission is, once unpacked."""

    FOLDER = "folder"
    BAGIT = "bagit"
    EARK_SIP = "eark-sip"


@dataclass(frozen=True)
class ReceivedFile:
    """One regular file as it now sits in quarantine.

    Attributes:
        name: path relative to the tree root, with the exact submitted bytes.
        path: absolute path of the quarantined copy. Its name on disk is ``name.text`` (names that
            are not UTF-8 are stored percent-escaped, see :mod:`preservation.names`).
        digests: size, SHA-256 and SHA-512 computed while the bytes were written into quarantine.
    """

    name: FileName
    path: Path
    digests: Digests


@dataclass(frozen=True)
class ReceivedTree:
    """A submission copied (and unpacked) into quarantine, checked for hostile content.

    Attributes:
        root: the directory the names are relative to. For an archive holding one top-level
            directory and nothing else, that directory.
        container: how it arrived.
        files: every regular file, sorted by ``name.raw``.
        source_name: the name of what was submitted (folder or archive file name), for labels.
        findings: remarks that did not stop the copy (e.g. a link inside the package materialised).
    """

    root: Path
    container: Container
    files: tuple[ReceivedFile, ...]
    source_name: str
    findings: tuple[Finding, ...] = ()

    @property
    def total_bytes(self) -> int:
        return sum(f.digests.size for f in self.files)


class MetadataRole(StrEnum):
    """Where a non-payload file of the submission goes in the AIP."""

    SUBMISSION = "submission"  # the SIP's own packaging files: bag tag files, SIP METS.xml
    DESCRIPTIVE = "descriptive"
    PRESERVATION = "preservation"
    OTHER = "other"
    DOCUMENTATION = "documentation"
    SCHEMA = "schema"


@dataclass(frozen=True)
class PayloadFile:
    """A content file: it goes to ``representations/<representation>/data/<name>`` unchanged.

    Attributes:
        uuid: the file's identifier for PREMIS and the catalog, assigned when the file was read.
        name: path relative to the representation's data folder, exact bytes as submitted.
        path: where the bytes are in quarantine.
        digests: computed on the way into quarantine.
        representation: ``rep1`` for folders and bags; the SIP's own names for E-ARK SIPs.
            A derivative goes to ``<source representation>-<purpose>`` (``rep1-preservation``).
        derived_from: for a derivative made by preservation planning, the uuid of the file it was
            made from (PREMIS derivation relationship, ``has source``); empty for submitted files.
        action: for a derivative, the fingerprint of the policy action that made it
            (:meth:`preservation.planning.model.Action.fingerprint`), so a later policy change can
            tell which derivatives are stale.
    """

    name: FileName
    path: Path
    digests: Digests
    representation: str = "rep1"
    uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    derived_from: str = ""
    action: str = ""

    @property
    def size(self) -> int:
        return self.digests.size


@dataclass(frozen=True)
class MetadataFile:
    """A non-payload file carried into the AIP under ``metadata/`` or ``submission/``.

    Attributes:
        name: path relative to the submission root, exact bytes.
        path: where the bytes are in quarantine.
        digests: computed on the way into quarantine.
        role: which AIP folder it belongs in.
        representation: set when it belongs to one representation (E-ARK SIP rep metadata).
    """

    name: FileName
    path: Path
    digests: Digests
    role: MetadataRole
    representation: str | None = None


@dataclass(frozen=True)
class SuppliedChecksum:
    """A digest that came with the submission, to be verified against our own.

    Attributes:
        file_uuid: the uuid of the :class:`PayloadFile` it is for, or ``""`` when it is for a
            :class:`MetadataFile` (e.g. a bag tag manifest entry).
        path: the path as the carrier listed it (relative to the submission root).
        algorithm: ``md5``, ``sha1``, ``sha256`` or ``sha512``.
        value: lower-case hex.
        source: the file that carried it, e.g. ``manifest-sha256.txt`` or ``representations/rep1/METS.xml``.
    """

    file_uuid: str
    path: str
    algorithm: str
    value: str
    source: str


@dataclass(frozen=True)
class Submission:
    """A received tree, understood: what is payload, what is metadata, which checksums came with it.

    Attributes:
        kind: folder, BagIt bag or E-ARK SIP.
        tree: the quarantined tree it was read from.
        payload: the content files, sorted by representation then name.
        metadata: the non-payload files kept in the AIP.
        supplied: checksums to verify.
        label: a human label (bag ``External-Identifier``/folder name/SIP ``mets/@LABEL``).
        info: submitter-provided key/value metadata (``bag-info.txt`` tags, METS header agents).
        findings: remarks from reading (warnings only; errors raise).
    """

    kind: PackageKind
    tree: ReceivedTree
    payload: tuple[PayloadFile, ...]
    metadata: tuple[MetadataFile, ...]
    supplied: tuple[SuppliedChecksum, ...]
    label: str
    info: tuple[tuple[str, str], ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def representations(self) -> list[str]:
        return sorted({f.representation for f in self.payload})

    @property
    def payload_bytes(self) -> int:
        return sum(f.size for f in self.payload)

    @property
    def originals(self) -> tuple[PayloadFile, ...]:
        """The submitted content files, without the derivatives preservation planning added."""
        return tuple(f for f in self.payload if not f.derived_from)
