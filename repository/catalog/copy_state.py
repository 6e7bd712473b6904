"""The true state of an AIP's copies, read from the catalog's copy rows.

A copy row says ``stored`` from the moment it was written and verified; an audit that later finds
damage it cannot repair (no good copy to repair from, or repair off) leaves the row ``stored`` and
records ``check_outcome = "failed"`` and an open incident. Anyone who reports on the holdings (the
fixity report, KPI K5) must therefore not read ``status`` alone: this module is the one rule that
turns a copy row into what an auditor must be told (one row in Python; "a good copy" also as a
SQL condition, for counting in the database).

The storage layer's ``CopySet`` is meant to own this rule (and "an AIP is degraded unless every
required copy is stored"); when it does, these functions should delegate to it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_

from repository.catalog.models import Copy, CopyStatus

FAILED_CHECK = "failed"
"""The audit outcome of a copy whose damage was found and is still there (``Copy.check_outcome``)."""


class CopyState(StrEnum):
    """What a copy is, as an auditor must hear it."""

    STORED = "stored"  # written, verified, and no check since found damage left in it
    DAMAGED = "damaged"  # stored, but its last check found damage that was not repaired
    PENDING = "pending"  # queued: the location could not be reached (or had no credentials)
    FAILED = "failed"  # the write failed


def copy_state(status: CopyStatus | str, check_outcome: str | None) -> CopyState:
    """The state of one copy row (see the module docstring)."""
    status = CopyStatus(status)
    if status is CopyStatus.PENDING:
        return CopyState.PENDING
    if status is CopyStatus.FAILED:
        return CopyState.FAILED
    return CopyState.DAMAGED if check_outcome == FAILED_CHECK else CopyState.STORED


def good_copy_sql() -> Any:
    """True for a copy in state ``stored`` (a copy one may rely on and repair from)."""
    unrepaired = Copy.check_outcome == FAILED_CHECK
    return and_(Copy.status == CopyStatus.STORED, or_(Copy.check_outcome.is_(None), ~unrepaired))


__all__ = ["FAILED_CHECK", "CopyState", "copy_state", "good_copy_sql"]
