"""SIPs sent from a browser in chunks, and SIPs picked from the transfer folder (docs/web.md).

An upload is a folder ``<home>/uploads/<id>/`` holding ``upload.json`` (name, size, owner, when)
and the SIP's bytes written so far under its own name. The client announces the name and size
(:func:`start_upload`), then sends the bytes in order, each chunk saying where it starts
(:func:`write_chunk`, ``Content-Range`` on the wire). A chunk that does not start where the
server's copy ends is refused with the server's offset, so a client whose connection broke asks
for the offset (:func:`upload_state`) and goes on from there: nothing is sent twice and nothing is
lost. Bytes are streamed to disk in small pieces; a chunk is never held in memory whole.

A finished upload is a SIP file the ingest workflow reads like any other (``kholuu ingest``); the
job removes the upload once the SIP has been read into quarantine. Uploads left unfinished are
removed after ``[web] upload_expiry_hours``.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from preservation.errors import ErrorKind, KholuuError
from repository.settings import Settings

__all__ = [
    "SIP_SUFFIXES",
    "TransferEntry",
    "Upload",
    "UploadError",
    "UploadNotFoundError",
    "UploadOffsetError",
    "claim_upload",
    "discard_upload",
    "expire_uploads",
    "release_upload",
    "start_upload",
    "transfer_entries",
    "transfer_source",
    "upload_state",
    "write_chunk",
]

SIP_SUFFIXES = (".zip", ".tar", ".tar.gz", ".tgz")
"""What a browser may upload: a SIP packed in one file (a folder cannot be sent as one)."""
META = "upload.json"
LOCK = ".lock"
CLAIMED = ".claimed"
"""Marks an upload taken by an ingest job."""
NAME_MAX = 200
"""Longest file name kept, in UTF-8 bytes (file systems stop at 255)."""
PIECE = 1024 * 1024
"""Bytes read from the request and written to disk at a time."""
_ID = re.compile(r"[0-9a-f]{32}")


class UploadError(KholuuError):
    """An upload or a transfer-folder pick the server cannot accept: ``code`` says why."""

    code = "web.upload.bad_name"
    kind = ErrorKind.USAGE


class UploadNotFoundError(KholuuError):
    """No upload with this id (or not one of this user's)."""

    code = "web.upload.not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, upload_id: str) -> None:
        super().__init__(f"no upload {upload_id!r}", params={"id": upload_id})


class UploadOffsetError(KholuuError):
    """A chunk that does not start where the server's copy ends: ``params['offset']`` is where
    the client must go on from."""

    code = "web.upload.offset_mismatch"
    kind = ErrorKind.REFUSED

    def __init__(self, upload_id: str, offset: int, start: int) -> None:
        super().__init__(
            f"upload {upload_id}: chunk starts at {start}, the server has {offset} bytes",
            params={"id": upload_id, "offset": offset, "start": start},
        )


@dataclass(frozen=True)
class Upload:
    upload_id: str
    name: str
    size: int
    owner: str
    started_at: float
    offset: int = 0

    @property
    def complete(self) -> bool:
        return self.offset == self.size


@dataclass(frozen=True)
class TransferEntry:
    name: str
    folder: bool
    size: int


def _root(settings: Settings) -> Path:
    return settings.home / "uploads"


def _folder(settings: Settings, upload_id: str) -> Path:
    if not _ID.fullmatch(upload_id):
        raise UploadNotFoundError(upload_id)
    return _root(settings) / upload_id


def _clean_name(name: str) -> str:
    """The file name alone (a browser may send a path), checked to be a packed SIP."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    try:
        length = len(base.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: no file can have that name
        length = 0
    bad = not 0 < length <= NAME_MAX or base.startswith(".") or "\x00" in base
    if bad or not base.lower().endswith(SIP_SUFFIXES):
        raise UploadError(
            f"{name!r} is not a packed SIP",
            code="web.upload.bad_name",
            params={"name": name, "suffixes": ", ".join(SIP_SUFFIXES)},
        )
    return base


def start_upload(settings: Settings, *, name: str, size: int, owner: str) -> Upload:
    """Make room for a SIP of ``size`` bytes named ``name`` (removing expired uploads first)."""
    clean = _clean_name(name)
    limit = int(settings.web.upload_max_gb * 1e9)
    if size <= 0 or size > limit:
        raise UploadError(
            f"size {size} is not within 1..{limit}",
            code="web.upload.bad_size",
            params={"size": size, "limit": limit},
        )
    expire_uploads(settings)
    upload = Upload(uuid.uuid4().hex, clean, size, owner, time.time())
    folder = _root(settings) / upload.upload_id
    folder.mkdir(parents=True)
    (folder / clean).touch()
    (folder / META).write_text(json.dumps(asdict(upload) | {"offset": None}), encoding="utf-8")
    return upload


def upload_state(settings: Settings, upload_id: str, *, owner: str) -> Upload:
    """The upload with the bytes the server holds (only its owner sees it)."""
    folder = _folder(settings, upload_id)
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UploadNotFoundError(upload_id) from None
    if meta.get("owner") != owner:
        raise UploadNotFoundError(upload_id)
    data = folder / meta["name"]
    offset = data.stat().st_size if data.exists() else 0
    return Upload(upload_id, meta["name"], int(meta["size"]), owner, float(meta["started_at"]), offset)


def write_chunk(
    settings: Settings, upload_id: str, *, owner: str, start: int, length: int, stream: IO[bytes]
) -> Upload:
    """Append ``length`` bytes read from ``stream`` at ``start``, which must be the server's offset.

    A chunk cut short (the connection broke) keeps what arrived: the client asks for the offset
    and sends the rest.
    """
    upload = upload_state(settings, upload_id, owner=owner)
    with _locked(_folder(settings, upload_id)):  # two chunks at once: the second finds the new offset
        upload = upload_state(settings, upload_id, owner=owner)
        if start != upload.offset:
            raise UploadOffsetError(upload_id, upload.offset, start)
        if length < 0 or start + length > upload.size:
            raise UploadError(
                f"chunk {start}+{length} goes past the announced size {upload.size}",
                code="web.upload.past_end",
                params={"start": start, "length": length, "size": upload.size},
            )
        data = _folder(settings, upload_id) / upload.name
        with data.open("ab") as out:
            for piece in _pieces(stream, length):
                out.write(piece)
    return upload_state(settings, upload_id, owner=owner)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with (folder / LOCK).open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _pieces(stream: IO[bytes], length: int) -> Iterator[bytes]:
    left = length
    while left > 0:
        piece = stream.read(min(PIECE, left))
        if not piece:
            return
        left -= len(piece)
        yield piece


def claim_upload(settings: Settings, upload_id: str, *, owner: str) -> Path:
    """The finished upload's SIP file, taken for one ingest: a second claim is refused (two jobs
    must not read one upload, which the first removes). :func:`release_upload` gives it back
    when the ingest could not be queued."""
    upload = upload_state(settings, upload_id, owner=owner)
    if not upload.complete:
        raise UploadError(
            f"upload {upload_id} has {upload.offset} of {upload.size} bytes",
            code="web.upload.incomplete",
            params={"id": upload_id, "offset": upload.offset, "size": upload.size},
        )
    folder = _folder(settings, upload_id)
    with _locked(folder):
        if (folder / CLAIMED).exists():
            raise UploadError(
                f"upload {upload_id} is already being ingested",
                code="web.upload.claimed",
                kind=ErrorKind.REFUSED,
                params={"id": upload_id},
            )
        (folder / CLAIMED).touch()
    return folder / upload.name


def release_upload(settings: Settings, upload_id: str) -> None:
    (_folder(settings, upload_id) / CLAIMED).unlink(missing_ok=True)


def discard_upload(settings: Settings, upload_id: str) -> None:
    shutil.rmtree(_folder(settings, upload_id), ignore_errors=True)


def expire_uploads(settings: Settings, *, now: float | None = None) -> list[str]:
    """Remove uploads untouched for ``[web] upload_expiry_hours``; returns their ids."""
    root = _root(settings)
    if not root.is_dir():
        return []
    cutoff = (now or time.time()) - settings.web.upload_expiry_hours * 3600
    gone = []
    for folder in root.iterdir():
        if not folder.is_dir():
            continue
        touched = max((p.stat().st_mtime for p in folder.iterdir()), default=folder.stat().st_mtime)
        if _ID.fullmatch(folder.name) and touched < cutoff:
            shutil.rmtree(folder, ignore_errors=True)
            gone.append(folder.name)
    return gone


def _transfer_folder(settings: Settings) -> Path:
    raw = settings.web.transfer_folder
    if not raw:
        raise UploadError("no [web] transfer_folder is configured", code="web.transfer.none", params={})
    return settings.path(raw).resolve()


def transfer_entries(settings: Settings) -> list[TransferEntry]:
    """The SIPs at the top of the transfer folder (folders and packed files), by name; none when
    no folder is configured."""
    if not settings.web.transfer_folder:
        return []
    root = _transfer_folder(settings)
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir(), key=lambda p: p.name):
        if p.name.startswith(".") or p.is_symlink():
            continue
        if p.is_dir() or p.name.lower().endswith(SIP_SUFFIXES):
            out.append(TransferEntry(p.name, p.is_dir(), 0 if p.is_dir() else p.stat().st_size))
    return out


def transfer_source(settings: Settings, name: str) -> Path:
    """The SIP ``name`` at the top of the transfer folder; anything else (a path leading out of
    it, a link, a name not listed) is refused."""
    root = _transfer_folder(settings)
    listed = {e.name for e in transfer_entries(settings)}
    candidate = (root / name).resolve() if name else root
    if name not in listed or candidate.parent != root:
        raise UploadError(
            f"{name!r} is not a SIP in the transfer folder",
            code="web.transfer.not_listed",
            params={"name": name},
        )
    return candidate
