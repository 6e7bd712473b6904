"""API tokens for machines: ``Authorization: Bearer klu_…`` on ``/api/…``.

A token is 32 random bytes (``secrets.token_urlsafe``) after the prefix ``klu_``, shown once when
it is issued; the catalog keeps its SHA-256 and its first 12 characters (to recognise it in a
list). A token acts as its owner, with the owner's role and agency; it stops working when it is
revoked or its owner is disabled. Tokens do not expire by themselves: revoke those no longer used
(``kholuu token list`` shows when each was last used).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from repository.actor import Actor, Channel
from repository.catalog.accounts import ApiToken
from workflows.accounts.errors import AccountNotFoundError, TokenRefusedError
from workflows.accounts.users import actor_of, find_user

PREFIX = "klu_"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    id: int
    token: str  # shown once; never stored
    login: str
    label: str


def issue_token(session: Session, login: str, label: str, *, now: datetime | None = None) -> IssuedToken:
    user = find_user(session, login)
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        token_hash=token_hash(token),
        prefix=token[:12],
        user=user,
        label=label.strip() or "-",
        created_at=now or datetime.now(UTC),
    )
    session.add(row)
    session.flush()
    return IssuedToken(row.id, token, user.login, row.label)


def revoke_token(session: Session, token_id: int, *, now: datetime | None = None) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None:
        raise AccountNotFoundError(
            f"no API token {token_id}", code="account.token_not_found", params={"id": token_id}
        )
    if row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
    return row


def token_dict(row: ApiToken) -> dict[str, Any]:
    """A token as ``kholuu token list --json`` and ``/users`` show it: its first characters only."""
    return {
        "id": row.id,
        "login": row.user.login,
        "label": row.label,
        "prefix": row.prefix,
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
    }


def list_tokens(session: Session, login: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if login is not None:
        query = query.where(ApiToken.user_id == find_user(session, login).id)
    return list(session.scalars(query))


def authenticate_token(
    session: Session, token: str, *, address: str = "", now: datetime | None = None
) -> Actor:
    """The actor a bearer token stands for (channel ``api``); notes when it was used."""
    row = session.scalars(select(ApiToken).where(ApiToken.token_hash == token_hash(token.strip()))).first()
    if row is None or row.revoked_at is not None or not row.user.active:
        raise TokenRefusedError("unknown or revoked API token, or its owner is disabled")
    row.last_used_at = now or datetime.now(UTC)
    return actor_of(row.user, Channel.API, address)


__all__ = [
    "PREFIX",
    "IssuedToken",
    "authenticate_token",
    "issue_token",
    "list_tokens",
    "revoke_token",
    "token_dict",
    "token_hash",
]
