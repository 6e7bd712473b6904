"""A file written whole or not at all: a temporary file beside the target, fsynced, then renamed.

A document the archive issues (a biên bản giao nhận whose SHA-256 the catalog keeps, a fixity
report) must never be left half written where a reader would take it for the real one (style
guide item 7; Luigi ``atomic_file``). The rename is atomic on POSIX when the temporary file is in
the same folder, which is why it is made there and not in ``/tmp``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path


def write_atomic(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out``: a temporary file beside it (created with the umask's
    permissions, never over an existing one), fsync, rename over ``out``. On any failure the
    temporary file is removed and ``out`` is left as it was.

    Raises:
        OSError: the folder is missing or not writable, the disk is full.
    """
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    try:
        with tmp.open("xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


__all__ = ["write_atomic"]
