"""Users: create, list, enable or disable, set a password; log in; the actor behind a session.

Login names are NFC and case-folded (``Lan.Nguyen`` and ``lan.nguyen`` are one account), 2-64
letters, digits and ``. _ - @``. A records officer must name a registered source agency (its mã
định danh); no other role may. Disabling an account ends its sessions and its tokens at their
next request; it is never deleted, because decisions in the catalog name it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from preservation.errors import ErrorKind
from repository.actor import Actor, Channel, Role
from repository.catalog.accounts import UserAccount
from repository.catalog.records_core import find_agency
from repository.settings import AccessSettings
from workflows.accounts.directory import Directory, LocalDirectory
from workflows.accounts.errors import (
    AccountError,
    AccountNotFoundError,
    LoginRefusedError,
    LoginThrottledError,
)
from workflows.accounts.passwords import check_strength, hash_password
from workflows.accounts.throttle import clear_failures, record_failure, retry_after

_LOGIN = re.compile(r"[\w.@-]{2,64}")
STAFF_ROLES = tuple(r for r in Role if r is not Role.PUBLIC)


def fold_login(login: str) -> str:
    """The login name as stored: NFC, trimmed, case-folded."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", login.strip()).casefold())


def _valid_login(login: str) -> str:
    folded = fold_login(login)
    if not _LOGIN.fullmatch(folded):
        raise AccountError(
            f"{login!r} is not a login name (2-64 letters, digits, '.', '_', '-', '@')",
            code="account.bad_login",
            params={"login": login},
        )
    return folded


def find_user(session: Session, login: str) -> UserAccount:
    user = session.scalars(select(UserAccount).where(UserAccount.login == fold_login(login))).first()
    if user is None:
        raise AccountNotFoundError(f"no user {login!r}", params={"login": login})
    return user


def create_user(
    session: Session,
    access: AccessSettings,
    *,
    login: str,
    display_name: str,
    role: Role,
    password: str,
    agency: str = "",
    now: datetime | None = None,
) -> UserAccount:
    """A new active account. Raises :class:`AccountError` (bad name, short password, an agency
    missing or misplaced, the name taken) or the records error of an unknown agency."""
    folded = _valid_login(login)
    if role is Role.PUBLIC:
        raise AccountError("the public has no accounts", code="account.public_role", params={})
    agency = _checked_agency(session, role, agency)
    check_strength(password, access)
    if session.scalars(select(UserAccount.id).where(UserAccount.login == folded)).first() is not None:
        raise AccountError(
            f"the login name {folded!r} is taken", code="account.exists", params={"login": folded}
        )
    at = now or datetime.now(UTC)
    user = UserAccount(
        login=folded,
        display_name=unicodedata.normalize("NFC", display_name.strip()) or folded,
        role=role,
        agency=agency,
        password_hash=hash_password(password, access),
        active=True,
        created_at=at,
        updated_at=at,
        password_changed_at=at,
    )
    session.add(user)
    session.flush()
    return user


def user_dict(u: UserAccount) -> dict[str, Any]:
    """An account as ``kholuu user list --json`` and ``/users`` show it (never its hash)."""
    return {
        "login": u.login,
        "display_name": u.display_name,
        "role": u.role.value,
        "agency": u.agency,
        "active": u.active,
        "created_at": u.created_at.isoformat(),
        "last_login_at": u.last_login_at.isoformat() if u.last_login_at else None,
    }


def list_users(session: Session) -> list[UserAccount]:
    return list(session.scalars(select(UserAccount).order_by(UserAccount.login)))


def _refuse_last_administrator(session: Session, user: UserAccount, change: str) -> None:
    """Refuse a change that would leave the archive with no active administrator: nobody could
    then manage accounts from the web app."""
    if user.role is not Role.ADMINISTRATOR or not user.active:
        return
    others = session.scalars(
        select(UserAccount.id).where(
            UserAccount.role == Role.ADMINISTRATOR, UserAccount.active.is_(True), UserAccount.id != user.id
        )
    ).first()
    if others is None:
        raise AccountError(
            f"{user.login} is the last active administrator: {change} refused",
            code="account.last_administrator",
            kind=ErrorKind.REFUSED,
            params={"login": user.login},
        )


