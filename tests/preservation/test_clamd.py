"""The virus check through a real ClamAV daemon (clamd) with the EICAR test signature
(config/clamav): files passed by descriptor on the local socket, streamed over TCP."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from preservation.clamd import Clamd
from preservation.errors import ToolError
from tests.conftest import TEST_SIGNATURES
from tests.preservation.test_virus import eicar


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """One clamd for the module: (unix address, tcp address)."""
    program = shutil.which("clamd") or "/usr/sbin/clamd"
    if not Path(program).exists():
        pytest.fail("clamd is missing: scripts/bootstrap installs clamav-daemon")
    folder = tmp_path_factory.mktemp("clamd")
    sock, port = folder / "clamd.sock", _free_port()
    (folder / "clamd.conf").write_text(
        f"LocalSocket {sock}\nTCPSocket {port}\nTCPAddr 127.0.0.1\nDatabaseDirectory {TEST_SIGNATURES}\n"
        f"TemporaryDirectory {folder}\nForeground yes\nLogFile {folder / 'clamd.log'}\n"
        "MaxFileSize 1M\nMaxScanSize 1M\nAlertExceedsMax yes\nAlertEncrypted yes\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen([program, "--config-file", str(folder / "clamd.conf")], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (
                    (folder / "clamd.log").read_text(errors="replace")
                    if (folder / "clamd.log").exists()
                    else ""
                )
                pytest.fail(f"clamd did not start: {log[-2000:]}")
            time.sleep(0.1)
        yield f"unix:{sock}", f"tcp:127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _sip(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "eicar.com").write_bytes(eicar())
    (root / unicodedata.normalize("NFD", "Quyết định: số 12.pdf")).write_bytes(b"%PDF-1.4 clean")
    with zipfile.ZipFile(root / "attachments.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("inner/readme.txt", eicar())
    (root / "video.bin").write_bytes(b"\0" * (2 << 20))  # over the daemon's 1 MB limit
    for i in range(20):
        (root / f"clean {i}.txt").write_text(f"sạch {i}")
    return root


@pytest.mark.parametrize("transport", ["unix", "tcp"])
def test_clamd_names_every_infected_and_unscanned_file(
    clamd: tuple[str, str], tmp_path: Path, transport: str
) -> None:
    address = clamd[0] if transport == "unix" else clamd[1]
    result = Clamd(address, connections=3).scan(_sip(tmp_path / "sip"))
    assert result.infected == {
        "sub/eicar.com": "Kholuu.Test.EICAR.UNOFFICIAL",
        "attachments.zip": "Kholuu.Test.EICAR.UNOFFICIAL",
    }
    assert result.unscanned == {"video.bin": "Heuristics.Limits.Exceeded.MaxFileSize"}
    assert result.scanned_files == 24
    assert result.run.exit_code == 1


def test_clamd_agent_names_the_daemon(clamd: tuple[str, str]) -> None:
    agent = Clamd(clamd[0]).agent
    assert agent.name == "ClamAV"
    assert agent.version.startswith("1.")
    assert clamd[0] in agent.note


def test_no_daemon_is_a_coded_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError) as caught:
        Clamd(f"unix:{tmp_path / 'none.sock'}").scan(tmp_path)
    assert caught.value.code == "virus.clamd_unavailable"
