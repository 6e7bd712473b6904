"""The login throttle: refused logins counted per login name and per client address.

Within ``[access] login_window_seconds``, ``login_max_failures`` refused logins for one name, or
``login_max_failures_per_address`` from one address, make every further attempt for that name or
from that address refused *without checking the password*, until the oldest of those failures
leaves the window. Throttled attempts are not counted themselves (they would keep an account
locked for ever by someone who keeps trying). A successful login clears its name's failures, not
its address's. The rows live in the catalog, so several ``kholuu serve`` processes share them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session

from repository.catalog.accounts import LoginFailure
from repository.settings import AccessSettings


def retry_after(session: Session, login: str, address: str, access: AccessSettings, now: datetime) -> int:
    """Seconds until ``login`` from ``address`` may try again; 0 when it may now."""
    window = timedelta(seconds=access.login_window_seconds)
    since = now - window
    waits = [0.0]
    limits: list[tuple[ColumnElement[bool], int]] = [(LoginFailure.login == login, access.login_max_failures)]
    if address:
        limits.append((LoginFailure.address == address, access.login_max_failures_per_address))
    for which, limit in limits:
        recent = select(LoginFailure.at).where(which, LoginFailure.at >= since)
        count = session.scalar(select(func.count()).select_from(recent.subquery())) or 0
        if count >= limit:
            # the failure whose leaving the window brings the count below the limit
            times = session.scalars(recent.order_by(LoginFailure.at).limit(count - limit + 1)).all()
            waits.append((times[-1] + window - now).total_seconds())
    return max(0, int(-(-max(waits) // 1)))


def record_failure(session: Session, login: str, address: str, access: AccessSettings, now: datetime) -> None:
    """Count a refused login, and forget the failures that have left the window."""
    session.add(LoginFailure(login=login[:64], address=address[:64], at=now))
    session.execute(
        delete(LoginFailure).where(LoginFailure.at < now - timedelta(seconds=access.login_window_seconds))
    )


def clear_failures(session: Session, login: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.login == login))


__all__ = ["clear_failures", "record_failure", "retry_after"]