def set_active(
    session: Session,
    login: str,
    active: bool,
    *,
    by: Actor | None = None,
    now: datetime | None = None,
) -> UserAccount:
    """Enable or disable an account. Disabling is refused for the account ``by`` is logged in as
    (``account.self_disable``: an administrator would lock themself out) and for the last active
    administrator (``account.last_administrator``)."""
    user = find_user(session, login)
    if not active and by is not None and by.channel is not Channel.CLI and fold_login(by.name) == user.login:
        raise AccountError(
            f"{user.login} cannot disable their own account",
            code="account.self_disable",
            kind=ErrorKind.REFUSED,
            params={"login": user.login},
        )
    if not active:
        _refuse_last_administrator(session, user, "disabling")
    if user.active != active:
        user.active = active
        user.updated_at = now or datetime.now(UTC)
    return user


def set_role(
    session: Session, login: str, role: Role, *, agency: str = "", now: datetime | None = None
) -> UserAccount:
    """A new role (and, for a records officer, their agency). Refused for the last active
    administrator (``account.last_administrator``); the same agency rules as :func:`create_user`.
    The account's open sessions take the new role at their next request."""
    user = find_user(session, login)
    if role is Role.PUBLIC:
        raise AccountError("the public has no accounts", code="account.public_role", params={})
    agency = _checked_agency(session, role, agency)
    if role is not Role.ADMINISTRATOR:
        _refuse_last_administrator(session, user, "changing the role")
    if (user.role, user.agency) != (role, agency):
        user.role, user.agency = role, agency
        user.updated_at = now or datetime.now(UTC)
    return user


def _checked_agency(session: Session, role: Role, agency: str) -> str:
    """The agency's mã định danh for a records officer; empty for any other role.

    Raises:
        AccountError: ``account.agency_required`` / ``account.agency_not_allowed``.
        RecordsError: the agency is not registered.
    """
    agency = agency.strip()
    if (role is Role.RECORDS_OFFICER) != bool(agency):
        raise AccountError(
            "a records officer, and only a records officer, names an agency",
            code="account.agency_required" if agency == "" else "account.agency_not_allowed",
            params={"role": role.value, "agency": agency},
        )
    return find_agency(session, agency).organ_id if agency else ""


def set_password(
    session: Session, access: AccessSettings, login: str, password: str, *, now: datetime | None = None
) -> UserAccount:
    """A new password; the user's open sessions end (they were opened before it)."""
    user = find_user(session, login)
    check_strength(password, access)
    at = now or datetime.now(UTC)
    user.password_hash = hash_password(password, access)
    user.password_changed_at = user.updated_at = at
    return user


def actor_of(user: UserAccount, channel: Channel, address: str = "") -> Actor:
    return Actor(name=user.login, role=user.role, channel=channel, address=address, agency=user.agency)


@dataclass(frozen=True)
class Login:
    """A successful login: who, and the stamp a session keeps to be refused after a password
    change."""

    actor: Actor
    display_name: str
    stamp: str


def stamp_of(user: UserAccount) -> str:
    return user.password_changed_at.isoformat()


def authenticate(
    session: Session,
    access: AccessSettings,
    login: str,
    password: str,
    *,
    address: str = "",
    channel: Channel = Channel.WEB,
    directory: Directory | None = None,
    now: datetime | None = None,
) -> Login:
    """Check a login, throttled. Raises :class:`LoginThrottledError` (without checking the
    password) or :class:`LoginRefusedError`; the caller commits the session either way, so that
    the failure is counted."""
    at = now or datetime.now(UTC)
    folded = fold_login(login)[:64]
    wait = retry_after(session, folded, address, access, at)
    if wait > 0:
        raise LoginThrottledError(wait)
    user = (directory or LocalDirectory(access)).check(session, folded, password)
    if user is None or not user.active:
        record_failure(session, folded, address, access, at)
        raise LoginRefusedError("wrong login name or password, or the account is disabled")
    clear_failures(session, folded)
    user.last_login_at = at
    return Login(actor_of(user, channel, address), user.display_name, stamp_of(user))


def session_actor(
    session: Session, login: str, stamp: str, *, channel: Channel, address: str
) -> Actor | None:
    """The actor of a web session that logged in as ``login``; None when the account has been
    disabled or its password changed since (``stamp``)."""
    user = session.scalars(select(UserAccount).where(UserAccount.login == login)).first()
    if user is None or not user.active or stamp_of(user) != stamp:
        return None
    return actor_of(user, channel, address)


__all__ = [
    "STAFF_ROLES",
    "Login",
    "actor_of",
    "authenticate",
    "create_user",
    "find_user",
    "fold_login",
    "list_users",
    "session_actor",
    "set_active",
    "set_password",
    "set_role",
    "user_dict",
]
