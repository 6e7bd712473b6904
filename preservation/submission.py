"""What kind of submission arrived, and reading it into a :class:`Submission`.

Detection is by content: a bag declares itself with ``bagit.txt`` (or tries to, with manifests
around a ``data/`` folder), an E-ARK SIP with a root ``METS.xml`` carrying the CSIP extension; any
other folder is a plain folder whose every file is payload.
"""

from __future__ import annotations

from preservation.bag import looks_like_bag, read_bag
from preservation.eark_sip import is_csip_mets, read_eark_sip
from preservation.errors import InvalidPackageError
from preservation.package import PackageKind, PayloadFile, ReceivedTree, Submission

__all__ = ["detect_kind", "read_folder", "read_submission"]


def detect_kind(tree: ReceivedTree) -> PackageKind:
    if looks_like_bag(tree):
        return PackageKind.BAGIT
    names = {f.name.raw for f in tree.files}
    if b"METS.xml" in names and (
        any(n.startswith(b"representations/") for n in names) or is_csip_mets(tree.root / "METS.xml")
    ):
        return PackageKind.EARK_SIP
    return PackageKind.FOLDER


def read_folder(tree: ReceivedTree) -> Submission:
    payload = tuple(PayloadFile(name=f.name, path=f.path, digests=f.digests) for f in tree.files)
    return Submission(
        kind=PackageKind.FOLDER,
        tree=tree,
        payload=payload,
        metadata=(),
        supplied=(),
        label=tree.source_name,
        findings=tree.findings,
    )


def read_submission(tree: ReceivedTree) -> Submission:
    """Read a quarantined tree.

    Raises:
        InvalidPackageError: ``package.empty`` when there is no file at all, or the reader's error.
    """
    if not tree.files:
        raise InvalidPackageError(
            f"{tree.source_name} holds no file", code="package.empty", path=tree.source_name
        )
    kind = detect_kind(tree)
    if kind is PackageKind.BAGIT:
        submission = read_bag(tree)
    elif kind is PackageKind.EARK_SIP:
        submission = read_eark_sip(tree)
    else:
        submission = read_folder(tree)
    if not submission.payload:
        raise InvalidPackageError(
            f"{tree.source_name} has no payload file to preserve",
            code="package.no_payload",
            path=tree.source_name,
        )
    return submission
