"""Virus check through ClamAV's daemon, ``clamd``, over its socket (issue 14).

``clamscan`` loads every signature each time it starts: with the official database that is tens
of seconds and about a gigabyte for every ingest. A production archive runs ``clamd``, which keeps
them loaded; this client gives it each file as ``clamdscan --fdpass`` does, by passing the open
file descriptor over the local socket (``FILDES``: the daemon needs no read access to our
quarantine), or, over TCP, by streaming the bytes (``INSTREAM``). Several files are in flight at
once on their own connections, as ``clamdscan --multiscan`` has the daemon's threads scan a
folder's files in parallel.

What a file "not fully scanned" is depends here on the daemon's own configuration: its
``clamd.conf`` must say ``AlertExceedsMax yes`` and ``AlertEncrypted yes`` (docs/operations.md),
as ``clamscan`` is told on its command line, or such a file would come back ``OK``.
"""

from __future__ import annotations

import os
import socket
import struct
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from preservation.errors import ToolError
from preservation.events import Agent
from preservation.tools import ToolRun
from preservation.virus import ScanResult, is_unscanned

CHUNK = 1 << 20
"""Bytes per INSTREAM chunk."""


class Clamd:
    """A running clamd at ``address``: ``unix:/run/clamav/clamd.ctl`` (or a bare path) or
    ``tcp:HOST:PORT``. ``connections`` files are scanned at once."""

    def __init__(self, address: str, *, timeout: float = 3600.0, connections: int = 4) -> None:
        self.address = address
        self.timeout = timeout
        self.connections = max(1, connections)
        self._agent: Agent | None = None

    @property
    def tcp(self) -> tuple[str, int] | None:
        if not self.address.startswith("tcp:"):
            return None
        host, _, port = self.address.removeprefix("tcp:").rpartition(":")
        return host, int(port)

    @property
    def agent(self) -> Agent:
        """The engine and signature versions the daemon reports (``VERSION``), asked once."""
        if self._agent is None:
            reply = self._command(b"zVERSION\0")
            engine, _, signatures = reply.removeprefix("ClamAV ").partition("/")
            self._agent = Agent(
                name="ClamAV",
                version=engine.strip(),
                note=f"clamd at {self.address}; signatures {signatures or 'as loaded by the daemon'}",
            )
        return self._agent

    def scan(self, root: Path) -> ScanResult:
        """Scan every file under ``root``; the same result as :meth:`preservation.virus.ClamAV.scan`.

        Raises:
            ToolError: ``virus.clamd_unavailable`` (no daemon at the address), ``virus.clamd_failed``
                (the daemon reported an error for a file).
        """
        _ = self.agent  # fails early, naming the address, when no daemon answers
        infected: dict[str, str] = {}
        unscanned: dict[str, str] = {}
        files = 0
        with ThreadPoolExecutor(max_workers=self.connections, thread_name_prefix="clamd") as pool:
            for rel, reply in pool.map(
                lambda p: (p.relative_to(root).as_posix(), self._scan_file(p)), _walk(root)
            ):
                files += 1
                verdict = reply.rpartition(": ")[2]
                if verdict == "OK":
                    continue
                if verdict.endswith(" FOUND"):
                    signature = verdict.removesuffix(" FOUND")
                    (unscanned if is_unscanned(signature) else infected)[rel] = signature
                    continue
                raise ToolError(
                    f"clamd could not scan {rel}: {reply}",
                    tool="clamd",
                    stderr=reply,
                    code="virus.clamd_failed",
                    path=rel,
                )
        run = ToolRun(
            tool="clamd",
            argv=("clamd", self.address, "INSTREAM" if self.tcp else "FILDES"),
            exit_code=1 if infected or unscanned else 0,
            stdout="",
            stderr="",
        )
        return ScanResult(infected=infected, scanned_files=files, run=run, unscanned=unscanned)

    def _scan_file(self, path: Path) -> str:
        with path.open("rb") as fh, self._connect() as sock:
            if self.tcp is None:
                sock.sendall(b"zFILDES\0")
                socket.send_fds(sock, [b"\0"], [fh.fileno()])
            else:
                sock.sendall(b"zINSTREAM\0")
                while block := fh.read(CHUNK):
                    sock.sendall(struct.pack("!L", len(block)) + block)
                sock.sendall(struct.pack("!L", 0))
            return _reply(sock)

    def _command(self, command: bytes) -> str:
        with self._connect() as sock:
            sock.sendall(command)
            return _reply(sock)

    def _connect(self) -> socket.socket:
        tcp = self.tcp
        try:
            if tcp is not None:
                return socket.create_connection(tcp, timeout=self.timeout)
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(self.timeout)
                sock.connect(self.address.removeprefix("unix:"))
            except OSError:
                sock.close()
                raise
            return sock
        except OSError as exc:
            raise ToolError(
                f"no ClamAV daemon answers at {self.address}: {exc}",
                tool="clamd",
                stderr=f"{self.address}: {exc}",
                code="virus.clamd_unavailable",
            ) from exc


def _reply(sock: socket.socket) -> str:
    """One NUL-terminated reply (the ``z`` form of the commands)."""
    data = bytearray()
    while not data.endswith(b"\0"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.rstrip(b"\0").decode("utf-8", "replace").strip()


def _walk(root: Path) -> Iterator[Path]:
    """Every regular file under ``root``, in a stable order, one folder listing at a time."""
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path
