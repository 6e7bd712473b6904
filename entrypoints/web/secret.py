"""The key that signs session cookies and CSRF tokens: ``<data folder>/web-secret.key``.

Made once (64 random bytes, file mode 0600, created exclusively so that two ``kholuu serve``
starting together agree on one key) and read at every start, so that sessions survive a restart
and several processes serving one data folder accept each other's cookies. It is never in the
code or the settings. A key file that others can read is refused: whoever reads it can forge a
session. Deleting the file ends every session at the next start.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from preservation.errors import ErrorKind, KholuuError

SECRET_NAME = "web-secret.key"
SECRET_BYTES = 64


class SecretKeyError(KholuuError):
    """The session key file is readable by others, or too short to be a key."""

    code = "web.secret_key_unsafe"
    kind = ErrorKind.USAGE


def load_secret_key(home: Path) -> bytes:
    path = home / SECRET_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(secrets.token_bytes(SECRET_BYTES))
            out.flush()
            os.fsync(out.fileno())
    mode = stat.S_IMODE(path.stat().st_mode)
    key = path.read_bytes()
    if mode & 0o077 or len(key) < 32:
        raise SecretKeyError(
            f"{path}: the session key must be at least 32 bytes and readable by its owner only "
            f"(mode {mode:04o}); chmod 600 it, or delete it to make a new one",
            params={"path": str(path), "mode": f"{mode:04o}"},
        )
    return key


__all__ = ["SECRET_NAME", "SecretKeyError", "load_secret_key"]
