"""The error an ingest raises when it cannot start as asked.

A submission refused for what it holds is a refused job (``ingest.*`` error records) or a
:class:`preservation.errors.InvalidPackageError`; this is the other case: the request contradicts
the submission, so nothing is read or stored and the operator changes the request (exit 2, HTTP
400). Its own module so that every ingest module, and the entry points, can name it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from preservation.errors import ErrorKind, KholuuError


class IngestRequestError(KholuuError):
    """The ingest was asked for something the submission cannot give: a transfer or
    ``--supersedes`` that names one hồ sơ for a legacy export of several
    (``conversion.transfer_many``, ``conversion.supersedes_many``). Nothing was ingested."""

    code = "ingest.request_invalid"
    kind = ErrorKind.USAGE

    def __init__(self, code: str, message: str, *, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message, code=code, params=params)


__all__ = ["IngestRequestError"]
