"""BagIt bags (RFC 8493) as submissions.

bagit-python is the judge of validity: a bag is accepted only when ``Bag.validate()`` passes (every
manifest and tag manifest, completeness, Payload-Oxum). Two things are added. RFC 8493 §2.1.1 is
applied strictly to ``bagit.txt`` (bagit-python accepts ``BagIt-Version : 1.0``, which the LoC
conformance suite lists as invalid). And when a bag fails, we work out which files are at fault —
bagit-python's Payload-Oxum check stops before naming the file, and an archivist needs the name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import bagit

from preservation.errors import ChecksumMismatchError, InvalidPackageError
from preservation.fixity import MultiHasher, iter_blocks
from preservation.names import FileName, nfc
from preservation.package import (
    MetadataFile,
    MetadataRole,
    PackageKind,
    PayloadFile,
    ReceivedFile,
    ReceivedTree,
    Submission,
    SuppliedChecksum,
)

_VERSION_LINE = re.compile(rb"^BagIt-Version: [0-9]+\.[0-9]+$")
_ENCODING_LINE = re.compile(rb"^Tag-File-Character-Encoding: [A-Za-z0-9._-]+$")
_BAG_MARKERS = ("bag-info.txt", "package-info.txt")


def looks_like_bag(tree: ReceivedTree) -> bool:
    """A bag, or something that tries to be one (so it fails as a bag, naming what is missing,
    instead of being ingested as a folder of manifests)."""
    names = {f.name.text for f in tree.files}
    if "bagit.txt" in names:
        return True
    has_data = any(n.startswith("data/") for n in names)
    has_manifest = any(re.fullmatch(r"manifest-[a-z0-9]+\.txt", n) for n in names)
    return has_data and (has_manifest or any(m in names for m in _BAG_MARKERS))


def check_declaration(root: Path) -> None:
    """RFC 8493 §2.1.1: exactly ``BagIt-Version: M.N`` and ``Tag-File-Character-Encoding: ENC``.

    Raises:
        InvalidPackageError: ``bag.missing_declaration`` / ``bag.invalid_declaration`` naming bagit.txt.
    """
    path = root / "bagit.txt"
    if not path.is_file():
        raise InvalidPackageError(
            "bagit.txt is missing: a bag must declare itself (RFC 8493 §2.1.1)",
            code="bag.missing_declaration",
            path="bagit.txt",
        )
    data = path.read_bytes()
    problem = None
    if data.startswith(b"\xef\xbb\xbf"):
        problem = "starts with a byte-order mark"
    else:
        lines = [line for line in re.split(rb"\r\n|\r|\n", data) if line != b""]
        if len(lines) != 2:
            problem = f"has {len(lines)} lines, RFC 8493 §2.1.1 requires exactly 2"
        elif not _VERSION_LINE.match(lines[0]):
            problem = f"first line is {lines[0]!r}, expected 'BagIt-Version: M.N'"
        elif not _ENCODING_LINE.match(lines[1]):
            problem = f"second line is {lines[1]!r}, expected 'Tag-File-Character-Encoding: ENCODING'"
    if problem:
        raise InvalidPackageError(
            f"bagit.txt {problem}",
            code="bag.invalid_declaration",
            path="bagit.txt",
            params={"problem": problem},
        )


def read_bag(tree: ReceivedTree) -> Submission:
    """Validate a bag with bagit-python and split it into payload and tag files.

    Raises:
        InvalidPackageError / ChecksumMismatchError: naming the bad file (``path``) and listing every
            bad file in ``params["problems"]``.
    """
    root = tree.root
    check_declaration(root)
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        raise _from_bag_error(exc, root) from exc
    except UnicodeError as exc:
        raise _not_decodable(exc, root) from exc
    except ValueError as exc:  # a NUL in a manifest path: os.path raises (found by the fuzz run)
        problem = f"a manifest names a path no file system can hold: {exc}"
        raise InvalidPackageError(
            problem, code="bag.invalid", path="manifest", params={"problem": problem}
        ) from exc
    _check_fetch(bag, tree)
    try:
        _check_manifest_lines(root, bag.encoding)
        bag.validate(processes=1)
    except UnicodeError as exc:
        raise _not_decodable(exc, root) from exc
    except (bagit.BagValidationError, bagit.BagError) as exc:
        problems = diagnose(bag, tree)
        if problems:
            raise _problems_error(problems) from exc
        raise _from_bag_error(exc, root) from exc
    return _submission(bag, tree)


def _submission(bag: Any, tree: ReceivedTree) -> Submission:
    payload: list[PayloadFile] = []
    metadata: list[MetadataFile] = []
    uuid_by_name: dict[str, str] = {}
    for f in tree.files:
        if f.name.raw.startswith(b"data/"):
            p = PayloadFile(name=_strip_data(f), path=f.path, digests=f.digests)
            payload.append(p)
            uuid_by_name[f.name.text] = p.uuid
            uuid_by_name.setdefault(f.name.normalized, p.uuid)
        else:
            metadata.append(
                MetadataFile(name=f.name, path=f.path, digests=f.digests, role=MetadataRole.SUBMISSION)
            )
    supplied: list[SuppliedChecksum] = []
    for listed, digests in bag.entries.items():
        file_uuid = uuid_by_name.get(listed) or uuid_by_name.get(nfc(listed), "")
        source_kind = "manifest" if listed.startswith("data/") else "tagmanifest"
        for algorithm, value in digests.items():
            supplied.append(
                SuppliedChecksum(
                    file_uuid=file_uuid if listed.startswith("data/") else "",
                    path=listed,
                    algorithm=algorithm,
                    value=value.lower(),
                    source=f"{source_kind}-{algorithm}.txt",
                )
            )
    info: list[tuple[str, str]] = []
    for key, value in bag.info.items():
        for v in value if isinstance(value, list) else [value]:
            info.append((key, " ".join(str(v).split())))
    label = _first(bag.info.get("External-Identifier")) or tree.source_name
    return Submission(
        kind=PackageKind.BAGIT,
        tree=tree,
        payload=tuple(sorted(payload, key=lambda p: (p.representation, p.name.raw))),
        metadata=tuple(metadata),
        supplied=tuple(supplied),
        label=label,
        info=tuple(info),
    )


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return str(value) if value else ""


def _strip_data(f: ReceivedFile) -> FileName:
    return FileName(f.name.raw[len(b"data/") :])


def _check_fetch(bag: Any, tree: ReceivedTree) -> None:
    present = {f.name.text for f in tree.files} | {f.name.normalized for f in tree.files}
    try:
        entries = list(bag.fetch_entries())
    except bagit.BagError as exc:
        raise _from_bag_error(exc, tree.root) from exc
    for _url, _size, filename in entries:
        if filename not in present and nfc(filename) not in present:
            raise InvalidPackageError(
                f"{filename} is listed in fetch.txt but not in the bag; Kho Lưu does not fetch files "
                "from the network: send a complete bag",
                code="bag.fetch_not_supported",
                path=filename,
                params={"fetch": "fetch.txt"},
            )


def diagnose(bag: Any, tree: ReceivedTree) -> list[dict[str, Any]]:
    """Every file at fault in a bag that failed validation: missing, unexpected, or corrupt."""
    on_disk = {f.name.text: f for f in tree.files}
    by_nfc = {f.name.normalized: f for f in tree.files}
    problems: list[dict[str, Any]] = []
    listed: set[str] = set()
    for name, digests in bag.entries.items():
        f = on_disk.get(name) or by_nfc.get(nfc(name))
        if f is None:
            problems.append(
                {
                    "code": "bag.missing_file",
                    "path": name,
                    "message": f"{name} is in a manifest but not in the bag",
                }
            )
            continue
        listed.add(f.name.text)
        found = _digests_of(f, digests.keys())
        for algorithm, expected in digests.items():
            if found[algorithm] != expected.lower():
                problems.append(
                    {
                        "code": "bag.checksum_mismatch",
                        "path": f.name.text,
                        "algorithm": algorithm,
                        "expected": expected.lower(),
                        "found": found[algorithm],
                        "message": f"{f.name.text}: {algorithm} is {found[algorithm]}, "
                        f"the manifest says {expected.lower()}",
                    }
                )
    for name in sorted(on_disk):
        if name.startswith("data/") and name not in listed:
            problems.append(
                {
                    "code": "bag.unexpected_file",
                    "path": name,
                    "message": f"{name} is in the bag but in no manifest",
                }
            )
    return problems


def _digests_of(f: ReceivedFile, algorithms: Iterable[str]) -> dict[str, str]:
    wanted = set(algorithms)
    have = {a: v for a, v in f.digests.values.items() if a in wanted}
    missing = wanted - set(have)
    if missing:
        hasher = MultiHasher(sorted(missing))
        with f.path.open("rb") as fh:
            for block in iter_blocks(fh):
                hasher.update(block)
        have.update(hasher.result().values)
    return have


def _problems_error(problems: list[dict[str, Any]]) -> InvalidPackageError:
    first = problems[0]
    summary = "; ".join(p["message"] for p in problems[:5]) + (
        f" (+{len(problems) - 5} more)" if len(problems) > 5 else ""
    )
    if all(p["code"] == "bag.checksum_mismatch" and p["path"] == first["path"] for p in problems):
        err: InvalidPackageError = ChecksumMismatchError(
            first["path"], first["algorithm"], first["expected"], first["found"], source="bag manifest"
        )
        err.code = "bag.checksum_mismatch"
        err.params["problems"] = problems
        return err
    return InvalidPackageError(
        f"the bag is not valid: {summary}",
        code=first["code"],
        path=first["path"],
        params={"problems": problems, "count": len(problems)},
    )


_PATH_IN_FILE = re.compile(r'Path "(?P<entry>.*)" in (?:manifest )?"(?P<file>[^"]+)" is unsafe')
_LISTS_TWICE = re.compile(r"(?P<alg>\w+) manifest lists (?P<entry>.+?) multiple times")


def _from_bag_error(exc: Exception, root: Path) -> InvalidPackageError:
    text = str(exc)
    m = _PATH_IN_FILE.search(text)
    if m:
        carrier = _relative(m.group("file"), root)
        return InvalidPackageError(
            f"{carrier} lists the unsafe path {m.group('entry')!r}",
            code="bag.unsafe_path",
            path=carrier,
            params={"entry": m.group("entry")},
        )
    m = _LISTS_TWICE.search(text)
    if m:
        return InvalidPackageError(
            f"manifest-{m.group('alg')}.txt lists {m.group('entry')} more than once",
            code="bag.duplicate_manifest_entry",
            path=m.group("entry"),
            params={"manifest": f"manifest-{m.group('alg')}.txt"},
        )
    if "bagit.txt" in text or "Bag version" in text or "Tag-File-Character-Encoding" in text:
        code = "bag.missing_declaration" if "does not exist" in text else "bag.invalid_declaration"
        return InvalidPackageError(
            f"bagit.txt: {text}", code=code, path="bagit.txt", params={"problem": text}
        )
    if "Payload-Oxum" in text:
        return InvalidPackageError(
            f"bag-info.txt Payload-Oxum does not match the payload: {text}",
            code="bag.oxum_mismatch",
            path="bag-info.txt",
            params={"problem": text},
        )
    details = getattr(exc, "details", None) or []
    for d in details:
        path = getattr(d, "path", None)
        if path:
            return InvalidPackageError(
                f"{path}: {d}", code="bag.invalid", path=str(path), params={"problem": str(d)}
            )
    return InvalidPackageError(
        f"not a valid bag: {text}", code="bag.invalid", path="bagit.txt", params={"problem": text}
    )


def _check_manifest_lines(root: Path, encoding: str) -> None:
    """Refuse a manifest line that is not ``checksum path`` (RFC 8493 §2.1.3): bagit-python only
    logs such a line and skips it, so a damaged manifest line was accepted without a word."""
    for manifest in sorted([*root.glob("manifest-*.txt"), *root.glob("tagmanifest-*.txt")]):
        with manifest.open(encoding=encoding) as fh:
            for number, line in enumerate(fh, start=1):
                text = line.strip()
                if text and not text.startswith("#") and len(text.split(None, 1)) != 2:
                    problem = f"{manifest.name} line {number} is not 'checksum path': {text[:80]!r}"
                    raise InvalidPackageError(
                        problem, code="bag.invalid", path=manifest.name, params={"problem": problem}
                    )


def _not_decodable(exc: UnicodeError, root: Path) -> InvalidPackageError:
    """A tag file that is not in the encoding bagit.txt declares (RFC 8493 §2.1.1: a bag-info.txt
    saved in Windows-1258 or TCVN3 by an old system): bagit-python raised a bare UnicodeDecodeError."""
    declared = "UTF-8"
    for line in (root / "bagit.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("Tag-File-Character-Encoding:"):
            declared = line.split(":", 1)[1].strip() or declared
    culprit = "bag-info.txt"
    for tag in sorted(root.glob("*.txt")):
        try:
            tag.read_text(encoding=declared)
        except (UnicodeError, LookupError):
            culprit = tag.name
            break
    problem = f"{culprit} is not in the declared Tag-File-Character-Encoding {declared}: {exc}"
    return InvalidPackageError(problem, code="bag.invalid", path=culprit, params={"problem": problem})


def _relative(path_text: str, root: Path) -> str:
    try:
        return Path(path_text).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path_text).name
